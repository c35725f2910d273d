mod cli;
mod copy;
mod run;
