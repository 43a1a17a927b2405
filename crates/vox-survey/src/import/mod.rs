//! Importers of public opinion datasets: each yields a survey plus human reference
//! distributions in the `distributions.jsonl` schema.
