//! Silver: every bronze row is typed and validated against the schema. Valid rows are normalised
//! and deduplicated; invalid rows go to `quarantine.csv` with their line number and the reason, so
//! nothing is silently lost: `bronze rows = silver rows + quarantined + duplicates`.
//!
//! Bronze is streamed in chunks of [`CHUNK_ROWS`](super::columnar::CHUNK_ROWS) records. Each chunk is validated on all cores
//! while the next one is read, then deduplicated and written in input order (in row groups of
//! [`CHUNK_ROWS`](super::columnar::CHUNK_ROWS) rows),
//! so the quarantine's lines, reasons and order never depend on the number of threads, and memory
//! does not grow with the file beyond 16 bytes per distinct row.

use super::columnar::{self, Encoder};
use super::manifest::{
    self, BronzeManifest, MANIFEST_FILE, RowAccounting, SchemaSummary, SilverManifest,
};
use super::{DataError, io_error};
use crate::schema::{RecordError, Schema, Value};
use crate::utils::fs::AtomicWriter;
use crate::utils::hashing::HashingReader;
use crate::utils::{fs, time};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rayon::prelude::*;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Silver file of valid rows.
pub const DATA_FILE: &str = "data.parquet";
/// Silver file of rejected rows.
pub const QUARANTINE_FILE: &str = "quarantine.csv";

/// Rows validated by one task; small enough to spread a chunk over every core.
const BLOCK_ROWS: usize = 2048;
/// Quarantined rows logged at the terminal; the full list is in `quarantine.csv`.
const SHOWN: u64 = 10;

/// A row that failed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedRow {
    /// 1-based line of the row in the bronze file (the header is line 1).
    pub line: u64,
    pub reason: String,
    /// The raw row, fields re-joined with the delimiter (invalid UTF-8 shown as U+FFFD).
    pub record: String,
}

/// One chunk of cleaned rows, in input order.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Valid rows not seen before: one value per schema column, row after row.
    pub values: Vec<Value>,
    pub quarantined: Vec<QuarantinedRow>,
}

/// Validates, normalises and deduplicates the rows of a raw CSV, handing each chunk to `sink` in
/// input order; returns the row accounting.
///
/// Fails as a whole only when the file cannot be used at all (no header, a schema column missing
/// from the header); row-level problems are quarantined instead.
pub fn clean(
    input: impl Read + Send,
    schema: &Schema,
    delimiter: u8,
    mut sink: impl FnMut(Chunk) -> Result<(), DataError>,
) -> Result<RowAccounting, DataError> {
    let mut reader = super::raw_csv_reader(input, delimiter);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        return Err(DataError::Empty("file".to_owned()));
    }
    let header = parse_header(&record)?;
    let rules = Rules {
        schema,
        positions: column_positions(schema, &header)?,
        width: header.len(),
        delimiter,
    };
    let mut counts = RowAccounting {
        bronze_rows: 0,
        silver_rows: 0,
        quarantined: 0,
        duplicates: 0,
    };
    // 128-bit fingerprints of the distinct rows: with at most 10^9 rows, the chance that two
    // different rows share one is below 10^-20, so this is exact deduplication in 16 bytes a row.
    let mut seen = HashSet::with_hasher(BuildHasherDefault::<Fingerprint>::default());
    let (mut current, mut next) = (Vec::new(), Vec::new());
    let mut filled = super::read_chunk(&mut reader, &mut current)?;
    while filled > 0 {
        // Read the next chunk while this one is validated on the other cores.
        let (read, blocks) = rayon::join(
            || super::read_chunk(&mut reader, &mut next),
            || {
                current[..filled]
                    .par_chunks(BLOCK_ROWS)
                    .map(|records| rules.check(records))
                    .collect::<Vec<_>>()
            },
        );
        counts.bronze_rows += filled as u64;
        let mut chunk = Chunk::default();
        for block in blocks {
            let mut valid = block
                .values
                .chunks_exact(schema.columns.len())
                .zip(block.keys);
            for outcome in block.outcomes {
                match outcome {
                    Some(row) => chunk.quarantined.push(row),
                    None => {
                        let (row, key) = valid.next().expect("one key and row per valid record");
                        if seen.insert(key) {
                            chunk.values.extend_from_slice(row);
                        } else {
                            counts.duplicates += 1;
                        }
                    }
                }
            }
        }
        counts.silver_rows += (chunk.values.len() / schema.columns.len()) as u64;
        counts.quarantined += chunk.quarantined.len() as u64;
        sink(chunk)?;
        filled = read?;
        std::mem::swap(&mut current, &mut next);
    }
    Ok(counts)
}

