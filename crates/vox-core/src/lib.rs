//! vox's core data model: personas and populations, survey instruments, and answer
//! distributions. This crate does no I/O and calls no language model; other crates read files
//! into these types and fill them with simulated or human answers.
#![deny(missing_docs)]

mod distribution;
mod instrument;
mod persona;

pub use distribution::{Distribution, DistributionError};
pub use instrument::{InstrumentError, Question, Survey};
pub use persona::{Persona, Population, PopulationError};
