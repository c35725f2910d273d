//! BuildKit's own test data run against our Dockerfile front end.

mod parser;
mod shell;
