//! `.dockerignore` matching with BuildKit semantics (to be written).
