//! Silver on the cluster: stage bronze, evaluate the [`Rules`] there, and write what comes back
//! through the core library's silver [`Writer`], so the layer has the native one's files, row
//! order and manifest.

use crate::rules::{Code, Rules, names};
use crate::staging::{self, Staged};
use arrow_array::cast::AsArray;
use arrow_array::types::{UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::min;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, cast, ident};
use futures::StreamExt;
use std::ops::Not;
use std::path::Path;

use {{crate_name}}::data::manifest::{RowAccounting, SilverManifest};
use {{crate_name}}::data::silver::{self, Bronze, Problem, QuarantinedRow, Writer};
use {{crate_name}}::data::{self, DataError};
use {{crate_name}}::schema::{ColumnKind, RecordError, Schema};

/// Where bronze is staged, inside the silver folder while it is built.
const STAGING_DIR: &str = ".staging";

/// Builds the silver layer in `silver_dir` from the bronze layer in `bronze_dir` on the cluster
/// `ctx` is connected to. Its executors read the staged table by path, so a remote cluster needs
/// the datasets folder at the same path on every executor.
pub async fn build(
    ctx: &SessionContext,
    bronze_dir: &Path,
    silver_dir: &Path,
    schema: &Schema,
    delimiter: u8,
) -> Result<SilverManifest, DataError> {
    let bronze = Bronze::open(bronze_dir)?;
    let staging_dir = silver_dir.join(STAGING_DIR);
    std::fs::create_dir_all(&staging_dir).map_err(data::io_error(&staging_dir))?;
    let built = async {
        let staged = staging::stage(&bronze, schema, delimiter, &staging_dir)?;
        run(ctx, &staged, &bronze, silver_dir, schema).await
    }
    .await;
    std::fs::remove_dir_all(&staging_dir).map_err(data::io_error(&staging_dir))?;
    built
}

async fn run(
    ctx: &SessionContext,
    staged: &Staged,
    bronze: &Bronze,
    silver_dir: &Path,
    schema: &Schema,
) -> Result<SilverManifest, DataError> {
    let path = staged.path.to_string_lossy();
    let checked = ctx
        .read_parquet(path.as_ref(), ParquetReadOptions::default())
        .await
        .and_then(|table| table.select(Rules::new(schema, staged.width).checked()))
        .on_cluster()?;
    let valid = checked.clone().filter(ident(names::VALID)).on_cluster()?;
    let valid_rows = valid.clone().count().await.on_cluster()? as u64;

    let mut writer = Writer::create(silver_dir, schema)?;
    let mut silver_rows = 0;
    let mut chunk = Chunk::default();
    let mut rows = stream(distinct_in_input_order(valid, schema)).await?;
    while let Some(batch) = rows.next().await {
        let batch = batch.on_cluster()?;
        silver_rows += batch.num_rows() as u64;
        for rows in chunk.add(&batch) {
            writer.rows(rows_of(&writer, &rows)?)?;
        }
    }
    if let Some(rows) = chunk.finish() {
        writer.rows(rows_of(&writer, &rows)?)?;
    }

    let mut quarantined = 0;
    let rejected = checked
        .filter(ident(names::VALID).not())
        .and_then(|rejected| rejected.sort(vec![ident(staging::LINE).sort(true, false)]));
    let mut rejected = stream(rejected).await?;
    while let Some(batch) = rejected.next().await {
        for row in quarantine_rows(&batch.on_cluster()?, schema, staged.width) {
            quarantined += 1;
            writer.quarantine(&row)?;
        }
    }
    let rows = RowAccounting {
        bronze_rows: staged.rows,
        silver_rows,
        quarantined,
        // More distinct rows than valid ones would be an engine fault: the writer's accounting
        // check then refuses the layer.
        duplicates: valid_rows.saturating_sub(silver_rows),
    };
    writer.commit(&bronze.manifest, rows)
}

/// Runs a query on the cluster; its batches come back in the query's order.
async fn stream(
    query: Result<DataFrame, DataFusionError>,
) -> Result<SendableRecordBatchStream, DataError> {
    query.on_cluster()?.execute_stream().await.on_cluster()
}

/// The valid rows with duplicates dropped, each kept at its first line, in input order, as the
/// silver columns.
fn distinct_in_input_order(
    valid: DataFrame,
    schema: &Schema,
) -> Result<DataFrame, DataFusionError> {
    let values: Vec<_> = (0..schema.columns.len())
        .map(|index| ident(names::value(index)))
        .collect();
    let first = vec![
        min(ident(staging::LINE)).alias(staging::LINE),
        min(ident(staging::CHUNK)).alias(staging::CHUNK),
    ];
    let columns = schema.columns.iter().enumerate().map(|(index, column)| {
        let data_type = match column.kind {
            ColumnKind::Numeric { .. } => arrow_schema::DataType::Float64,
            ColumnKind::Categorical { .. } | ColumnKind::Text => arrow_schema::DataType::Utf8,
        };
        cast(ident(names::value(index)), data_type).alias(&column.name)
    });
    valid
        .aggregate(values, first)?
        .sort(vec![ident(staging::LINE).sort(true, false)])?
        .select(columns.chain([ident(staging::CHUNK)]).collect::<Vec<_>>())
}

/// Regroups the rows streamed back by the chunk native silver would have read them in: native
/// silver writes one batch per chunk, and the same batches give the same Parquet bytes.
#[derive(Default)]
struct Chunk {
    number: Option<u64>,
    rows: Vec<RecordBatch>,
}