/// The header's field names, trimmed, without a leading byte order mark.
pub fn parse_header(record: &csv::ByteRecord) -> Result<Vec<String>, DataError> {
    record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            // Spreadsheet exports often start with a UTF-8 byte order mark.
            let field = if i == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            std::str::from_utf8(field)
                .map(|name| name.trim().to_owned())
                .map_err(|_| DataError::HeaderNotUtf8)
        })
        .collect()
}

/// For each schema column, its position in the CSV header.
pub fn column_positions(schema: &Schema, header: &[String]) -> Result<Vec<usize>, DataError> {
    let mut missing = Vec::new();
    let positions: Vec<usize> = schema
        .columns
        .iter()
        .filter_map(|column| {
            let position = header.iter().position(|name| *name == column.name);
            if position.is_none() {
                missing.push(format!("`{}`", column.name));
            }
            position
        })
        .collect();
    if missing.is_empty() {
        Ok(positions)
    } else {
        Err(DataError::MissingColumns {
            missing,
            found: header.to_vec(),
        })
    }
}

/// The outcome of validating consecutive records.
struct Block {
    /// The valid records' values, row after row.
    values: Vec<Value>,
    /// The valid records' fingerprints.
    keys: Vec<u128>,
    /// Per record, in order: `None` when valid, else why it is quarantined.
    outcomes: Vec<Option<QuarantinedRow>>,
}

/// The schema applied to CSV records whose header is known.
struct Rules<'a> {
    schema: &'a Schema,
    positions: Vec<usize>,
    width: usize,
    delimiter: u8,
}

impl Rules<'_> {
    fn check(&self, records: &[csv::ByteRecord]) -> Block {
        let mut block = Block {
            values: Vec::with_capacity(records.len() * self.positions.len()),
            keys: Vec::with_capacity(records.len()),
            outcomes: Vec::with_capacity(records.len()),
        };
        let mut key_bytes = Vec::with_capacity(self.positions.len() * 8);
        for record in records {
            let start = block.values.len();
            match self.validate(record, &mut block.values) {
                Ok(()) => {
                    block
                        .keys
                        .push(fingerprint(&block.values[start..], &mut key_bytes));
                    block.outcomes.push(None);
                }
                Err(reason) => {
                    block.values.truncate(start);
                    block.outcomes.push(Some(QuarantinedRow {
                        line: record.position().map_or(0, |p| p.line()),
                        reason,
                        record: join_lossy(record, self.delimiter),
                    }));
                }
            }
        }
        block
    }

    /// Appends the record's values to `row`, or says everything wrong with it.
    fn validate(&self, record: &csv::ByteRecord, row: &mut Vec<Value>) -> Result<(), String> {
        if record.len() != self.width {
            return Err(reason(&[Problem::Width {
                expected: self.width,
                found: record.len(),
            }]));
        }
        let schema = self.schema;
        let start = row.len();
        let mut problems = Vec::new();
        for (column, &position) in schema.columns.iter().zip(&self.positions) {
            let Ok(text) = std::str::from_utf8(&record[position]) else {
                problems.push(Problem::NotUtf8(column.name.clone()));
                row.push(Value::Missing);
                continue;
            };
            match schema.parse_text(column, text) {
                Ok(value) => row.push(value),
                Err(err) => {
                    problems.push(Problem::Field(err));
                    row.push(Value::Missing);
                }
            }
        }
        let row = &row[start..];
        if problems.is_empty() && row[schema.target_index()] == Value::Missing {
            problems.push(Problem::MissingTarget(schema.target.clone()));
        }
        if problems.is_empty()
            && schema
                .feature_columns()
                .all(|(i, _)| row[i] == Value::Missing)
        {
            problems.push(Problem::NoFeature);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(reason(&problems))
        }
    }
}

