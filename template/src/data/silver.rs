//! Silver: every bronze row is typed and validated against the schema. Valid rows are normalised
//! and deduplicated; invalid rows go to `quarantine.csv` with their line number and the reason, so
//! nothing is silently lost: `bronze rows = silver rows + quarantined + duplicates`.

use super::manifest::{
    self, BronzeManifest, MANIFEST_FILE, RowAccounting, SchemaSummary, SilverManifest,
};
use super::schema::{Schema, Value};
use super::{DataError, io_error};
use crate::utils::{fs, time};
use std::collections::HashSet;
use std::path::Path;

/// Silver file of valid rows.
pub const DATA_FILE: &str = "data.csv";
/// Silver file of rejected rows.
pub const QUARANTINE_FILE: &str = "quarantine.csv";

/// A row that failed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedRow {
    /// 1-based line of the row in the bronze file (the header is line 1).
    pub line: u64,
    pub reason: String,
    /// The raw row, fields re-joined with the delimiter (invalid UTF-8 shown as U+FFFD).
    pub record: String,
}

/// The outcome of cleaning one bronze file.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleaned {
    /// Valid, distinct rows: one value per schema column, in schema order.
    pub rows: Vec<Vec<Value>>,
    pub quarantined: Vec<QuarantinedRow>,
    pub duplicates: u64,
    pub bronze_rows: u64,
}

/// Validates, normalises and deduplicates the rows of a raw CSV.
///
/// Fails as a whole only when the file cannot be used at all (no header, a schema column missing
/// from the header); row-level problems are quarantined instead.
pub fn clean(bytes: &[u8], schema: &Schema, delimiter: u8) -> Result<Cleaned, DataError> {
    let mut reader = super::raw_csv_reader(bytes, delimiter);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        return Err(DataError::Empty("file".to_owned()));
    }
    let header = parse_header(&record)?;
    let positions = column_positions(schema, &header)?;
    let target = schema.target_index();

    let mut cleaned = Cleaned {
        rows: Vec::new(),
        quarantined: Vec::new(),
        duplicates: 0,
        bronze_rows: 0,
    };
    let mut seen = HashSet::new();
    while reader.read_byte_record(&mut record)? {
        cleaned.bronze_rows += 1;
        let line = record.position().map_or(0, |p| p.line());
        match validate(schema, &positions, header.len(), target, &record) {
            Ok(row) => {
                if seen.insert(row_key(&row)) {
                    cleaned.rows.push(row);
                } else {
                    cleaned.duplicates += 1;
                }
            }
            Err(reason) => cleaned.quarantined.push(QuarantinedRow {
                line,
                reason,
                record: join_lossy(&record, delimiter),
            }),
        }
    }
    Ok(cleaned)
}

fn parse_header(record: &csv::ByteRecord) -> Result<Vec<String>, DataError> {
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
fn column_positions(schema: &Schema, header: &[String]) -> Result<Vec<usize>, DataError> {
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

fn validate(
    schema: &Schema,
    positions: &[usize],
    width: usize,
    target: usize,
    record: &csv::ByteRecord,
) -> Result<Vec<Value>, String> {
    if record.len() != width {
        return Err(format!("expected {width} fields, found {}", record.len()));
    }
    let mut row = Vec::with_capacity(positions.len());
    let mut problems = Vec::new();
    for (column, &position) in schema.columns.iter().zip(positions) {
        let Ok(text) = std::str::from_utf8(&record[position]) else {
            problems.push(format!("field `{}` is not valid UTF-8", column.name));
            row.push(Value::Missing);
            continue;
        };
        match schema.parse_text(column, text) {
            Ok(value) => row.push(value),
            Err(err) => {
                problems.push(err.to_string());
                row.push(Value::Missing);
            }
        }
    }
    if problems.is_empty() && row[target] == Value::Missing {
        problems.push(format!("missing target `{}`", schema.target));
    }
    if problems.is_empty()
        && schema
            .feature_columns()
            .all(|(i, _)| row[i] == Value::Missing)
    {
        problems.push("every feature is missing".to_owned());
    }
    if problems.is_empty() {
        Ok(row)
    } else {
        Err(problems.join("; "))
    }
}

/// A row's identity for deduplication: every value as 64 bits (a number's bit pattern, a
/// category's index, NaN's pattern for a missing value, which no validated number has). Rows share
/// a key exactly when their canonical text does, and it is far cheaper to hash than formatted text.
fn row_key(row: &[Value]) -> Vec<u64> {
    row.iter()
        .map(|value| match *value {
            Value::Missing => u64::MAX,
            Value::Number(number) => number.to_bits(),
            Value::Category(index) => index as u64,
        })
        .collect()
}

fn join_lossy(record: &csv::ByteRecord, delimiter: u8) -> String {
    let parts: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    parts.join(&char::from(delimiter).to_string())
}

/// Renders validated rows as CSV with the schema's columns and canonical values.
pub fn to_csv(schema: &Schema, rows: &[Vec<Value>]) -> Result<Vec<u8>, DataError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(schema.columns.iter().map(|c| c.name.as_str()))?;
    for row in rows {
        writer.write_record(
            schema
                .columns
                .iter()
                .zip(row)
                .map(|(c, v)| schema.format_value(c, *v)),
        )?;
    }
    writer
        .into_inner()
        .map_err(|err| DataError::Csv(err.into_error().into()))
}

/// Parses a silver-format CSV (as written by [`to_csv`]) back into validated rows.
pub fn from_csv(schema: &Schema, bytes: &[u8]) -> Result<Vec<Vec<Value>>, DataError> {
    let cleaned = clean(bytes, schema, b',')?;
    if let Some(bad) = cleaned.quarantined.first() {
        return Err(DataError::CorruptLayer {
            layer: "silver",
            path: DATA_FILE.into(),
            message: format!("line {}: {}", bad.line, bad.reason),
        });
    }

    Ok(cleaned.rows)
}

fn quarantine_csv(rows: &[QuarantinedRow]) -> Result<Vec<u8>, DataError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["line", "reason", "record"])?;
    for row in rows {
        writer.write_record([row.line.to_string().as_str(), &row.reason, &row.record])?;
    }
    writer
        .into_inner()
        .map_err(|err| DataError::Csv(err.into_error().into()))
}

