mod copy;
mod run;
