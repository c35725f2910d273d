module beta
