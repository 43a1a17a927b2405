//! Running scenarios: one run into an output folder, and parameter sweeps with replicate seeds
//! spread over cores with rayon. Sweeps live outside the models (Mesa's `batch_run`).

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;
use serde::Serialize;
use toml::Value;

use crate::error::{DynamicsError, Result};
use crate::output;
use crate::record::Recorder;
use crate::scenario::Scenario;
use crate::sim::RunSummary;

/// One finished run: its summary and its recorder.
#[derive(Debug)]
pub struct RunOutput {
    /// The summary (as in `summary.json`).
    pub summary: RunSummary,
    /// Everything recorded per step.
    pub recorder: Recorder,
    /// Final state per agent, as [`crate::Runnable::state_values`].
    pub final_state: Vec<f64>,
}

/// Builds and runs `scenario`; `progress` is called after each sweep with the sweeps done.
///
/// # Errors
/// When the model cannot be built.
pub fn run(scenario: &Scenario, progress: &mut dyn FnMut(u64)) -> Result<RunOutput> {
    let _span = tracing::debug_span!(
        "dynamics_run",
        path = %scenario.path.display(),
        n_agents = scenario.n_agents,
        seed = scenario.seed,
        max_steps = scenario.max_steps,
    )
    .entered();
    let mut runnable = scenario.build()?;
    let mut recorder = Recorder::new(
        scenario.record.clone(),
        runnable.is_continuous(),
        &runnable.labels(),
    );
    let summary = runnable.run(scenario.max_steps, &mut recorder, progress);
    let final_state = runnable.state_values();
    Ok(RunOutput {
        summary,
        recorder,
        final_state,
    })
}

/// Writes `summary.json`, `steps.parquet` and (when recorded) `trajectories.parquet` into
/// `out_dir`, creating it.
///
/// # Errors
/// When the folder or a file cannot be written.
pub fn write_run(out_dir: &Path, run: &RunOutput) -> Result<()> {
    std::fs::create_dir_all(out_dir).map_err(|source| DynamicsError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    output::write_summary(&out_dir.join("summary.json"), &run.summary)?;
    output::write_steps(&out_dir.join("steps.parquet"), &run.recorder)?;
    output::write_trajectories(&out_dir.join("trajectories.parquet"), &run.recorder)?;
    let final_opinions: &[f64] = if run.summary.final_mean.is_some() {
        &run.final_state
    } else {
        &[]
    };
    let html = crate::report::render(&run.summary, &run.recorder, final_opinions);
    let report_path = out_dir.join("report.html");
    std::fs::write(&report_path, html).map_err(|source| DynamicsError::Io {
        path: report_path,
        source,
    })?;
    Ok(())
}

/// One run of a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct SweepRow {
    /// Index of the grid point (Cartesian product in sorted key order).
    pub point: usize,
    /// Replicate index within the point.
    pub replicate: u64,
    /// The grid values of this point, as `KEY=VALUE` strings.
    pub overrides: Vec<String>,
    /// The run summary (its `seed` is the scenario seed + replicate).
    pub summary: RunSummary,
}

