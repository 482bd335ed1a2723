//! Gold: model-ready data. A seeded, stratified train/test split of silver; the [`Preprocessor`]
//! fitted on the training rows only; and both splits transformed into numeric feature tables.

use super::manifest::{self, GoldManifest, MANIFEST_FILE, SchemaSummary, SilverManifest};
use super::schema::{Schema, Value};
use super::{DataError, io_error, silver};
use crate::features::Preprocessor;
use crate::utils::{fs, time};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::path::Path;

pub const TRAIN_FILE: &str = "train.csv";
pub const TEST_FILE: &str = "test.csv";
pub const TEST_RAW_FILE: &str = "test_raw.csv";
pub const PREPROCESSOR_FILE: &str = "preprocessor.json";

/// SplitMix64: a tiny, fully specified generator. Unlike library RNGs, its output can never change
/// with a dependency upgrade, so a seed reproduces the same split forever.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// A uniform float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Splits row indexes so each class keeps its share in both parts; returns sorted (train, test).
///
/// A class with at least two rows gets at least one row on each side.
pub fn stratified_split(
    labels: &[usize],
    n_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in 0..n_classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        // Fisher-Yates shuffle.
        for i in (1..members.len()).rev() {
            members.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let n = members.len();
        let n_test = if n < 2 {
            0
        } else {
            ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1)
        };
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Renders features and labels as a gold CSV: one column per model input, then the target.
pub fn features_csv(
    names: &[String],
    target: &str,
    classes: &[String],
    x: &Array2<f64>,
    y: &[usize],
) -> Result<Vec<u8>, DataError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(names.iter().map(String::as_str).chain([target]))?;
    for (row, &label) in x.rows().into_iter().zip(y) {
        // `{}` prints the shortest text that parses back to the same f64: exact and reproducible.
        writer.write_record(
            row.iter()
                .map(|v| v.to_string())
                .chain([classes[label].clone()]),
        )?;
    }
    writer
        .into_inner()
        .map_err(|err| DataError::Csv(err.into_error().into()))
}

