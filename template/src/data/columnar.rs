//! Parquet layer files: silver rows and gold features as Arrow record batches, written one row group
//! at a time and read back batch by batch, so no step holds a whole layer in memory.
//!
//! Types follow the schema: numeric columns are `float64` (null when missing), categorical ones
//! `string` in the declared spelling, gold features `float64` without nulls.

use super::DataError;
use super::manifest::{self, ColumnType, FileEntry};
use crate::schema::target::{Targets, Task};
use crate::schema::{ColumnKind, Schema, Value};
use crate::utils::fs::AtomicWriter;
use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, SchemaRef};
use ndarray::{Array2, ShapeBuilder};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, SyncSender};
use std::thread::JoinHandle;

/// Rows per chunk (validated in parallel) and per Parquet row group.
pub const CHUNK_ROWS: usize = 65_536;

/// A Parquet file being written; it appears under its name only when committed.
pub struct ParquetFile {
    writer: ArrowWriter<AtomicWriter>,
    columns: Vec<ColumnType>,
    rows: u64,
}

impl ParquetFile {
    /// Starts a file in `dir` with the given columns.
    pub fn create(dir: &Path, schema: SchemaRef) -> Result<Self, DataError> {
        let sink = AtomicWriter::create_in(dir).map_err(super::io_error(dir))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(CHUNK_ROWS))
            .build();
        Ok(Self {
            columns: column_types(&schema),
            writer: ArrowWriter::try_new(sink, schema, Some(properties))?,
            rows: 0,
        })
    }

    /// Appends rows; a full row group is encoded and flushed to disk.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DataError> {
        self.rows += batch.num_rows() as u64;
        Ok(self.writer.write(batch)?)
    }

    /// Writes the footer and renames the file to `dir/file`; returns its manifest entry.
    pub fn commit(self, dir: &Path, file: &str) -> Result<FileEntry, DataError> {
        let path = dir.join(file);
        let written = self
            .writer
            .into_inner()?
            .commit(&path)
            .map_err(super::io_error(&path))?;
        Ok(manifest::written_entry(
            file,
            written,
            self.rows,
            self.columns,
        ))
    }
}

/// A [`ParquetFile`] encoded on a thread of its own: a step queues its batches and goes on producing
/// the next ones. Batches are encoded in the order they were queued.
pub struct Encoder {
    batches: SyncSender<RecordBatch>,
    thread: Option<JoinHandle<Result<ParquetFile, DataError>>>,
}

impl Encoder {
    /// Starts encoding a new file in `dir` with the given columns.
    pub fn create(dir: &Path, schema: SchemaRef) -> Result<Self, DataError> {
        let mut file = ParquetFile::create(dir, schema)?;
        // Two batches in flight bound the memory the queue can hold.
        let (batches, queued) = mpsc::sync_channel::<RecordBatch>(2);
        let thread = std::thread::spawn(move || {
            for batch in queued {
                file.write(&batch)?;
            }
            Ok(file)
        });
        Ok(Self {
            batches,
            thread: Some(thread),
        })
    }

    /// Queues rows for encoding.
    pub fn write(&mut self, batch: RecordBatch) -> Result<(), DataError> {
        if self.batches.send(batch).is_ok() {
            return Ok(());
        }
        // The encoder only stops early on an error: report it.
        match self.thread.take().map(join) {
            Some(Err(err)) => Err(err),
            _ => unreachable!("an encoder that stopped early has an error to report"),
        }
    }

    /// Waits for the queued batches, then commits the file as `dir/file`.
    pub fn commit(self, dir: &Path, file: &str) -> Result<FileEntry, DataError> {
        let Self { batches, thread } = self;
        drop(batches);
        let thread = thread.expect("an encoder is committed at most once, after no error");
        join(thread)?.commit(dir, file)
    }
}

