//! Batch prediction: scores a CSV or Parquet file in the raw schema (the target column optional),
//! streamed chunk by chunk and scored on every core, through the validation the API applies and
//! [`Model::outputs`]. Predictions stream to a CSV; an invalid row gets its error message
//! instead of a prediction and the batch goes on.

use crate::artifact::Model;
use crate::data::columnar;
use crate::data::{self, DataError, io_error};
use crate::schema::target::Task;
use crate::schema::{Column, RecordError, Value};
use crate::utils::fs::AtomicWriter;
use crate::utils::logging;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Rows scored by one task.
const BLOCK_ROWS: usize = 2048;

/// A batch that cannot be scored at all (row-level problems are reported per row instead).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("column `{column}` has type {found}: expected numbers or strings")]
    UnsupportedType { column: String, found: DataType },
}

/// How the rows of a batch fared.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Summary {
    pub predicted: u64,
    pub invalid: u64,
    /// Predicted rows whose actual target is known (a declared class, or a number).
    pub labelled: u64,
    /// Classification: labelled rows predicted correctly.
    pub correct: u64,
    /// Regression: sums over the labelled rows of the squared and of the absolute errors.
    pub squared_error: f64,
    pub absolute_error: f64,
}

impl Summary {
    /// Accuracy on the rows with a known class, if any.
    pub fn accuracy(&self) -> Option<f64> {
        (self.labelled > 0).then(|| self.correct as f64 / self.labelled as f64)
    }

    /// RMSE and MAE on the rows with a known value, if any.
    pub fn errors(&self) -> Option<(f64, f64)> {
        let n = self.labelled as f64;
        (self.labelled > 0).then(|| ((self.squared_error / n).sqrt(), self.absolute_error / n))
    }

    fn add(&mut self, other: Self) {
        self.predicted += other.predicted;
        self.invalid += other.invalid;
        self.labelled += other.labelled;
        self.correct += other.correct;
        self.squared_error += other.squared_error;
        self.absolute_error += other.absolute_error;
    }
}

/// Scores `input` (Parquet when its name ends in `.parquet`, else CSV with `delimiter`) into the
/// CSV `output`, written atomically.
///
/// Output columns: the row's position (`line` in a CSV, counting the header as line 1; `row` in a
/// Parquet file, from 1), the schema's text columns (identifiers) the input has, as given, so even
/// an invalid row can be joined back; `actual_<target>` when the input has the target,
/// `prediction` (a class, or a number for a regression), one `probability_<class>` per class of a
/// classifier, and `error`.
pub fn predict_file(
    model: &Model,
    input: &Path,
    delimiter: u8,
    output: &Path,
) -> Result<Summary, BatchError> {
    let parquet = input
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("parquet"));
    let folder = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut out = AtomicWriter::create_in(folder).map_err(io_error(folder))?;
    let summary = if parquet {
        predict_parquet(model, input, &mut out)?
    } else {
        predict_csv(model, input, delimiter, &mut out)?
    };
    out.commit(output).map_err(io_error(output))?;
    Ok(summary)
}

/// One input row, parsed.
struct Parsed {
    position: u64,
    /// The input's text-column cells, echoed whether or not the row is valid.
    identifiers: Vec<String>,
    actual: Option<String>,
    row: Result<Vec<Value>, String>,
}

/// The schema's text columns that the input has: their names and positions in the input.
fn identifier_columns(model: &Model, positions: &HashMap<&str, usize>) -> Vec<(String, usize)> {
    model
        .schema()
        .text_columns()
        .filter_map(|(_, column)| {
            let position = *positions.get(column.name.as_str())?;
            Some((column.name.clone(), position))
        })
        .collect()
}

fn write_header(
    model: &Model,
    position: &str,
    identifiers: &[(String, usize)],
    has_target: bool,
    out: &mut AtomicWriter,
) -> Result<(), DataError> {
    let target = &model.metadata.feature_schema.target;
    let mut columns = vec![position.to_owned()];
    columns.extend(identifiers.iter().map(|(name, _)| name.clone()));
    if has_target {
        columns.push(format!("actual_{target}"));
    }
    columns.push("prediction".to_owned());
    columns.extend(
        model
            .metadata
            .task()
            .classes()
            .iter()
            .map(|c| format!("probability_{c}")),
    );
    columns.push("error".to_owned());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&columns)?;
    let bytes = writer
        .into_inner()
        .map_err(|err| DataError::Csv(err.into_error().into()))?;
    out.write_all(&bytes)
        .map_err(|err| DataError::Csv(err.into()))
}