/// One thing wrong with a row. The checks run in the order of the variants, and the last two only
/// when nothing else is wrong: a row of the wrong width is not checked further.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("expected {expected} fields, found {found}")]
    Width { expected: usize, found: usize },
    #[error("field `{0}` is not valid UTF-8")]
    NotUtf8(String),
    #[error(transparent)]
    Field(RecordError),
    #[error("missing target `{0}`")]
    MissingTarget(String),
    #[error("every feature is missing")]
    NoFeature,
}

/// A quarantine line's reason: every problem of the row, in the order they were found.
pub fn reason(problems: &[Problem]) -> String {
    let texts: Vec<String> = problems.iter().map(Problem::to_string).collect();
    texts.join("; ")
}

/// A row's identity for deduplication: a 128-bit hash of every value as 64 bits (a number's bit
/// pattern, a category's index, NaN's pattern for a missing value, which no validated number has)
/// or, for a text, its length and bytes, so rows share a key exactly when their canonical values are
/// equal. Identifiers are part of the key: two customers with equal features are two rows.
fn fingerprint(row: &[Value], bytes: &mut Vec<u8>) -> u128 {
    bytes.clear();
    for value in row {
        let bits = match value {
            Value::Missing => u64::MAX,
            Value::Number(number) => number.to_bits(),
            Value::Category(index) => *index as u64,
            // The length first, so that no two sequences of texts produce the same bytes.
            Value::Text(text) => {
                bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
                bytes.extend_from_slice(text.as_bytes());
                continue;
            }
        };
        bytes.extend_from_slice(&bits.to_le_bytes());
    }
    twox_hash::XxHash3_128::oneshot(bytes)
}

/// Hashes a fingerprint for the set of seen rows: it is already uniformly distributed, so its low 64
/// bits serve as the hash as they are (hashing it again would cost more than the rest of deduplication).
#[derive(Default)]
struct Fingerprint(u64);

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, _: &[u8]) {
        unreachable!("only u128 fingerprints are hashed, through write_u128")
    }

    fn write_u128(&mut self, key: u128) {
        self.0 = key as u64;
    }
}

/// The record as a quarantine line shows it: its fields re-joined with the delimiter.
pub fn join_lossy(record: &csv::ByteRecord, delimiter: u8) -> String {
    let parts: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    parts.join(&char::from(delimiter).to_string())
}

/// Builds the silver layer in `silver_dir` from the bronze layer in `bronze_dir`.
///
/// Bronze is hashed while it is read; nothing is written unless it matches its manifest.
pub fn build(
    bronze_dir: &Path,
    silver_dir: &Path,
    schema: &Schema,
    delimiter: u8,
) -> Result<SilverManifest, DataError> {
    let bronze = Bronze::open(bronze_dir)?;
    let mut writer = Writer::create(silver_dir, schema)?;
    let mut input = bronze.reader()?;
    let rows = clean(&mut input, schema, delimiter, |chunk| {
        for row in &chunk.quarantined {
            writer.quarantine(row)?;
        }
        if !chunk.values.is_empty() {
            let batch = columnar::rows_to_batch(schema, writer.arrow_schema(), &chunk.values);
            writer.rows(batch)?;
        }
        Ok(())
    })?;
    bronze.check(input)?;
    writer.commit(&bronze.manifest, rows)
}

/// The bronze layer a silver build reads: its manifest and its data file.
pub struct Bronze {
    pub manifest: BronzeManifest,
    pub path: PathBuf,
}

impl Bronze {
    /// Reads the bronze manifest in `bronze_dir`.
    pub fn open(bronze_dir: &Path) -> Result<Self, DataError> {
        let manifest: BronzeManifest = manifest::read("bronze", bronze_dir)?;
        let path = bronze_dir.join(&manifest.data.file);
        Ok(Self { manifest, path })
    }

