//! Personas (attributes plus an optional backstory) and weighted populations of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a population is malformed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PopulationError {
    /// No personas at all.
    #[error("a population needs at least one persona")]
    Empty,
    /// A weight is negative, NaN or infinite.
    #[error("persona {id:?} has weight {weight}; weights must be finite and non-negative")]
    InvalidWeight {
        /// Persona id.
        id: String,
        /// The bad weight.
        weight: f64,
    },
    /// Two personas share an id.
    #[error("persona id {id:?} appears more than once")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
}

/// One simulated respondent: demographic and attitudinal attributes (`age`, `sex`, `party`,
/// `country`, ...) and an optional first-person backstory used for conditioning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Persona {
    /// Stable identifier, unique within its population.
    pub id: String,
    /// Attribute name → value. A `BTreeMap` so that prompts and hashes are deterministic.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Optional long-form backstory (Virtual Personas style).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backstory: Option<String>,
}

/// A weighted set of personas. Weights need not sum to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// The personas with their weights, in a fixed order.
    pub members: Vec<(Persona, f64)>,
}

impl Population {
    /// Builds a population, checking weights and id uniqueness.
    pub fn new(members: Vec<(Persona, f64)>) -> Result<Self, PopulationError> {
        if members.is_empty() {
            return Err(PopulationError::Empty);
        }
        let mut seen = std::collections::HashSet::new();
        for (persona, weight) in &members {
            if !weight.is_finite() || *weight < 0.0 {
                return Err(PopulationError::InvalidWeight {
                    id: persona.id.clone(),
                    weight: *weight,
                });
            }
            if !seen.insert(persona.id.as_str()) {
                return Err(PopulationError::DuplicateId {
                    id: persona.id.clone(),
                });
            }
        }
        Ok(Self { members })
    }

    /// Number of personas.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false for a validated population.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}
