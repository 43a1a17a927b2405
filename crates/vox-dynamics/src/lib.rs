//! vox-dynamics: classical opinion-dynamics and spreading models on graphs, with swappable
//! schedulers, a named-output recorder, seeded runs, TOML scenarios and parameter sweeps.
//!
//! The pieces meet at one trait. A model is an [`UpdateRule`] (state plus a read-only `propose`
//! and a cheap `apply`); a [`Scheduler`] decides who updates when; a [`Simulation`] owns the
//! rule, the scheduler and the seeded generator and runs sweeps; a [`Recorder`] collects the
//! outputs declared by name. Because `propose` only reads the state, a slow asynchronous agent
//! (a language-model call) can implement [`UpdateRule`] and reuse the schedulers, recorder and
//! seeds unchanged.
//!
//! ```
//! use vox_dynamics::models::{HkComplete, HkParams, InitialOpinions};
//! use vox_dynamics::{Scheduler, Simulation};
//!
//! let params = HkParams { epsilon: 0.2, initial: InitialOpinions::Grid { low: 0.0, high: 1.0 } };
//! let mut sim = Simulation::new(HkComplete::new(params, 1001, 7)?, Scheduler::Synchronous, 7)?;
//! while sim.step().n_changed > 0 {}
//! assert_eq!(sim.sweeps_done(), 327); // 326 sweeps that change something, then one that does not
//! # Ok::<(), vox_dynamics::DynamicsError>(())
//! ```
#![deny(missing_docs)]

mod error;
pub mod graph;
pub mod models;
pub mod output;
pub mod record;
pub mod report;
pub mod rng;
pub mod scenario;
mod schedule;
mod sim;
pub mod sweep;

pub use error::{DynamicsError, Result};
pub use record::{Output, RecordConfig, Recorder, StateView};
pub use schedule::{Scheduler, SweepOutcome, UpdateRequest, UpdateRule};
pub use sim::{RunSummary, Runnable, Simulation, StopReason};