/// Scores parsed rows in one pass of the model; returns their output lines and tally.
fn score(
    model: &Model,
    has_target: bool,
    parsed: Vec<Parsed>,
) -> Result<(Vec<u8>, Summary), DataError> {
    let task = model.metadata.task();
    let classes = task.classes();
    let valid: Vec<Value> = parsed
        .iter()
        .filter_map(|p| p.row.as_ref().ok())
        .flatten()
        .cloned()
        .collect();
    let outputs = model.outputs(&valid);
    let mut scored = outputs.rows().into_iter();
    let mut summary = Summary::default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut fields: Vec<String> = Vec::with_capacity(classes.len() + 4);
    for p in parsed {
        fields.clear();
        fields.push(p.position.to_string());
        fields.extend(p.identifiers);
        if has_target {
            fields.push(p.actual.clone().unwrap_or_default());
        }
        match p.row {
            Ok(_) => {
                let row = scored.next().expect("one row of outputs per valid row");
                let row = row.as_slice().expect("contiguous");
                summary.predicted += 1;
                match task {
                    Task::Classification { classes } => {
                        let prediction = &classes[crate::training::argmax(row)];
                        if let Some(actual) = p
                            .actual
                            .filter(|a| classes.iter().any(|c| c.eq_ignore_ascii_case(a)))
                        {
                            summary.labelled += 1;
                            summary.correct += u64::from(actual.eq_ignore_ascii_case(prediction));
                        }
                        fields.push(prediction.clone());
                        fields.extend(row.iter().map(|p| format!("{p:.6}")));
                    }
                    Task::Regression { .. } => {
                        let prediction = row[0];
                        let actual = p.actual.and_then(|a| a.trim().parse::<f64>().ok());
                        if let Some(actual) = actual.filter(|a| a.is_finite()) {
                            summary.labelled += 1;
                            summary.squared_error += (actual - prediction).powi(2);
                            summary.absolute_error += (actual - prediction).abs();
                        }
                        fields.push(prediction.to_string());
                    }
                }
                fields.push(String::new());
            }
            Err(message) => {
                summary.invalid += 1;
                tracing::debug!(position = p.position, error = %message, "row not predicted");
                fields.push(String::new());
                fields.extend(classes.iter().map(|_| String::new()));
                fields.push(message);
            }
        }
        writer.write_record(&fields)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|err| DataError::Csv(err.into_error().into()))?;
    Ok((bytes, summary))
}

/// Writes the scored blocks in order and adds up their tallies.
fn emit(
    blocks: Vec<Result<(Vec<u8>, Summary), DataError>>,
    out: &mut AtomicWriter,
    summary: &mut Summary,
) -> Result<(), DataError> {
    for block in blocks {
        let (bytes, tally) = block?;
        out.write_all(&bytes)
            .map_err(|err| DataError::Csv(err.into()))?;
        summary.add(tally);
    }
    Ok(())
}