    /// Opens the data file; its bytes are hashed as they are read, for [`Bronze::check`].
    pub fn reader(&self) -> Result<HashingReader<std::fs::File>, DataError> {
        let file = std::fs::File::open(&self.path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => DataError::MissingLayer {
                layer: "bronze",
                path: self.path.clone(),
            },
            _ => io_error(&self.path)(source),
        })?;
        Ok(HashingReader::new(file))
    }

    /// Fails unless the bytes read through `reader` are those the manifest hashed.
    pub fn check(&self, reader: HashingReader<std::fs::File>) -> Result<(), DataError> {
        manifest::check_hash(
            "bronze",
            self.path.clone(),
            &self.manifest.data,
            reader.finish(),
        )
    }
}

/// Writes a silver layer: valid rows to Parquet and rejected rows to the quarantine as they come,
/// then the manifest once the row accounting adds up. Every silver engine writes through it, so
/// their layers cannot differ in form.
pub struct Writer {
    dir: PathBuf,
    schema: Schema,
    arrow: SchemaRef,
    data: Encoder,
    quarantine: csv::Writer<AtomicWriter>,
    logged: u64,
}

impl Writer {
    /// Starts writing a silver layer of `schema` in `silver_dir`.
    pub fn create(silver_dir: &Path, schema: &Schema) -> Result<Self, DataError> {
        let arrow = columnar::silver_schema(schema);
        let data = Encoder::create(silver_dir, arrow.clone())?;
        let mut quarantine = csv::Writer::from_writer(
            AtomicWriter::create_in(silver_dir).map_err(io_error(silver_dir))?,
        );
        quarantine.write_record(["line", "reason", "record"])?;
        Ok(Self {
            dir: silver_dir.to_owned(),
            schema: schema.clone(),
            arrow,
            data,
            quarantine,
            logged: 0,
        })
    }

