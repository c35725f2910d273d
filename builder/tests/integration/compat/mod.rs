mod checks;
mod cli;
mod contexts;
mod copy;
mod run;
