//! BuildKit shell-word expansion (to be written).
