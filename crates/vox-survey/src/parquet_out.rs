//! Writes a run's responses as Parquet (`responses.parquet`): one row per persona × question,
//! with the options and the distribution as list columns.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder, StringBuilder};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

use crate::error::{Result, SurveyError};
use crate::run::ResponseRecord;

/// Writes `responses` to `path` (replacing it atomically).
pub fn write_responses(path: &Path, responses: &[ResponseRecord]) -> Result<()> {
    let fail = |message: String| SurveyError::Parquet {
        path: path.into(),
        message,
    };
    let strings = |f: &dyn Fn(&ResponseRecord) -> Option<&str>| -> ArrayRef {
        Arc::new(responses.iter().map(f).collect::<StringArray>())
    };
    let mut options = ListBuilder::new(StringBuilder::new());
    let mut distribution = ListBuilder::new(Float64Builder::new());
    for r in responses {
        for o in &r.options {
            options.values().append_value(o);
        }
        options.append(true);
        match &r.distribution {
            Some(d) => {
                for p in d {
                    distribution.values().append_value(*p);
                }
                distribution.append(true);
            }
            None => distribution.append(false),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        strings(&|r| Some(r.persona_id.as_str())),
        strings(&|r| Some(r.group.as_str())),
        Arc::new(Float64Array::from(
            responses.iter().map(|r| r.weight).collect::<Vec<f64>>(),
        )),
        strings(&|r| Some(r.question_id.as_str())),
        strings(&|r| Some(r.method.as_str())),
        Arc::new(options.finish()),
        Arc::new(distribution.finish()),
        strings(&|r| r.raw.as_deref()),
        strings(&|r| r.error.as_deref()),
        strings(&|r| Some(r.key.as_str())),
    ];
    let schema = Arc::new(Schema::new(vec![
        Field::new("persona_id", DataType::Utf8, false),
        Field::new("group", DataType::Utf8, false),
        Field::new("weight", DataType::Float64, false),
        Field::new("question_id", DataType::Utf8, false),
        Field::new("method", DataType::Utf8, false),
        Field::new(
            "options",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        Field::new(
            "distribution",
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
            true,
        ),
        Field::new("raw", DataType::Utf8, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("key", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| fail(e.to_string()))?;
    let tmp = path.with_extension("parquet.tmp");
    let file = std::fs::File::create(&tmp).map_err(|e| SurveyError::io(&tmp, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, None).map_err(|e| fail(e.to_string()))?;
    writer.write(&batch).map_err(|e| fail(e.to_string()))?;
    writer.close().map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| SurveyError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Method;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn writes_one_row_per_response() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.parquet");
        let record = |id: &str, d: Option<Vec<f64>>| ResponseRecord {
            persona_id: id.into(),
            group: "g".into(),
            weight: 1.0,
            question_id: "q".into(),
            method: Method::Logprob,
            options: vec!["a".into(), "b".into()],
            distribution: d,
            raw: None,
            error: None,
            key: "k".into(),
        };
        write_responses(
            &path,
            &[record("p1", Some(vec![0.5, 0.5])), record("p2", None)],
        )
        .unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
    }
}
