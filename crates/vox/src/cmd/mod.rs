//! One module per `vox` subcommand. Each owns its clap arguments and a `run` function.

pub mod dynamics;
pub mod lm;
pub mod model;
pub mod model_opts;
pub mod prefs;
pub mod report;
pub mod survey;
