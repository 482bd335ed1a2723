//! The medallion data pipeline: ingest -> bronze (raw, as received) -> silver (typed, validated,
//! deduplicated, bad rows quarantined) -> gold (model-ready features and a train/test split).
//!
//! Bronze keeps the source bytes; silver and gold are Parquet files (see [`columnar`]), streamed
//! chunk by chunk. Each layer writes its files atomically plus a `manifest.json` (row counts, hashes,
//! schema and the parent's hash), so any model can be traced back to the exact bytes it was
//! trained on.

pub mod bronze;
pub mod columnar;
pub mod dictionary;
pub mod gold;
pub mod ingest;
pub mod manifest;
pub mod schema;
pub mod silver;

use schema::{Schema, SchemaError};
use std::path::{Path, PathBuf};

/// The Palmer penguins CSV (palmerpenguins 0.1.6, CC0), compiled in so the default source works offline.
pub const SAMPLE_CSV: &[u8] = include_bytes!("sample/penguins.csv");

/// A data pipeline step failed.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("source {0} is empty: expected a header row and data rows")]
    Empty(String),
    #[error("the header is not valid UTF-8 text")]
    HeaderNotUtf8,
    #[error(
        "column(s) {} required by the schema are missing from the header (found: {}); if the file uses another delimiter, set CSV_DELIMITER",
        missing.join(", "),
        found.join(" | ")
    )]
    MissingColumns {
        missing: Vec<String>,
        found: Vec<String>,
    },
    #[error("cannot read CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("cannot download {url}: {message}")]
    Download { url: String, message: String },
    #[error("the {layer} layer is missing at {path}: run make_dataset first")]
    MissingLayer { layer: &'static str, path: PathBuf },
    #[error("the {layer} layer at {path} is inconsistent: {message}; run make_dataset again")]
    CorruptLayer {
        layer: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("cannot split: {0}")]
    Split(String),
    #[error(transparent)]
    Features(#[from] crate::features::FeatureError),
}

/// A reader over raw CSV bytes that yields the header as an ordinary record and tolerates rows of
/// the wrong length, so that each step can report such rows instead of failing on them.
pub fn raw_csv_reader<R: std::io::Read>(input: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input)
}

/// Reads up to [`CHUNK_ROWS`](columnar::CHUNK_ROWS) records into `records`, reusing their
/// buffers; returns how many it read (0 at the end of the input).
pub fn read_chunk(
    reader: &mut csv::Reader<impl std::io::Read>,
    records: &mut Vec<csv::ByteRecord>,
) -> Result<usize, DataError> {
    records.resize_with(columnar::CHUNK_ROWS, csv::ByteRecord::new);
    let mut filled = 0;
    while filled < columnar::CHUNK_ROWS && reader.read_byte_record(&mut records[filled])? {
        filled += 1;
    }
    Ok(filled)
}

/// Attaches the path to an I/O error.
pub fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Loads the schema: the given file, else `config/schema.toml` if it exists, else the bundled one.
/// Returns the schema and where it came from.
pub fn resolve_schema(explicit: Option<&Path>) -> Result<(Schema, String), SchemaError> {
    let default = Path::new(crate::utils::paths::SCHEMA_FILE);
    match explicit {
        Some(path) => Ok((Schema::load(path)?, path.display().to_string())),
        None if default.exists() => Ok((Schema::load(default)?, default.display().to_string())),
        None => Ok((Schema::bundled(), "bundled penguins schema".to_owned())),
    }
}
