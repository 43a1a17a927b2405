//! Edge-list loaders (CSV and Parquet) with errors that name the file, the line and the column.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::Array;
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::Graph;
use crate::error::{DynamicsError, Result};

/// File format of an edge list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeListFormat {
    /// Comma-separated with a header naming `source`, `target` and optionally `weight`.
    Csv,
    /// Parquet with integer columns `source`, `target` and an optional float column `weight`.
    Parquet,
}

impl EdgeListFormat {
    /// Guesses the format from the file extension (`.parquet` or `.pq`, otherwise CSV).
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") | Some("pq") => EdgeListFormat::Parquet,
            _ => EdgeListFormat::Csv,
        }
    }
}

/// Reads an edge list into a [`Graph`]. Node ids are non-negative integers; the graph has
/// `max(n_nodes, largest id + 1)` nodes. Weights are read when the file has a `weight` column.
///
/// # Errors
/// [`DynamicsError::EdgeList`] naming the file, line and column of the first bad value;
/// [`DynamicsError::Io`] when the file cannot be opened.
pub fn read_edge_list(
    path: &Path,
    format: EdgeListFormat,
    directed: bool,
    n_nodes: usize,
) -> Result<Graph> {
    let (edges, weighted) = match format {
        EdgeListFormat::Csv => read_csv(path)?,
        EdgeListFormat::Parquet => read_parquet(path)?,
    };
    let n = edges
        .iter()
        .map(|&(s, t, _)| s.max(t) as usize + 1)
        .max()
        .unwrap_or(0)
        .max(n_nodes);
    Graph::from_edges(n, &edges, directed, weighted)
}

type Edges = (Vec<(u32, u32, f64)>, bool);

fn edge_error(path: &Path, line: usize, column: &str, reason: impl Into<String>) -> DynamicsError {
    DynamicsError::EdgeList {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        reason: reason.into(),
    }
}

fn read_csv(path: &Path) -> Result<Edges> {
    let file = File::open(path).map_err(|source| DynamicsError::Io {
        path: path.into(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| edge_error(path, 1, "header", e.to_string()))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let source_col = find("source")
        .ok_or_else(|| edge_error(path, 1, "source", "header has no `source` column"))?;
    let target_col = find("target")
        .ok_or_else(|| edge_error(path, 1, "target", "header has no `target` column"))?;
    let weight_col = find("weight");
    let mut edges = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            edge_error(path, line, "row", e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let node = |col: usize, name: &str| -> Result<u32> {
            let text = record.get(col).unwrap_or("");
            text.parse::<u32>().map_err(|_| {
                edge_error(
                    path,
                    line,
                    name,
                    format!("`{text}` is not a node id (a non-negative integer)"),
                )
            })
        };
        let source = node(source_col, "source")?;
        let target = node(target_col, "target")?;
        let weight = match weight_col {
            Some(col) => {
                let text = record.get(col).unwrap_or("");
                let w = text.parse::<f64>().map_err(|_| {
                    edge_error(path, line, "weight", format!("`{text}` is not a number"))
                })?;
                if !w.is_finite() {
                    return Err(edge_error(
                        path,
                        line,
                        "weight",
                        format!("`{text}` is not finite"),
                    ));
                }
                w
            }
            None => 1.0,
        };
        edges.push((source, target, weight));
    }
    Ok((edges, weight_col.is_some()))
}

fn read_parquet(path: &Path) -> Result<Edges> {
    let file = File::open(path).map_err(|source| DynamicsError::Io {
        path: path.into(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| edge_error(path, 0, "file", format!("not a Parquet file: {e}")))?;
    let schema = builder.schema().clone();
    for required in ["source", "target"] {
        if schema.field_with_name(required).is_err() {
            return Err(edge_error(path, 0, required, "no such column"));
        }
    }
    let weighted = schema.field_with_name("weight").is_ok();
    let reader = builder
        .build()
        .map_err(|e| edge_error(path, 0, "file", e.to_string()))?;
    let mut edges = Vec::new();
    let mut row_base = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| edge_error(path, row_base + 1, "file", e.to_string()))?;
        let ids = |name: &str| -> Result<Vec<u32>> {
            let column = batch.column_by_name(name).expect("checked above");
            integer_column(column.as_ref(), path, row_base, name)
        };
        let sources = ids("source")?;
        let targets = ids("target")?;
        let weights = if weighted {
            let column = batch.column_by_name("weight").expect("checked above");
            float_column(column.as_ref(), path, row_base)?
        } else {
            vec![1.0; sources.len()]
        };
        for k in 0..sources.len() {
            edges.push((sources[k], targets[k], weights[k]));
        }
        row_base += batch.num_rows();
    }
    Ok((edges, weighted))
}

fn integer_column(
    column: &dyn Array,
    path: &Path,
    row_base: usize,
    name: &str,
) -> Result<Vec<u32>> {
    let convert = |values: Vec<Option<i128>>| -> Result<Vec<u32>> {
        values
            .into_iter()
            .enumerate()
            .map(|(k, v)| match v {
                Some(v) if (0..=u32::MAX as i128).contains(&v) => Ok(v as u32),
                Some(v) => Err(edge_error(
                    path,
                    row_base + k + 1,
                    name,
                    format!("{v} is not a node id"),
                )),
                None => Err(edge_error(path, row_base + k + 1, name, "missing value")),
            })
            .collect()
    };
    let values: Vec<Option<i128>> = match column.data_type() {
        DataType::Int64 => column
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(i128::from))
            .collect(),
        DataType::Int32 => column
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(i128::from))
            .collect(),
        DataType::UInt64 => column
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map(i128::from))
            .collect(),
        DataType::UInt32 => column
            .as_primitive::<UInt32Type>()
            .iter()
            .map(|v| v.map(i128::from))
            .collect(),
        other => {
            return Err(edge_error(
                path,
                row_base + 1,
                name,
                format!("must be an integer column, found {other}"),
            ))
        }
    };
    convert(values)
}

fn float_column(column: &dyn Array, path: &Path, row_base: usize) -> Result<Vec<f64>> {
    let values: Vec<Option<f64>> = match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().iter().collect(),
        DataType::Float32 => column
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        other => {
            return Err(edge_error(
                path,
                row_base + 1,
                "weight",
                format!("must be a float column, found {other}"),
            ))
        }
    };
    values
        .into_iter()
        .enumerate()
        .map(|(k, v)| match v {
            Some(w) if w.is_finite() => Ok(w),
            Some(w) => Err(edge_error(
                path,
                row_base + k + 1,
                "weight",
                format!("{w} is not finite"),
            )),
            None => Err(edge_error(
                path,
                row_base + k + 1,
                "weight",
                "missing value",
            )),
        })
        .collect()
}