/// Parses a gold CSV back into inputs and class indexes, checking its header against `names`.
pub fn read_features(
    bytes: &[u8],
    names: &[String],
    classes: &[String],
) -> Result<(Array2<f64>, Vec<usize>), DataError> {
    let corrupt = |message: String| DataError::CorruptLayer {
        layer: "gold",
        path: "features file".into(),
        message,
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    if header.len() != names.len() + 1 || header[..names.len()] != *names {
        return Err(corrupt(
            "its columns differ from the preprocessor's features".into(),
        ));
    }
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for record in reader.records() {
        let record = record?;
        for field in record.iter().take(names.len()) {
            values.push(
                field
                    .parse::<f64>()
                    .map_err(|_| corrupt(format!("`{field}` is not a number")))?,
            );
        }
        let label = &record[names.len()];
        labels.push(
            classes
                .iter()
                .position(|c| c == label)
                .ok_or_else(|| corrupt(format!("unknown class `{label}`")))?,
        );
    }
    let x = Array2::from_shape_vec((labels.len(), names.len()), values)
        .map_err(|err| corrupt(err.to_string()))?;
    Ok((x, labels))
}

/// Builds the gold layer in `gold_dir` from the silver layer in `silver_dir`.
pub fn build(
    silver_dir: &Path,
    gold_dir: &Path,
    schema: &Schema,
    test_fraction: f64,
    seed: u64,
) -> Result<GoldManifest, DataError> {
    let silver_manifest: SilverManifest = manifest::read("silver", silver_dir)?;
    if silver_manifest.schema.sha256 != schema.fingerprint() {
        return Err(DataError::CorruptLayer {
            layer: "silver",
            path: silver_dir.to_owned(),
            message: "it was built with a different schema".into(),
        });
    }
    let bytes = manifest::read_verified("silver", silver_dir, &silver_manifest.data)?;
    let rows = silver::from_csv(schema, &bytes)?;
    let target = schema.target_index();
    let classes = schema.classes();
    let labels: Vec<usize> = rows
        .iter()
        .map(|row| match row[target] {
            Value::Category(c) => c,
            _ => unreachable!("silver rows always have a target"),
        })
        .collect();

    let (train_idx, test_idx) = stratified_split(&labels, classes.len(), test_fraction, seed);
    if train_idx.is_empty() || test_idx.is_empty() {
        return Err(DataError::Split(format!(
            "{} valid rows leave the train or test split empty; each class needs at least two rows",
            rows.len()
        )));
    }
    let pick = |idx: &[usize]| -> (Vec<Vec<Value>>, Vec<usize>) {
        (
            idx.iter().map(|&i| rows[i].clone()).collect(),
            idx.iter().map(|&i| labels[i]).collect(),
        )
    };
    let (train_rows, train_y) = pick(&train_idx);
    let (test_rows, test_y) = pick(&test_idx);

    let preprocessor = Preprocessor::fit(schema, &train_rows)?;
    let names = preprocessor.feature_names();
    let train = features_csv(
        &names,
        &schema.target,
        classes,
        &preprocessor.transform(&train_rows),
        &train_y,
    )?;
    let test = features_csv(
        &names,
        &schema.target,
        classes,
        &preprocessor.transform(&test_rows),
        &test_y,
    )?;
    let test_raw = silver::to_csv(schema, &test_rows)?;
    let mut preprocessor_json =
        serde_json::to_vec_pretty(&preprocessor).expect("a preprocessor always serialises");
    preprocessor_json.push(b'\n');

    let count = |y: &[usize]| -> BTreeMap<String, u64> {
        let mut counts: BTreeMap<String, u64> = classes.iter().map(|c| (c.clone(), 0)).collect();
        for &label in y {
            *counts.entry(classes[label].clone()).or_default() += 1;
        }
        counts
    };
    let manifest = GoldManifest {
        layer: "gold".to_owned(),
        created_at: time::now_rfc3339(),
        parent_sha256: silver_manifest.data.sha256,
        schema: SchemaSummary::of(schema),
        split_seed: seed,
        test_fraction,
        features: names,
        train: manifest::entry(TRAIN_FILE, &train, train_y.len() as u64),
        test: manifest::entry(TEST_FILE, &test, test_y.len() as u64),
        test_raw: manifest::entry(TEST_RAW_FILE, &test_raw, test_y.len() as u64),
        preprocessor: manifest::entry(PREPROCESSOR_FILE, &preprocessor_json, 0),
        class_counts: BTreeMap::from([
            ("train".to_owned(), count(&train_y)),
            ("test".to_owned(), count(&test_y)),
        ]),
    };
    for (file, bytes) in [
        (TRAIN_FILE, &train),
        (TEST_FILE, &test),
        (TEST_RAW_FILE, &test_raw),
        (PREPROCESSOR_FILE, &preprocessor_json),
    ] {
        let path = gold_dir.join(file);
        fs::write_atomic(&path, bytes).map_err(io_error(&path))?;
    }
    let path = gold_dir.join(MANIFEST_FILE);
    fs::write_json_atomic(&path, &manifest).map_err(io_error(&path))?;
    Ok(manifest)
}

/// The gold layer loaded for training or evaluation, verified against its manifest.
pub struct GoldData {
    pub manifest: GoldManifest,
    pub preprocessor: Preprocessor,
    pub train_x: Array2<f64>,
    pub train_y: Vec<usize>,
    pub test_x: Array2<f64>,
    pub test_y: Vec<usize>,
}

/// Loads the gold layer, checking every file's hash.
pub fn load(gold_dir: &Path) -> Result<GoldData, DataError> {
    let manifest: GoldManifest = manifest::read("gold", gold_dir)?;
    let pre_bytes = manifest::read_verified("gold", gold_dir, &manifest.preprocessor)?;
    let preprocessor: Preprocessor =
        serde_json::from_slice(&pre_bytes).map_err(|err| DataError::CorruptLayer {
            layer: "gold",
            path: gold_dir.join(PREPROCESSOR_FILE),
            message: err.to_string(),
        })?;
    let names = preprocessor.feature_names();
    let classes = preprocessor.schema().classes().to_vec();
    let (train_x, train_y) = read_features(
        &manifest::read_verified("gold", gold_dir, &manifest.train)?,
        &names,
        &classes,
    )?;
    let (test_x, test_y) = read_features(
        &manifest::read_verified("gold", gold_dir, &manifest.test)?,
        &names,
        &classes,
    )?;
    Ok(GoldData {
        manifest,
        preprocessor,
        train_x,
        train_y,
        test_x,
        test_y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stratified_seeded_and_complete() {
        let labels: Vec<usize> = (0..100)
            .map(|i| {
                if i < 60 {
                    0
                } else if i < 90 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let (train, test) = stratified_split(&labels, 3, 0.2, 7);
        assert_eq!(train.len() + test.len(), 100);
        let in_test = |c: usize| test.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!((in_test(0), in_test(1), in_test(2)), (12, 6, 2));
        assert!(train.iter().all(|i| !test.contains(i)));
        assert_eq!(
            stratified_split(&labels, 3, 0.2, 7),
            (train.clone(), test.clone())
        );
        assert_ne!(
            stratified_split(&labels, 3, 0.2, 8).1,
            test,
            "another seed, another split"
        );
    }

    #[test]
    fn tiny_classes_keep_a_row_on_each_side() {
        let (train, test) = stratified_split(&[0, 0, 1], 2, 0.01, 1);
        assert_eq!((train.len(), test.len()), (2, 1));
    }

    #[test]
    fn features_round_trip_exactly() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let classes = vec!["x".to_owned(), "y".to_owned()];
        let x = ndarray::array![[0.1, -1.0 / 3.0], [1e-300, 2.5]];
        let bytes = features_csv(&names, "t", &classes, &x, &[1, 0]).unwrap();
        let (x2, y2) = read_features(&bytes, &names, &classes).unwrap();
        assert_eq!((x2, y2), (x, vec![1, 0]));
        assert!(read_features(&bytes, &["a".into(), "c".into()], &classes).is_err());
    }
}