fn predict_csv(
    model: &Model,
    input: &Path,
    delimiter: u8,
    out: &mut AtomicWriter,
) -> Result<Summary, BatchError> {
    let file = std::fs::File::open(input).map_err(io_error(input))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut reader = data::raw_csv_reader(file, delimiter);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(DataError::from)?
    {
        return Err(DataError::Empty(input.display().to_string()).into());
    }
    let header: Vec<String> = record
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    let positions: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.as_str(), i))
        .collect();
    let target = positions
        .get(model.metadata.feature_schema.target.as_str())
        .copied();
    let identifiers = identifier_columns(model, &positions);
    write_header(model, "line", &identifiers, target.is_some(), out)?;

    let schema = model.schema();
    let parse = |record: &csv::ByteRecord| -> Parsed {
        let text = |position: usize, column: &Column| {
            std::str::from_utf8(&record[position]).map_err(|_| RecordError::WrongType {
                field: column.name.clone(),
                expected: "valid UTF-8 text",
            })
        };
        let row = if record.len() == header.len() {
            model
                .preprocessor
                .parse_fields(|column| {
                    positions
                        .get(column.name.as_str())
                        .map(|&p| text(p, column).and_then(|t| schema.parse_text(column, t)))
                })
                .map_err(|err| err.to_string())
        } else {
            Err(format!(
                "expected {} fields, found {}",
                header.len(),
                record.len()
            ))
        };
        let field = |p: usize| {
            record
                .get(p)
                .map(|a| String::from_utf8_lossy(a).trim().to_owned())
        };
        Parsed {
            position: record.position().map_or(0, |p| p.line()),
            identifiers: identifiers
                .iter()
                .map(|&(_, p)| field(p).unwrap_or_default())
                .collect(),
            actual: target.and_then(field),
            row,
        }
    };

    let bar = logging::progress_bar(size, "predict");
    let mut summary = Summary::default();
    let mut records = Vec::new();
    loop {
        let filled = data::read_chunk(&mut reader, &mut records)?;
        if filled == 0 {
            break;
        }
        let blocks = records[..filled]
            .par_chunks(BLOCK_ROWS)
            .map(|block| score(model, target.is_some(), block.iter().map(parse).collect()))
            .collect();
        emit(blocks, out, &mut summary)?;
        bar.set_position(reader.position().byte());
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn predict_parquet(
    model: &Model,
    input: &Path,
    out: &mut AtomicWriter,
) -> Result<Summary, BatchError> {
    let schema = model.schema();
    let target_name = &model.metadata.feature_schema.target;
    let mut summary = Summary::default();
    let mut offset = 0u64;
    let mut header_written = false;
    for batch in columnar::read(input)? {
        let batch = batch.map_err(DataError::from)?;
        let positions: HashMap<&str, usize> = batch
            .schema_ref()
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| (field.name().as_str(), i))
            .collect();
        for column in &schema.columns {
            if let Some(&i) = positions.get(column.name.as_str()) {
                let found = batch.column(i).data_type();
                if !supported(found) {
                    return Err(BatchError::UnsupportedType {
                        column: column.name.clone(),
                        found: found.clone(),
                    });
                }
            }
        }
        let target = positions.get(target_name.as_str()).copied();
        let identifiers = identifier_columns(model, &positions);
        if !header_written {
            write_header(model, "row", &identifiers, target.is_some(), out)?;
            header_written = true;
        }
        let parse = |r: usize| -> Parsed {
            let row = model
                .preprocessor
                .parse_fields(|column| {
                    positions
                        .get(column.name.as_str())
                        .map(|&i| cell(&batch, i, r, column, model))
                })
                .map_err(|err| err.to_string());
            Parsed {
                position: offset + r as u64 + 1,
                identifiers: identifiers
                    .iter()
                    .map(|&(_, i)| text(batch.column(i).as_ref(), r))
                    .collect(),
                actual: target.map(|i| text(batch.column(i).as_ref(), r)),
                row,
            }
        };
        let rows: Vec<usize> = (0..batch.num_rows()).collect();
        let blocks = rows
            .par_chunks(BLOCK_ROWS)
            .map(|block| {
                score(
                    model,
                    target.is_some(),
                    block.iter().map(|&r| parse(r)).collect(),
                )
            })
            .collect();
        emit(blocks, out, &mut summary)?;
        offset += batch.num_rows() as u64;
    }
    if !header_written {
        write_header(model, "row", &[], false, out)?;
    }
    Ok(summary)
}

fn supported(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Float64
            | DataType::Float32
            | DataType::Int64
            | DataType::Int32
            | DataType::Utf8
            | DataType::LargeUtf8
    )
}

/// Validates one Parquet cell as the API validates a JSON value.
fn cell(
    batch: &RecordBatch,
    i: usize,
    r: usize,
    column: &Column,
    model: &Model,
) -> Result<Value, RecordError> {
    let array = batch.column(i);
    let schema = model.schema();
    if array.is_null(r) {
        return Ok(Value::Missing);
    }
    match array.data_type() {
        DataType::Float64 => {
            schema.parse_number(column, array.as_primitive::<Float64Type>().value(r))
        }
        DataType::Float32 => {
            schema.parse_number(column, array.as_primitive::<Float32Type>().value(r).into())
        }
        DataType::Int64 => {
            schema.parse_number(column, array.as_primitive::<Int64Type>().value(r) as f64)
        }
        DataType::Int32 => {
            schema.parse_number(column, array.as_primitive::<Int32Type>().value(r).into())
        }
        DataType::LargeUtf8 => schema.parse_text(column, array.as_string::<i64>().value(r)),
        _ => schema.parse_text(column, array.as_string::<i32>().value(r)),
    }
}

/// A Parquet cell as text, for the identifier and `actual_<target>` columns.
fn text(array: &dyn Array, r: usize) -> String {
    if array.is_null(r) {
        return String::new();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(r).trim().to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(r).trim().to_owned(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(r).to_string(),
        DataType::Float32 => array.as_primitive::<Float32Type>().value(r).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(r).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(r).to_string(),
        _ => String::new(),
    }
}
