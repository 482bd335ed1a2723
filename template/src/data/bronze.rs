//! Bronze: stores the source bytes exactly as received, content-addressed and never rewritten.

use super::manifest::{self, BronzeManifest, MANIFEST_FILE};
use super::{DataError, io_error};
use crate::utils::{fs, hashing, time};
use std::path::Path;

/// Counts the data records of a CSV (excluding the header), the way silver will read them.
///
/// Counting records rather than lines keeps quoted multi-line fields as one row.
pub fn count_rows(bytes: &[u8], delimiter: u8) -> Result<u64, DataError> {
    let mut reader = super::raw_csv_reader(bytes, delimiter);
    let mut record = csv::ByteRecord::new();
    let mut records = 0u64;
    while reader.read_byte_record(&mut record)? {
        records += 1;
    }
    Ok(records.saturating_sub(1))
}

/// Writes `bytes` to `dir/raw-<sha256 prefix>.csv` and the bronze manifest.
///
/// The file name comes from the content, so an earlier ingest is never overwritten and ingesting the
/// same bytes again yields the same file.
pub fn write(
    dir: &Path,
    source: &str,
    bytes: &[u8],
    delimiter: u8,
) -> Result<BronzeManifest, DataError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty(source.to_owned()));
    }
    let rows = count_rows(bytes, delimiter)?;
    let sha256 = hashing::sha256_hex(bytes);
    let file = format!("raw-{}.csv", &sha256[..12]);
    let path = dir.join(&file);
    if !path.exists() {
        fs::write_atomic(&path, bytes).map_err(io_error(&path))?;
    }
    let manifest = BronzeManifest {
        layer: "bronze".to_owned(),
        source: source.to_owned(),
        data: manifest::entry(&file, bytes, rows),
        ingested_at: time::now_rfc3339(),
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    fs::write_json_atomic(&manifest_path, &manifest).map_err(io_error(&manifest_path))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_as_received_and_counts_records() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"a,b\n1,\"two\nlines\"\n3,4\n";
        let m = write(dir.path(), "test", bytes, b',').unwrap();
        assert_eq!(m.data.rows, 2, "a quoted newline does not start a row");
        assert_eq!(std::fs::read(dir.path().join(&m.data.file)).unwrap(), bytes);
        assert_eq!(m.data.sha256, hashing::sha256_hex(bytes));
        let again = write(dir.path(), "test", bytes, b',').unwrap();
        assert_eq!(again.data, m.data);
    }

    #[test]
    fn empty_source_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), "empty.csv", b"", b',').unwrap_err();
        assert!(err.to_string().contains("empty.csv is empty"), "{err}");
        assert!(write(dir.path(), "blank.csv", b"\n  \n", b',').is_err());
    }
}
