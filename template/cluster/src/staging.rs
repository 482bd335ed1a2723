//! Bronze as a table the cluster can scan. The bronze CSV is read by the core library's reader, the
//! one native silver uses, so lines, quoting, CRLF and rows of the wrong width read identically, into
//! a Parquet file of one row per record: its line, the chunk native silver reads it in, its number
//! of fields, the record as a quarantine line shows it, and the raw bytes of each schema column's
//! cell.
//!
//! Parsing the CSV is the one step that does not run on the cluster: DataFusion's CSV reader fails
//! as a whole on a row with too many fields and does not know line numbers, so silver could not
//! quarantine and report what the native path does.

use arrow_array::builder::{BinaryBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, SchemaRef};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use {{crate_name}}::data::columnar::Encoder;
use {{crate_name}}::data::silver::{self, Bronze};
use {{crate_name}}::data::{self, DataError};
use {{crate_name}}::schema::Schema;

/// The record's 1-based line in the bronze file (the header is line 1).
pub const LINE: &str = "line";
/// Which chunk of [`CHUNK_ROWS`]({{crate_name}}::data::columnar::CHUNK_ROWS) records native silver reads the record in: silver's Parquet file is
/// written a chunk at a time, so writing the same chunks gives the same bytes.
pub const CHUNK: &str = "chunk";
/// How many fields the record has.
pub const FIELDS: &str = "fields";
/// The record's fields re-joined with the delimiter.
pub const RECORD: &str = "record";
const FILE: &str = "bronze.parquet";

/// The staged column holding the cell of the schema's `index`th column (null if the row is too short).
pub fn cell(index: usize) -> String {
    format!("cell_{index}")
}

/// A staged bronze file.
pub struct Staged {
    pub path: PathBuf,
    pub rows: u64,
    /// The number of fields of the header, which every record must have.
    pub width: usize,
}

/// Stages the bronze layer into `dir`; fails unless bronze matches its manifest.
pub fn stage(
    bronze: &Bronze,
    schema: &Schema,
    delimiter: u8,
    dir: &Path,
) -> Result<Staged, DataError> {
    let mut input = bronze.reader()?;
    let mut reader = data::raw_csv_reader(&mut input, delimiter);
    let mut header = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut header)? {
        return Err(DataError::Empty("file".to_owned()));
    }
    let header = silver::parse_header(&header)?;
    let positions = silver::column_positions(schema, &header)?;
    let arrow = staged_schema(schema);
    let mut file = Encoder::create(dir, arrow.clone())?;
    let mut records = Vec::new();
    let (mut rows, mut chunk) = (0, 0);
    loop {
        let filled = data::read_chunk(&mut reader, &mut records)?;
        if filled == 0 {
            break;
        }
        rows += filled as u64;
        let records = &records[..filled];
        file.write(to_batch(&arrow, records, chunk, &positions, delimiter))?;
        chunk += 1;
    }
    drop(reader);
    bronze.check(input)?;
    file.commit(dir, FILE)?;
    Ok(Staged {
        path: dir.join(FILE),
        rows,
        width: header.len(),
    })
}

fn staged_schema(schema: &Schema) -> SchemaRef {
    let mut fields = vec![
        Field::new(LINE, DataType::UInt64, false),
        Field::new(CHUNK, DataType::UInt64, false),
        Field::new(FIELDS, DataType::UInt32, false),
        Field::new(RECORD, DataType::Utf8, false),
    ];
    fields.extend((0..schema.columns.len()).map(|i| Field::new(cell(i), DataType::Binary, true)));
    Arc::new(arrow_schema::Schema::new(fields))
}

fn to_batch(
    arrow: &SchemaRef,
    records: &[csv::ByteRecord],
    chunk: u64,
    positions: &[usize],
    delimiter: u8,
) -> RecordBatch {
    let mut lines = UInt64Builder::with_capacity(records.len());
    let mut fields = UInt32Builder::with_capacity(records.len());
    let mut joined = StringBuilder::new();
    for record in records {
        lines.append_value(record.position().map_or(0, |p| p.line()));
        fields.append_value(record.len() as u32);
        joined.append_value(silver::join_lossy(record, delimiter));
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(lines.finish()),
        Arc::new(UInt64Array::from_value(chunk, records.len())),
        Arc::new(fields.finish()),
        Arc::new(joined.finish()),
    ];
    for &position in positions {
        let mut cells = BinaryBuilder::new();
        for record in records {
            cells.append_option(record.get(position));
        }
        columns.push(Arc::new(cells.finish()));
    }
    RecordBatch::try_new(arrow.clone(), columns).expect("arrays match the staged schema")
}