impl Chunk {
    /// Takes rows in input order (the last column: their chunk); returns the chunks they complete.
    fn add(&mut self, batch: &RecordBatch) -> Vec<RecordBatch> {
        let numbers = batch
            .column(batch.num_columns() - 1)
            .as_primitive::<UInt64Type>();
        let mut complete = Vec::new();
        let mut start = 0;
        while start < batch.num_rows() {
            let number = numbers.value(start);
            let end = (start..batch.num_rows())
                .find(|&row| numbers.value(row) != number)
                .unwrap_or(batch.num_rows());
            if self.number != Some(number) {
                complete.extend(self.finish());
                self.number = Some(number);
            }
            self.rows.push(batch.slice(start, end - start));
            start = end;
        }
        complete
    }

    /// The rows of the current chunk, if any, as one batch.
    fn finish(&mut self) -> Option<RecordBatch> {
        self.number = None;
        let rows = std::mem::take(&mut self.rows);
        let first = rows.first()?;
        Some(concat_batches(&first.schema(), &rows).expect("slices of one stream share a schema"))
    }
}

/// A chunk's rows as the silver file's columns (without the chunk number).
fn rows_of(writer: &Writer, rows: &RecordBatch) -> Result<RecordBatch, DataError> {
    let values = rows.columns()[..rows.num_columns() - 1].to_vec();
    Ok(RecordBatch::try_new(writer.arrow_schema().clone(), values)?)
}

/// The quarantine lines of a batch of rejected rows, each reason worded by the core library.
fn quarantine_rows(batch: &RecordBatch, schema: &Schema, width: usize) -> Vec<QuarantinedRow> {
    let column = |name: &str| batch.column_by_name(name).expect("a checked column");
    let lines = column(staging::LINE).as_primitive::<UInt64Type>();
    let fields = column(staging::FIELDS).as_primitive::<UInt32Type>();
    let records = cast_to_strings(column(staging::RECORD));
    let problems: Vec<_> = (0..schema.columns.len())
        .map(|index| cast_to_strings(column(&names::problem(index))))
        .collect();
    let texts: Vec<_> = (0..schema.columns.len())
        .map(|index| cast_to_strings(column(&names::text(index))))
        .collect();
    (0..batch.num_rows())
        .map(|row| {
            let found = fields.value(row) as usize;
            let mut reasons = Vec::new();
            if found != width {
                reasons.push(Problem::Width {
                    expected: width,
                    found,
                });
            } else {
                for index in 0..schema.columns.len() {
                    let Some(code) = problems[index][row].as_deref().and_then(Code::parse) else {
                        continue;
                    };
                    let text = texts[index][row].clone().unwrap_or_default();
                    reasons.push(problem(schema, index, code, text));
                }
                if reasons.is_empty() {
                    reasons.push(row_problem(batch, schema, row));
                }
            }
            QuarantinedRow {
                line: lines.value(row),
                reason: silver::reason(&reasons),
                record: records[row].clone().unwrap_or_default(),
            }
        })
        .collect()
}

/// What is wrong with a cell, from its code and its trimmed text.
fn problem(schema: &Schema, index: usize, code: Code, text: String) -> Problem {
    let column = &schema.columns[index];
    let field = column.name.clone();
    let number = || text.parse::<f64>().unwrap_or(f64::NAN);
    Problem::Field(match (code, &column.kind) {
        (Code::NotUtf8, _) => return Problem::NotUtf8(field),
        (Code::NotANumber, _) => RecordError::NotANumber { field, value: text },
        (Code::NotFinite, _) => RecordError::NotFinite {
            field,
            value: number().to_string(),
        },
        (Code::OutOfRange, ColumnKind::Numeric { min, max }) => RecordError::OutOfRange {
            field,
            value: number(),
            min: min.unwrap_or(f64::NEG_INFINITY),
            max: max.unwrap_or(f64::INFINITY),
        },
        (Code::UnknownCategory, ColumnKind::Categorical { categories }) => {
            RecordError::UnknownCategory {
                field,
                value: text,
                allowed: categories.clone(),
            }
        }
        (code, kind) => unreachable!("the rules give {code:?} to no {kind:?} column"),
    })
}

/// Why a row whose cells all pass is rejected: no target, or no feature.
fn row_problem(batch: &RecordBatch, schema: &Schema, row: usize) -> Problem {
    let target = batch
        .column_by_name(&names::value(schema.target_index()))
        .expect("a checked column");
    if target.is_null(row) {
        Problem::MissingTarget(schema.target.clone())
    } else {
        Problem::NoFeature
    }
}

/// A string column (of any string type) as owned optional strings.
fn cast_to_strings(array: &dyn Array) -> Vec<Option<String>> {
    let strings = arrow_cast_utf8(array);
    let strings = strings.as_string::<i32>();
    (0..strings.len())
        .map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_owned()))
        .collect()
}

fn arrow_cast_utf8(array: &dyn Array) -> arrow_array::ArrayRef {
    datafusion::arrow::compute::cast(array, &arrow_schema::DataType::Utf8)
        .expect("string columns cast to Utf8")
}

/// DataFusion's and Ballista's errors as the pipeline reports them.
trait OnCluster<T> {
    fn on_cluster(self) -> Result<T, DataError>;
}

impl<T> OnCluster<T> for Result<T, DataFusionError> {
    fn on_cluster(self) -> Result<T, DataError> {
        self.map_err(|err| DataError::Engine {
            engine: "Ballista",
            // One line, as every error of the pipeline.
            message: err.to_string().replace('\n', " "),
        })
    }
}
