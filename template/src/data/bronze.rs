//! Bronze: stores the source bytes exactly as received, content-addressed and never rewritten.

use super::manifest::{self, BronzeManifest, MANIFEST_FILE};
use super::{DataError, io_error};
use crate::utils::fs::{self, AtomicWriter};
use crate::utils::time;
use std::io::{Read, Write};
use std::path::Path;

/// Streams `input` to `dir/raw-<sha256 prefix>.csv` and writes the bronze manifest.
///
/// One pass copies, hashes and counts the data records (excluding the header) the way silver will
/// read them; counting records rather than lines keeps quoted multi-line fields as one row. The
/// file name comes from the content, so an earlier ingest is never overwritten and ingesting the
/// same bytes again yields the same file.
pub fn write(
    dir: &Path,
    source: &str,
    input: impl Read,
    delimiter: u8,
) -> Result<BronzeManifest, DataError> {
    let mut copy = Tee {
        input,
        output: AtomicWriter::create_in(dir).map_err(io_error(dir))?,
        has_content: false,
    };
    let mut reader = super::raw_csv_reader(&mut copy, delimiter);
    let mut record = csv::ByteRecord::new();
    let mut records = 0u64;
    while reader.read_byte_record(&mut record)? {
        records += 1;
    }
    drop(reader);
    if !copy.has_content {
        return Err(DataError::Empty(source.to_owned()));
    }
    let file = format!("raw-{}.csv", &copy.output.sha256()[..12]);
    let path = dir.join(&file);
    // An existing file has these exact bytes (its name is their hash): keep it, drop the copy.
    let written = if path.exists() {
        copy.output.abandon()
    } else {
        copy.output.commit(&path).map_err(io_error(&path))?
    };
    let manifest = BronzeManifest {
        layer: "bronze".to_owned(),
        source: source.to_owned(),
        data: manifest::written_entry(&file, written, records.saturating_sub(1), Vec::new()),
        ingested_at: time::now_rfc3339(),
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    fs::write_json_atomic(&manifest_path, &manifest).map_err(io_error(&manifest_path))?;
    Ok(manifest)
}

/// Copies everything read from `input` to `output`, noting whether any of it is not whitespace.
struct Tee<R> {
    input: R,
    output: AtomicWriter,
    has_content: bool,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        self.output.write_all(&buf[..n])?;
        self.has_content |= buf[..n].iter().any(|b| !b.is_ascii_whitespace());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::utils::hashing;

    #[test]
    fn keeps_bytes_as_received_and_counts_records() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"a,b\n1,\"two\nlines\"\n3,4\n";
        let m = write(dir.path(), "test", &bytes[..], b',').unwrap();
        assert_eq!(m.data.rows, 2, "a quoted newline does not start a row");
        assert_eq!(std::fs::read(dir.path().join(&m.data.file)).unwrap(), bytes);
        assert_eq!(m.data.sha256, hashing::sha256_hex(bytes));
        let again = write(dir.path(), "test", &bytes[..], b',').unwrap();
        assert_eq!(again.data, m.data);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "the data file and the manifest, no temporary file: {names:?}"
        );
    }

    #[test]
    fn empty_source_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write(dir.path(), "empty.csv", &b""[..], b',').unwrap_err();
        assert!(err.to_string().contains("empty.csv is empty"), "{err}");
        assert!(write(dir.path(), "blank.csv", &b"\n  \n"[..], b',').is_err());
    }
}
