module alpha