    /// The columns of the silver data file (see [`columnar::silver_schema`]).
    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.arrow
    }

    /// Appends a rejected row; rows come in input order.
    pub fn quarantine(&mut self, row: &QuarantinedRow) -> Result<(), DataError> {
        if self.logged < SHOWN {
            tracing::warn!(line = row.line, reason = %row.reason, "row quarantined");
        }
        self.logged += 1;
        self.quarantine
            .write_record([row.line.to_string().as_str(), &row.reason, &row.record])?;
        Ok(())
    }

    /// Appends valid rows, in input order, with the columns of [`Writer::arrow_schema`].
    pub fn rows(&mut self, batch: RecordBatch) -> Result<(), DataError> {
        self.data.write(batch)
    }

    /// Checks the accounting against bronze's own row count, then commits the files and the manifest.
    pub fn commit(
        self,
        bronze: &BronzeManifest,
        rows: RowAccounting,
    ) -> Result<SilverManifest, DataError> {
        if self.logged > SHOWN {
            tracing::warn!(
                "{} more rows quarantined, see {QUARANTINE_FILE}",
                self.logged - SHOWN
            );
        }
        // Bronze counted rows independently; a disagreement would mean rows were lost.
        if rows.bronze_rows != bronze.data.rows
            || rows.bronze_rows != rows.silver_rows + rows.quarantined + rows.duplicates
            || rows.quarantined != self.logged
        {
            return Err(DataError::CorruptLayer {
                layer: "silver",
                path: self.dir,
                message: format!(
                    "row accounting does not add up: {rows:?}, bronze manifest says {}",
                    bronze.data.rows
                ),
            });
        }
        let silver_dir = &self.dir;
        let data = self.data.commit(silver_dir, DATA_FILE)?;
        let quarantine_path = silver_dir.join(QUARANTINE_FILE);
        let quarantine = self
            .quarantine
            .into_inner()
            .map_err(|err| io_error(&quarantine_path)(err.into_error()))?
            .commit(&quarantine_path)
            .map_err(io_error(&quarantine_path))?;
        let manifest = SilverManifest {
            layer: "silver".to_owned(),
            created_at: time::now_rfc3339(),
            parent_sha256: bronze.data.sha256.clone(),
            schema: SchemaSummary::of(&self.schema),
            data,
            quarantine: manifest::written_entry(
                QUARANTINE_FILE,
                quarantine,
                rows.quarantined,
                Vec::new(),
            ),
            rows,
        };
        let path = silver_dir.join(MANIFEST_FILE);
        fs::write_json_atomic(&path, &manifest).map_err(io_error(&path))?;
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::columnar::CHUNK_ROWS;

    const HEADER: &str =
        "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n";

    /// Everything `clean` hands out, gathered in memory.
    #[derive(Debug)]
    struct Cleaned {
        rows: Vec<Vec<Value>>,
        quarantined: Vec<QuarantinedRow>,
        duplicates: u64,
        bronze_rows: u64,
    }

    fn clean_bytes(bytes: &[u8], schema: &Schema, delimiter: u8) -> Result<Cleaned, DataError> {
        let (mut rows, mut quarantined) = (Vec::new(), Vec::new());
        let counts = clean(bytes, schema, delimiter, |chunk| {
            rows.extend(
                chunk
                    .values
                    .chunks(schema.columns.len())
                    .map(<[Value]>::to_vec),
            );
            quarantined.extend(chunk.quarantined);
            Ok(())
        })?;
        assert_eq!(counts.silver_rows, rows.len() as u64);
        assert_eq!(counts.quarantined, quarantined.len() as u64);
        Ok(Cleaned {
            rows,
            quarantined,
            duplicates: counts.duplicates,
            bronze_rows: counts.bronze_rows,
        })
    }

    fn clean_text(body: &[u8]) -> Cleaned {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(body);
        clean_bytes(&bytes, &Schema::bundled(), b',').unwrap()
    }

    #[test]
    fn valid_rows_are_normalised() {
        let c = clean_text(b" adelie ,TORGERSEN,39.10,18.7,181,3750,NA,2007\n");
        use Value::{Category, Missing, Number};
        assert_eq!(
            c.rows,
            [[
                Category(0),
                Category(2),
                Number(39.1),
                Number(18.7),
                Number(181.0),
                Number(3750.0),
                Missing,
                Number(2007.0)
            ]]
        );
    }

    #[test]
    fn quarantine_order_and_lines_hold_across_chunks_and_threads() {
        // More rows than a chunk, with bad rows and duplicates spread over every block.
        let mut body = Vec::new();
        for i in 0..(CHUNK_ROWS + 5000) {
            let line = match i % 997 {
                0 => "Adelie,Dream,abc,18,190,3500,male,2008\n".to_owned(),
                1 => "Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n".to_owned(),
                _ => format!(
                    "Gentoo,Biscoe,{}.{},15,218,4950,female,2009\n",
                    40 + i % 30,
                    i % 7919
                ),
            };
            body.extend_from_slice(line.as_bytes());
        }
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| clean_text(&body));
        let parallel = clean_text(&body);
        assert_eq!(single.quarantined, parallel.quarantined);
        assert_eq!(single.rows, parallel.rows);
        let lines: Vec<u64> = parallel.quarantined.iter().map(|q| q.line).collect();
        let expected: Vec<u64> = (0..(CHUNK_ROWS + 5000) as u64)
            .filter(|i| i % 997 == 0)
            .map(|i| i + 2)
            .collect();
        assert_eq!(lines, expected);
        assert_eq!(
            parallel.bronze_rows,
            parallel.rows.len() as u64 + parallel.quarantined.len() as u64 + parallel.duplicates
        );
    }

    #[test]
    fn bad_rows_are_quarantined_with_line_and_reason() {
        let c = clean_text(
            b"Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n\
              NA,Torgersen,39.1,18.7,181,3750,male,2007\n\
              Adelie,Torgersen,abc,18.7,181,3750,male,2007\n\
              Adelie,Torgersen,39.1,18.7,181,99999,male,2007\n\
              Adelie,Atlantis,39.1,18.7,181,3750,male,2007\n\
              Adelie,Torgersen,39.1,18.7\n\
              Adelie,Torgersen,39.1,18.7,181,3750,m\xe4le,2007\n\
              Adelie,NA,NA,NA,NA,NA,NA,2007\n",
        );
        assert_eq!(c.rows.len(), 1);
        let reasons: Vec<(u64, &str)> = c
            .quarantined
            .iter()
            .map(|q| (q.line, q.reason.as_str()))
            .collect();
        let expect = [
            (3, "missing target `species`"),
            (4, "`abc` is not a number"),
            (5, "outside the allowed range"),
            (6, "unknown category `Atlantis`"),
            (7, "expected 8 fields, found 4"),
            (8, "field `sex` is not valid UTF-8"),
            (9, "every feature is missing"),
        ];
        assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
        for ((line, reason), (want_line, want)) in reasons.iter().zip(expect) {
            assert_eq!(*line, want_line);
            assert!(
                reason.contains(want),
                "line {line}: `{reason}` lacks `{want}`"
            );
        }
        assert_eq!(c.bronze_rows, 8);
    }

    #[test]
    fn crlf_files_get_the_line_numbers_grep_shows() {
        let lf = format!(
            "{HEADER}Adelie,Dream,39,18,190,3500,male,2008\nAdelie,Dream,abc,18,190,3500,male,2008\n"
        );
        let crlf = lf.replace('\n', "\r\n");
        for text in [&lf, &crlf] {
            let c = clean_bytes(text.as_bytes(), &Schema::bundled(), b',').unwrap();
            assert_eq!(c.quarantined.len(), 1);
            assert_eq!(c.quarantined[0].line, 3, "{text:?}");
            assert_eq!(
                c.quarantined[0].record,
                "Adelie,Dream,abc,18,190,3500,male,2008"
            );
        }
    }

    #[test]
    fn duplicates_are_counted_after_normalisation() {
        let c = clean_text(
            b"Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n\
              adelie,Torgersen,39.10,18.7,181,3750,MALE,2007\n\
              Gentoo,Biscoe,47.5,15,218,4950,female,2009\n",
        );
        assert_eq!((c.rows.len(), c.duplicates, c.bronze_rows), (2, 1, 3));
    }

    #[test]
    fn unusable_files_fail_with_a_clear_message() {
        let schema = Schema::bundled();
        assert!(matches!(
            clean_bytes(b"", &schema, b','),
            Err(DataError::Empty(_))
        ));
        let semicolons =
            HEADER.replace(',', ";") + "Adelie;Torgersen;39.1;18.7;181;3750;male;2007\n";
        let err = clean_bytes(semicolons.as_bytes(), &schema, b',')
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CSV_DELIMITER") && err.contains("`species`"),
            "{err}"
        );
        assert_eq!(
            clean_bytes(semicolons.as_bytes(), &schema, b';')
                .unwrap()
                .rows
                .len(),
            1
        );
        let no_sex = HEADER.replace(",sex", "") + "Adelie,Torgersen,39.1,18.7,181,3750,2007\n";
        let err = clean_bytes(no_sex.as_bytes(), &schema, b',')
            .unwrap_err()
            .to_string();
        assert!(err.contains("`sex`") && !err.contains("`island`"), "{err}");
        assert!(matches!(
            clean_bytes(b"spec\xffies\n", &schema, b','),
            Err(DataError::HeaderNotUtf8)
        ));
    }

    #[test]
    fn bundled_sample_accounts_for_every_row() {
        let c = clean_bytes(super::super::SAMPLE_CSV, &Schema::bundled(), b',').unwrap();
        assert_eq!(c.bronze_rows, 344);
        assert_eq!(
            c.bronze_rows,
            c.rows.len() as u64 + c.quarantined.len() as u64 + c.duplicates
        );
        assert!(c.rows.len() >= 330, "most penguins are valid");
    }
}