/// Builds the silver layer in `silver_dir` from the bronze layer in `bronze_dir`.
pub fn build(
    bronze_dir: &Path,
    silver_dir: &Path,
    schema: &Schema,
    delimiter: u8,
) -> Result<SilverManifest, DataError> {
    let bronze: BronzeManifest = manifest::read("bronze", bronze_dir)?;
    let bytes = manifest::read_verified("bronze", bronze_dir, &bronze.data)?;
    let cleaned = clean(&bytes, schema, delimiter)?;

    let rows = RowAccounting {
        bronze_rows: cleaned.bronze_rows,
        silver_rows: cleaned.rows.len() as u64,
        quarantined: cleaned.quarantined.len() as u64,
        duplicates: cleaned.duplicates,
    };
    // Bronze counted rows independently; a disagreement would mean rows were lost.
    if rows.bronze_rows != bronze.data.rows
        || rows.bronze_rows != rows.silver_rows + rows.quarantined + rows.duplicates
    {
        return Err(DataError::CorruptLayer {
            layer: "silver",
            path: silver_dir.to_owned(),
            message: format!(
                "row accounting does not add up: {rows:?}, bronze manifest says {}",
                bronze.data.rows
            ),
        });
    }
    // A few examples help at the terminal; the full list is in quarantine.csv.
    const SHOWN: usize = 10;
    for row in cleaned.quarantined.iter().take(SHOWN) {
        tracing::warn!(line = row.line, reason = %row.reason, "row quarantined");
    }
    if cleaned.quarantined.len() > SHOWN {
        let more = cleaned.quarantined.len() - SHOWN;
        tracing::warn!("{more} more rows quarantined, see {QUARANTINE_FILE}");
    }

    let data = to_csv(schema, &cleaned.rows)?;
    let quarantine = quarantine_csv(&cleaned.quarantined)?;
    let manifest = SilverManifest {
        layer: "silver".to_owned(),
        created_at: time::now_rfc3339(),
        parent_sha256: bronze.data.sha256,
        schema: SchemaSummary::of(schema),
        data: manifest::entry(DATA_FILE, &data, rows.silver_rows),
        quarantine: manifest::entry(QUARANTINE_FILE, &quarantine, rows.quarantined),
        rows,
    };
    for (file, bytes) in [(DATA_FILE, &data), (QUARANTINE_FILE, &quarantine)] {
        let path = silver_dir.join(file);
        fs::write_atomic(&path, bytes).map_err(io_error(&path))?;
    }
    let path = silver_dir.join(MANIFEST_FILE);
    fs::write_json_atomic(&path, &manifest).map_err(io_error(&path))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n";

    fn clean_text(body: &[u8]) -> Cleaned {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(body);
        clean(&bytes, &Schema::bundled(), b',').unwrap()
    }

    #[test]
    fn valid_rows_are_normalised() {
        let c = clean_text(b" adelie ,TORGERSEN,39.10,18.7,181,3750,NA,2007\n");
        assert_eq!(c.rows.len(), 1);
        let csv = String::from_utf8(to_csv(&Schema::bundled(), &c.rows).unwrap()).unwrap();
        assert!(
            csv.ends_with("Adelie,Torgersen,39.1,18.7,181,3750,,2007\n"),
            "{csv}"
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
            clean(b"", &schema, b','),
            Err(DataError::Empty(_))
        ));
        let semicolons =
            HEADER.replace(',', ";") + "Adelie;Torgersen;39.1;18.7;181;3750;male;2007\n";
        let err = clean(semicolons.as_bytes(), &schema, b',')
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CSV_DELIMITER") && err.contains("`species`"),
            "{err}"
        );
        assert_eq!(
            clean(semicolons.as_bytes(), &schema, b';')
                .unwrap()
                .rows
                .len(),
            1
        );
        let no_sex = HEADER.replace(",sex", "") + "Adelie,Torgersen,39.1,18.7,181,3750,2007\n";
        let err = clean(no_sex.as_bytes(), &schema, b',')
            .unwrap_err()
            .to_string();
        assert!(err.contains("`sex`") && !err.contains("`island`"), "{err}");
        assert!(matches!(
            clean(b"spec\xffies\n", &schema, b','),
            Err(DataError::HeaderNotUtf8)
        ));
    }

    #[test]
    fn bundled_sample_accounts_for_every_row() {
        let c = clean(super::super::SAMPLE_CSV, &Schema::bundled(), b',').unwrap();
        assert_eq!(c.bronze_rows, 344);
        assert_eq!(
            c.bronze_rows,
            c.rows.len() as u64 + c.quarantined.len() as u64 + c.duplicates
        );
        assert!(c.rows.len() >= 330, "most penguins are valid");
    }
}
