mod checks;
mod cli;
mod copy;
mod run;
