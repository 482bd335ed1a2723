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
pub mod layers;
pub mod manifest;
pub mod silver;

use crate::schema::{Schema, SchemaError};
use std::io::{BufRead, BufReader, Read};
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
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A silver engine other than the native one (a cluster's) failed.
    #[error("{engine}: {message}")]
    Engine {
        engine: &'static str,
        message: String,
    },
}

/// A reader over raw CSV bytes that yields the header as an ordinary record and tolerates rows of
/// the wrong length, so that each step can report such rows instead of failing on them. CRLF line
/// endings are read as LF, so line numbers are the ones `grep -n` shows for either.
pub fn raw_csv_reader<R: Read>(input: R, delimiter: u8) -> csv::Reader<CrlfAsLf<R>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(CrlfAsLf {
            inner: BufReader::with_capacity(1 << 20, input),
            held_cr: false,
        })
}

/// Passes bytes through with every CRLF turned into LF. csv-core counts the `\n` of a CRLF as part
/// of the next record, so without this every line number of a CRLF file (the kind Python's csv
/// module writes) would be one too low.
pub struct CrlfAsLf<R> {
    inner: BufReader<R>,
    /// A `\r` ended the last read; whether it starts a CRLF depends on the next byte.
    held_cr: bool,
}

impl<R: Read> Read for CrlfAsLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let available = self.inner.fill_buf()?;
        if self.held_cr {
            self.held_cr = false;
            out[0] = if available.first() == Some(&b'\n') {
                self.inner.consume(1);
                b'\n'
            } else {
                b'\r'
            };
            return Ok(1);
        }
        if !available.contains(&b'\r') {
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            self.inner.consume(n);
            return Ok(n);
        }
        let (mut taken, mut written) = (0, 0);
        while taken < available.len() && written < out.len() {
            let byte = available[taken];
            taken += 1;
            if byte == b'\r' {
                match available.get(taken) {
                    Some(b'\n') => continue,
                    None => {
                        self.held_cr = true;
                        break;
                    }
                    Some(_) => {}
                }
            }
            out[written] = byte;
            written += 1;
        }
        self.inner.consume(taken);
        if written == 0 {
            // Only a held `\r` was available: the next read decides it.
            return self.read(out);
        }
        Ok(written)
    }
}

/// Reads up to [`CHUNK_ROWS`](columnar::CHUNK_ROWS) records into `records`, reusing their
/// buffers; returns how many it read (0 at the end of the input).
pub fn read_chunk(
    reader: &mut csv::Reader<impl Read>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(bytes: &[u8], read_size: usize) -> Vec<u8> {
        let mut reader = CrlfAsLf {
            inner: BufReader::with_capacity(3, bytes),
            held_cr: false,
        };
        let mut out = Vec::new();
        let mut buf = vec![0; read_size];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn crlf_becomes_lf_whatever_the_read_sizes() {
        let input = b"a,b\r\n1,2\r\n\r\n3,\"x\ry\"\r\n4\r";
        for read_size in [1, 2, 3, 1024] {
            assert_eq!(
                normalised(input, read_size),
                b"a,b\n1,2\n\n3,\"x\ry\"\n4\r",
                "reads of {read_size} bytes"
            );
        }
    }

    #[test]
    fn line_numbers_match_for_lf_and_crlf() {
        let lines = |text: &str| -> Vec<u64> {
            let mut reader = raw_csv_reader(text.as_bytes(), b',');
            let mut record = csv::ByteRecord::new();
            let mut lines = Vec::new();
            while reader.read_byte_record(&mut record).unwrap() {
                lines.push(record.position().unwrap().line());
            }
            lines
        };
        let lf = "h1,h2\na,1\n\"multi\nline\",2\nb,3\n";
        assert_eq!(lines(lf), [1, 2, 3, 5]);
        assert_eq!(lines(&lf.replace('\n', "\r\n")), [1, 2, 3, 5]);
    }
}