/// The grid points of a sweep: every combination of the grid's values.
pub fn grid_points(grid: &[(String, Vec<Value>)]) -> Vec<Vec<(String, Value)>> {
    let mut points: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (key, values) in grid {
        points = points
            .into_iter()
            .flat_map(|point| {
                values.iter().map(move |value| {
                    let mut next = point.clone();
                    next.push((key.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    points
}

/// Runs the scenario's `[sweep]` (grid × replicates) in parallel. Results come back in
/// (point, replicate) order whatever the thread timing, so the output is reproducible.
///
/// # Errors
/// When the scenario has no `[sweep]` section or a grid point does not build.
pub fn run_sweep(scenario: &Scenario) -> Result<Vec<SweepRow>> {
    let spec = scenario
        .sweep
        .clone()
        .ok_or_else(|| DynamicsError::Scenario {
            path: scenario.path.clone(),
            line: 0,
            key: "sweep".into(),
            reason: "missing; a sweep needs a [sweep] section with replicates and/or [sweep.grid]"
                .into(),
        })?;
    let points = grid_points(&spec.grid);
    let _span = tracing::debug_span!(
        "dynamics_sweep",
        path = %scenario.path.display(),
        points = points.len(),
        replicates = spec.replicates,
    )
    .entered();
    // Validate every point up front, so that a bad grid value fails before any work.
    let scenarios: Vec<Scenario> = points
        .iter()
        .map(|point| scenario.with_overrides(point))
        .collect::<Result<Vec<_>>>()?;
    let jobs: Vec<(usize, u64)> = (0..points.len())
        .flat_map(|p| (0..spec.replicates).map(move |r| (p, r)))
        .collect();
    jobs.par_iter()
        .map(|&(point, replicate)| {
            let _span = tracing::debug_span!("sweep_job", point, replicate).entered();
            let mut replicate_scenario = scenarios[point].clone();
            replicate_scenario.seed = scenarios[point].seed.wrapping_add(replicate);
            let output = run(&replicate_scenario, &mut |_| {})?;
            Ok(SweepRow {
                point,
                replicate,
                overrides: points[point]
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                summary: output.summary,
            })
        })
        .collect()
}

/// Writes `sweep.json` (all rows) and `sweep.parquet` (one flat row per run: point,
/// replicate, overrides, seed, steps, time, converged, consensus, consensus_time, final_mean,
/// final_variance, n_clusters and one `fraction_<state>` column per state seen).
///
/// # Errors
/// When a file cannot be written.
pub fn write_sweep(out_dir: &Path, rows: &[SweepRow]) -> Result<()> {
    std::fs::create_dir_all(out_dir).map_err(|source| DynamicsError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let json_path = out_dir.join("sweep.json");
    let mut text = serde_json::to_string_pretty(rows).map_err(|e| DynamicsError::Output {
        path: json_path.clone(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(&json_path, text).map_err(|source| DynamicsError::Io {
        path: json_path,
        source,
    })?;

    let optional = |f: &dyn Fn(&RunSummary) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from(
            rows.iter().map(|r| f(&r.summary)).collect::<Vec<_>>(),
        ))
    };
    let mut fields = vec![
        Field::new("point", DataType::UInt64, false),
        Field::new("replicate", DataType::UInt64, false),
        Field::new("overrides", DataType::Utf8, false),
        Field::new("seed", DataType::UInt64, false),
        Field::new("steps", DataType::UInt64, false),
        Field::new("time", DataType::Float64, false),
        Field::new("converged", DataType::Boolean, false),
        Field::new("consensus", DataType::Boolean, false),
        Field::new("consensus_time", DataType::Float64, true),
        Field::new("final_mean", DataType::Float64, true),
        Field::new("final_variance", DataType::Float64, true),
        Field::new("n_clusters", DataType::Float64, true),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.point as u64).collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.replicate).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| r.overrides.join(" "))
                .collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.summary.seed).collect::<Vec<_>>(),
        )),
        Arc::new(UInt64Array::from(
            rows.iter().map(|r| r.summary.steps).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.summary.time).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.summary.converged).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.summary.consensus).collect::<Vec<_>>(),
        )),
        optional(&|s| s.consensus_time),
        optional(&|s| s.final_mean),
        optional(&|s| s.final_variance),
        optional(&|s| s.n_clusters.map(|c| c as f64)),
    ];
    let mut labels: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            r.summary
                .final_fraction
                .iter()
                .flat_map(|f| f.keys().cloned())
        })
        .collect();
    labels.sort();
    labels.dedup();
    for label in labels {
        fields.push(Field::new(
            format!("fraction_{label}"),
            DataType::Float64,
            true,
        ));
        arrays.push(optional(&|s| {
            s.final_fraction
                .as_ref()
                .and_then(|f| f.get(&label).copied())
        }));
    }
    let path = out_dir.join("sweep.parquet");
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| {
        DynamicsError::Output {
            path: path.clone(),
            reason: e.to_string(),
        }
    })?;
    let file = std::fs::File::create(&path).map_err(|source| DynamicsError::Io {
        path: path.clone(),
        source,
    })?;
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).map_err(|e| {
            DynamicsError::Output {
                path: path.clone(),
                reason: e.to_string(),
            }
        })?;
    writer.write(&batch).map_err(|e| DynamicsError::Output {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    writer.close().map_err(|e| DynamicsError::Output {
        path,
        reason: e.to_string(),
    })?;
    Ok(())
}

/// A rayon pool, re-exported so that callers need not depend on rayon.
pub type ThreadPool = rayon::ThreadPool;

/// A pool of `threads` workers for [`run_sweep`] (`pool.install(|| run_sweep(..))`).
///
/// # Errors
/// When the pool cannot be created.
pub fn thread_pool(threads: usize) -> Result<ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| crate::error::invalid("threads", e.to_string()))
}
