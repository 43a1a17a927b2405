//! Output files: `summary.json`, `steps.parquet` (one row per recorded step) and, on request,
//! `trajectories.parquet` (one row per agent per recorded step). Same inputs, same bytes.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{DynamicsError, Result};
use crate::record::Recorder;
use crate::sim::RunSummary;

fn output_error(path: &Path, error: impl std::fmt::Display) -> DynamicsError {
    DynamicsError::Output {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}

/// Writes `summary` as pretty JSON (keys in declaration order) with a trailing newline.
///
/// # Errors
/// When the file cannot be written.
pub fn write_summary(path: &Path, summary: &RunSummary) -> Result<()> {
    let mut text = serde_json::to_string_pretty(summary).map_err(|e| output_error(path, e))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| DynamicsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The per-step table as an Arrow batch: `step` (u64), `time` (f64, sweeps), then the declared
/// outputs: `consensus` as boolean, `n_clusters` and `n_changed` as u64, the rest as f64.
pub fn steps_batch(recorder: &Recorder) -> RecordBatch {
    let mut fields = vec![
        Field::new("step", DataType::UInt64, false),
        Field::new("time", DataType::Float64, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(recorder.steps().to_vec())),
        Arc::new(Float64Array::from(recorder.times().to_vec())),
    ];
    for column in recorder.columns() {
        let (data_type, array): (DataType, ArrayRef) = match column.name.as_str() {
            "consensus" => (
                DataType::Boolean,
                Arc::new(BooleanArray::from(
                    column.values.iter().map(|&v| v != 0.0).collect::<Vec<_>>(),
                )),
            ),
            "n_clusters" | "n_changed" => (
                DataType::UInt64,
                Arc::new(UInt64Array::from(
                    column.values.iter().map(|&v| v as u64).collect::<Vec<_>>(),
                )),
            ),
            _ => (
                DataType::Float64,
                Arc::new(Float64Array::from(column.values.clone())),
            ),
        };
        fields.push(Field::new(column.name.clone(), data_type, false));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .expect("columns have equal lengths by construction")
}

fn write_batches(
    path: &Path,
    batches: impl IntoIterator<Item = RecordBatch>,
    schema: Arc<Schema>,
) -> Result<()> {
    let file = File::create(path).map_err(|source| DynamicsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer =
        ArrowWriter::try_new(file, schema, Some(properties)).map_err(|e| output_error(path, e))?;
    for batch in batches {
        writer.write(&batch).map_err(|e| output_error(path, e))?;
    }
    writer.close().map_err(|e| output_error(path, e))?;
    Ok(())
}

/// Writes the per-step table ([`steps_batch`]) to `path` as Parquet (Snappy).
///
/// # Errors
/// When the file cannot be written.
pub fn write_steps(path: &Path, recorder: &Recorder) -> Result<()> {
    let batch = steps_batch(recorder);
    let schema = batch.schema();
    write_batches(path, [batch], schema)
}

/// Writes full trajectories, when recorded, as long-format Parquet: `step` (u64), `agent`
/// (u32), `value` (f64; the state index for discrete models). Returns whether a file was
/// written.
///
/// # Errors
/// When the file cannot be written.
pub fn write_trajectories(path: &Path, recorder: &Recorder) -> Result<bool> {
    let Some(trajectories) = recorder.trajectories() else {
        return Ok(false);
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("step", DataType::UInt64, false),
        Field::new("agent", DataType::UInt32, false),
        Field::new("value", DataType::Float64, false),
    ]));
    let batches = trajectories
        .steps
        .iter()
        .zip(&trajectories.states)
        .map(|(&step, states)| {
            let n = states.len();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(UInt64Array::from(vec![step; n])) as ArrayRef,
                    Arc::new(UInt32Array::from((0..n as u32).collect::<Vec<_>>())),
                    Arc::new(Float64Array::from(states.clone())),
                ],
            )
            .expect("equal lengths by construction")
        });
    write_batches(path, batches, schema.clone())?;
    Ok(true)
}