fn join(thread: JoinHandle<Result<ParquetFile, DataError>>) -> Result<ParquetFile, DataError> {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The columns of an Arrow schema as a manifest records them.
fn column_types(schema: &SchemaRef) -> Vec<ColumnType> {
    schema
        .fields()
        .iter()
        .map(|field| ColumnType {
            name: field.name().clone(),
            data_type: match field.data_type() {
                DataType::Float64 => "float64".to_owned(),
                DataType::Utf8 => "string".to_owned(),
                other => other.to_string(),
            },
        })
        .collect()
}

/// Reads a Parquet file in batches of [`CHUNK_ROWS`].
pub fn read(path: &Path) -> Result<ParquetRecordBatchReader, DataError> {
    let file = std::fs::File::open(path).map_err(super::io_error(path))?;
    Ok(ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(CHUNK_ROWS)
        .build()?)
}

/// Reads a file of silver rows (silver's data, gold's test_raw) in batches of [`CHUNK_ROWS`] for
/// [`batch_to_rows`], optionally only some of its columns.
///
/// Categorical columns come back as dictionary arrays: their few distinct strings are matched to the
/// schema's categories once per batch instead of once per row.
pub fn read_rows(
    path: &Path,
    schema: &Schema,
    columns: Option<&[usize]>,
) -> Result<ParquetRecordBatchReader, DataError> {
    let hint = arrow_schema::Schema::new(
        schema
            .columns
            .iter()
            .zip(silver_schema(schema).fields())
            .map(|(column, field)| match column.kind {
                ColumnKind::Categorical { .. } => field.as_ref().clone().with_data_type(
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                ),
                _ => field.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
    );
    let file = std::fs::File::open(path).map_err(super::io_error(path))?;
    let options = ArrowReaderOptions::new().with_schema(Arc::new(hint));
    let mut builder = ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)?
        .with_batch_size(CHUNK_ROWS);
    if let Some(columns) = columns {
        let mask = ProjectionMask::roots(builder.parquet_schema(), columns.iter().copied());
        builder = builder.with_projection(mask);
    }
    Ok(builder.build()?)
}

/// The silver columns: every schema column, in schema order.
pub fn silver_schema(schema: &Schema) -> SchemaRef {
    Arc::new(arrow_schema::Schema::new(
        schema
            .columns
            .iter()
            .map(|column| {
                let data_type = match column.kind {
                    ColumnKind::Numeric { .. } => DataType::Float64,
                    ColumnKind::Categorical { .. } | ColumnKind::Text => DataType::Utf8,
                };
                Field::new(&column.name, data_type, true)
            })
            .collect::<Vec<_>>(),
    ))
}

/// Builds a silver batch from validated rows (`values` holds one row after another, schema order).
pub fn rows_to_batch(schema: &Schema, arrow: &SchemaRef, values: &[Value]) -> RecordBatch {
    let width = schema.columns.len();
    let rows = values.len() / width;
    let arrays: Vec<ArrayRef> = schema
        .columns
        .iter()
        .enumerate()
        .map(|(j, column)| {
            let cells = values.iter().skip(j).step_by(width);
            match &column.kind {
                ColumnKind::Numeric { .. } => {
                    let mut builder = Float64Builder::with_capacity(rows);
                    for value in cells {
                        match value {
                            Value::Number(x) => builder.append_value(*x),
                            _ => builder.append_null(),
                        }
                    }
                    Arc::new(builder.finish()) as ArrayRef
                }
                ColumnKind::Categorical { categories } => {
                    let mut builder = StringBuilder::with_capacity(rows, rows * 8);
                    for value in cells {
                        match value {
                            Value::Category(i) => builder.append_value(&categories[*i]),
                            _ => builder.append_null(),
                        }
                    }
                    Arc::new(builder.finish()) as ArrayRef
                }
                ColumnKind::Text => {
                    let mut builder = StringBuilder::with_capacity(rows, rows * 16);
                    for value in cells {
                        match value {
                            Value::Text(text) => builder.append_value(text),
                            _ => builder.append_null(),
                        }
                    }
                    Arc::new(builder.finish()) as ArrayRef
                }
            }
        })
        .collect();
    RecordBatch::try_new(arrow.clone(), arrays).expect("arrays match the silver schema")
}

/// Appends the rows of a silver batch to `out` as validated values (one row after another).
///
/// Fails if a column's name or type differs from the schema or a category is not declared: the file
/// was not written by this schema.
pub fn batch_to_rows(
    schema: &Schema,
    batch: &RecordBatch,
    out: &mut Vec<Value>,
) -> Result<(), String> {
    let width = schema.columns.len();
    if batch.num_columns() != width {
        return Err(format!(
            "{} columns, the schema has {width}",
            batch.num_columns()
        ));
    }
    let start = out.len();
    out.resize(start + batch.num_rows() * width, Value::Missing);
    let rows = &mut out[start..];
    for (j, column) in schema.columns.iter().enumerate() {
        let name = batch.schema_ref().field(j).name().clone();
        if name != column.name {
            return Err(format!(
                "column {j} is `{name}`, the schema says `{}`",
                column.name
            ));
        }
        let array = batch.column(j);
        let wrong_type = || format!("column `{name}` has type {}", array.data_type());
        match &column.kind {
            ColumnKind::Numeric { .. } => {
                let numbers = array
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(wrong_type)?;
                for (r, cell) in rows.chunks_exact_mut(width).enumerate() {
                    if numbers.is_valid(r) {
                        cell[j] = Value::Number(numbers.value(r));
                    }
                }
            }
            ColumnKind::Categorical { categories } => {
                let dictionary = array
                    .as_any()
                    .downcast_ref::<DictionaryArray<Int32Type>>()
                    .ok_or_else(wrong_type)?;
                let texts = dictionary
                    .values()
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(wrong_type)?;
                let indexes: Vec<Result<usize, String>> = texts
                    .iter()
                    .map(|text| {
                        let text = text.unwrap_or_default();
                        categories
                            .iter()
                            .position(|c| c == text)
                            .ok_or_else(|| format!("column `{name}`: undeclared category `{text}`"))
                    })
                    .collect();
                for (r, cell) in rows.chunks_exact_mut(width).enumerate() {
                    if dictionary.is_valid(r) {
                        let key = dictionary.keys().value(r) as usize;
                        cell[j] = Value::Category(indexes[key].clone()?);
                    }
                }
            }
            ColumnKind::Text => {
                let texts = array
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(wrong_type)?;
                for (r, cell) in rows.chunks_exact_mut(width).enumerate() {
                    if texts.is_valid(r) {
                        cell[j] = Value::Text(texts.value(r).into());
                    }
                }
            }
        }
    }
    Ok(())
}

/// The gold columns: one `float64` per model input, then the target as `string`.
pub fn features_schema(names: &[String], target: &str, task: &Task) -> SchemaRef {
    let mut fields: Vec<Field> = names
        .iter()
        .map(|name| Field::new(name, DataType::Float64, false))
        .collect();
    let target_type = match task {
        Task::Classification { .. } => DataType::Utf8,
        Task::Regression { .. } => DataType::Float64,
    };
    fields.push(Field::new(target, target_type, false));
    Arc::new(arrow_schema::Schema::new(fields))
}

/// Builds a gold batch from a row-major input matrix (`x`, `width` inputs per row) and the rows'
/// targets: class labels (`task`'s classes) or numbers.
pub fn features_to_batch(arrow: &SchemaRef, task: &Task, x: &[f64], y: &Targets) -> RecordBatch {
    let width = arrow.fields().len() - 1;
    let mut arrays: Vec<ArrayRef> = (0..width)
        .map(|j| {
            let column: Float64Array = x.iter().skip(j).step_by(width).copied().collect();
            Arc::new(column) as ArrayRef
        })
        .collect();
    arrays.push(match y {
        Targets::Classes(labels) => {
            let classes = task.classes();
            let labels: StringArray = labels
                .iter()
                .map(|&label| Some(classes[label].as_str()))
                .collect();
            Arc::new(labels)
        }
        Targets::Values(values) => Arc::new(Float64Array::from(values.clone())),
    });
    RecordBatch::try_new(arrow.clone(), arrays).expect("arrays match the gold schema")
}

/// Reads a gold features file into an input matrix stored column by column (each input's values
/// are contiguous, as the learners scan them) and targets, checking its columns against `names`
/// and its targets against `task` (known class labels, or numbers).
pub fn read_features(
    path: &Path,
    names: &[String],
    task: &Task,
) -> Result<(Array2<f64>, Targets), DataError> {
    let corrupt = |message: String| DataError::CorruptLayer {
        layer: "gold",
        path: path.to_owned(),
        message,
    };
    let file = std::fs::File::open(path).map_err(super::io_error(path))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(CHUNK_ROWS);
    let rows = usize::try_from(builder.metadata().file_metadata().num_rows())
        .map_err(|_| corrupt("negative row count".into()))?;
    let width = names.len();
    // Column j occupies x[j * rows .. (j + 1) * rows].
    let mut x = vec![0.0; rows * width];
    let mut y = Targets::new(task);
    for batch in builder.build()? {
        let batch = batch?;
        let header: Vec<&String> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name())
            .collect();
        if header.len() != width + 1 || header[..width].iter().zip(names).any(|(a, b)| *a != b) {
            return Err(corrupt(
                "its columns differ from the preprocessor's features".into(),
            ));
        }
        let (start, end) = (y.len(), y.len() + batch.num_rows());
        if end > rows {
            return Err(corrupt("more rows than its metadata says".into()));
        }
        for (j, name) in names.iter().enumerate() {
            let column = batch
                .column(j)
                .as_any()
                .downcast_ref::<Float64Array>()
                .filter(|c| c.null_count() == 0)
                .ok_or_else(|| {
                    corrupt(format!(
                        "input `{name}` is not a float64 column without nulls"
                    ))
                })?;
            x[j * rows + start..j * rows + end].copy_from_slice(column.values());
        }
        let target = batch.column(width).as_any();
        match &mut y {
            Targets::Classes(indexes) => {
                let labels = target
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| corrupt("the target is not a string column".into()))?;
                for label in labels.iter() {
                    let label = label.unwrap_or_default();
                    indexes.push(
                        task.classes()
                            .iter()
                            .position(|c| c == label)
                            .ok_or_else(|| corrupt(format!("unknown class `{label}`")))?,
                    );
                }
            }
            Targets::Values(values) => {
                let numbers = target
                    .downcast_ref::<Float64Array>()
                    .filter(|c| c.null_count() == 0)
                    .ok_or_else(|| {
                        corrupt("the target is not a float64 column without nulls".into())
                    })?;
                values.extend_from_slice(numbers.values());
            }
        }
    }
    if y.len() != rows {
        return Err(corrupt("fewer rows than its metadata says".into()));
    }
    let x = Array2::from_shape_vec((rows, width).f(), x).expect("rows x width values");
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silver_rows_round_trip_through_parquet() {
        let schema = Schema::bundled();
        let arrow = silver_schema(&schema);
        let row = |species: usize, bill: Value| {
            vec![
                Value::Category(species),
                Value::Category(1),
                bill,
                Value::Number(18.7),
                Value::Number(181.0),
                Value::Missing,
                Value::Category(0),
                Value::Number(2007.0),
            ]
        };
        let values: Vec<Value> = [row(0, Value::Number(39.1)), row(2, Value::Missing)].concat();
        let dir = tempfile::tempdir().unwrap();
        let mut file = ParquetFile::create(dir.path(), arrow.clone()).unwrap();
        file.write(&rows_to_batch(&schema, &arrow, &values))
            .unwrap();
        let entry = file.commit(dir.path(), "rows.parquet").unwrap();
        assert_eq!(entry.rows, 2);
        assert_eq!(entry.columns[0].data_type, "string");
        assert_eq!(entry.columns[2].data_type, "float64");
        let mut back = Vec::new();
        for batch in read_rows(&dir.path().join("rows.parquet"), &schema, None).unwrap() {
            batch_to_rows(&schema, &batch.unwrap(), &mut back).unwrap();
        }
        assert_eq!(back, values);
    }

    #[test]
    fn features_round_trip_exactly_for_both_tasks() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let x = vec![0.1, -1.0 / 3.0, 1e-300, 2.5];
        let classification = Task::Classification {
            classes: vec!["x".to_owned(), "y".to_owned()],
        };
        let regression = Task::Regression { unit: None };
        for (task, targets) in [
            (classification, Targets::Classes(vec![1, 0])),
            (regression, Targets::Values(vec![-2.5, 1e9])),
        ] {
            let arrow = features_schema(&names, "t", &task);
            let dir = tempfile::tempdir().unwrap();
            let mut file = ParquetFile::create(dir.path(), arrow.clone()).unwrap();
            file.write(&features_to_batch(&arrow, &task, &x, &targets))
                .unwrap();
            file.commit(dir.path(), "f.parquet").unwrap();
            let path = dir.path().join("f.parquet");
            let (back, read) = read_features(&path, &names, &task).unwrap();
            assert_eq!(back.as_standard_layout().as_slice().unwrap(), x);
            assert_eq!(read, targets);
            assert!(read_features(&path, &["a".into(), "c".into()], &task).is_err());
        }
    }
}
