//! Gold: model-ready data. A seeded, stratified train/test split of silver (by class, or by
//! target quantile for a numeric target); the [`Preprocessor`] fitted on the training rows only;
//! and both splits transformed into numeric feature tables.
//!
//! Silver is streamed three times, batch by batch: its target column to draw the split, the
//! training rows to fit the preprocessor, and every row to write the splits. Memory holds one
//! target per row and the training values of numeric features (their medians need them), never
//! the whole layer.

use super::columnar::{self, Encoder};
use super::manifest::{self, GoldManifest, MANIFEST_FILE, SchemaSummary, SilverManifest};
use super::{DataError, io_error};
use crate::features::{Fitter, Preprocessor};
use crate::schema::target::{Targets, Task};
use crate::schema::{Schema, Value};
use crate::utils::{fs, time};
use ndarray::Array2;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const TRAIN_FILE: &str = "train.parquet";
pub const TEST_FILE: &str = "test.parquet";
pub const TEST_RAW_FILE: &str = "test_raw.parquet";
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

/// Bins of a numeric target for its stratified split: enough to keep the target's distribution
/// alike in both parts, few enough that every bin has rows on both sides.
const QUANTILE_BINS: usize = 10;

/// Labels each value with its quantile bin (up to [`QUANTILE_BINS`], each of at least two rows
/// when there are two rows or more); returns the labels and the number of bins.
pub fn quantile_bins(values: &[f64]) -> (Vec<usize>, usize) {
    let bins = (values.len() / 2).clamp(1, QUANTILE_BINS);
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut labels = vec![0; values.len()];
    for (rank, &row) in order.iter().enumerate() {
        labels[row] = rank * bins / values.len();
    }
    (labels, bins)
}

/// Reads every silver row in batches, handing each batch's values (row after row; only the given
/// columns, if any) to `each`.
fn for_each_batch(
    path: &Path,
    schema: &Schema,
    columns: Option<&[usize]>,
    mut each: impl FnMut(&[Value]) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let read = match columns {
        Some(columns) => Schema {
            columns: columns.iter().map(|&i| schema.columns[i].clone()).collect(),
            ..schema.clone()
        },
        None => schema.clone(),
    };
    let mut values = Vec::new();
    for batch in columnar::read_rows(path, schema, columns)? {
        values.clear();
        columnar::batch_to_rows(&read, &batch?, &mut values).map_err(|message| {
            DataError::CorruptLayer {
                layer: "silver",
                path: path.to_owned(),
                message,
            }
        })?;
        each(&values)?;
    }
    Ok(())
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
    let silver = manifest::verify_file("silver", silver_dir, &silver_manifest.data)?;
    let task = schema.task();
    let width = schema.columns.len();

    // Pass 1: the target column alone decides the split.
    let mut targets = Targets::new(&task);
    for_each_batch(&silver, schema, Some(&[schema.target_index()]), |values| {
        for value in values {
            match (&mut targets, value) {
                (Targets::Classes(classes), Value::Category(c)) => classes.push(*c),
                (Targets::Values(numbers), Value::Number(x)) => numbers.push(*x),
                _ => {
                    return Err(DataError::CorruptLayer {
                        layer: "silver",
                        path: silver.clone(),
                        message: "a row has no target".into(),
                    });
                }
            }
        }
        Ok(())
    })?;
    let (train_idx, test_idx) = match &targets {
        Targets::Classes(labels) => {
            stratified_split(labels, task.classes().len(), test_fraction, seed)
        }
        Targets::Values(values) => {
            let (bins, n_bins) = quantile_bins(values);
            stratified_split(&bins, n_bins, test_fraction, seed)
        }
    };
    if train_idx.is_empty() || test_idx.is_empty() {
        let needs = match task {
            Task::Classification { .. } => "each class needs at least two rows",
            Task::Regression { .. } => "it needs at least two rows",
        };
        return Err(DataError::Split(format!(
            "{} valid rows leave the train or test split empty; {needs}",
            targets.len()
        )));
    }
    let mut in_test = vec![false; targets.len()];
    test_idx.iter().for_each(|&i| in_test[i] = true);

    // Pass 2: fit the preprocessing on the training rows only.
    let mut fitter = Fitter::new(schema);
    let mut row = 0;
    for_each_batch(&silver, schema, None, |values| {
        for values in values.chunks_exact(width) {
            if !in_test[row] {
                fitter.add(values);
            }
            row += 1;
        }
        Ok(())
    })?;
    let preprocessor = fitter.finish()?;
    let names = preprocessor.feature_names();

    // Pass 3: transform every row into its split.
    let features = columnar::features_schema(&names, &schema.target, &task);
    let silver_arrow = columnar::silver_schema(schema);
    let mut train_file = Encoder::create(gold_dir, features.clone())?;
    let mut test_file = Encoder::create(gold_dir, features.clone())?;
    let mut test_raw_file = Encoder::create(gold_dir, silver_arrow.clone())?;
    let mut row = 0;
    for_each_batch(&silver, schema, None, |values| {
        let (mut train, mut test) = (Split::new(&task), Split::new(&task));
        let mut test_raw = Vec::new();
        for values in values.chunks_exact(width) {
            let split = if in_test[row] {
                test_raw.extend_from_slice(values);
                &mut test
            } else {
                &mut train
            };
            preprocessor.transform_into(values, &mut split.x);
            split.y.push_from(&targets, row);
            row += 1;
        }
        train_file.write(columnar::features_to_batch(
            &features, &task, &train.x, &train.y,
        ))?;
        test_file.write(columnar::features_to_batch(
            &features, &task, &test.x, &test.y,
        ))?;
        test_raw_file.write(columnar::rows_to_batch(schema, &silver_arrow, &test_raw))?;
        Ok(())
    })?;

    let mut preprocessor_json =
        serde_json::to_vec_pretty(&preprocessor).expect("a preprocessor always serialises");
    preprocessor_json.push(b'\n');
    let preprocessor_path = gold_dir.join(PREPROCESSOR_FILE);
    fs::write_atomic(&preprocessor_path, &preprocessor_json)
        .map_err(io_error(&preprocessor_path))?;

    let class_counts = match &targets {
        Targets::Classes(labels) => {
            let classes = task.classes();
            let count = |indexes: &[usize]| -> BTreeMap<String, u64> {
                let mut counts: BTreeMap<String, u64> =
                    classes.iter().map(|c| (c.clone(), 0)).collect();
                for &i in indexes {
                    *counts.entry(classes[labels[i]].clone()).or_default() += 1;
                }
                counts
            };
            BTreeMap::from([
                ("train".to_owned(), count(&train_idx)),
                ("test".to_owned(), count(&test_idx)),
            ])
        }
        Targets::Values(_) => BTreeMap::new(),
    };
    let manifest = GoldManifest {
        layer: "gold".to_owned(),
        created_at: time::now_rfc3339(),
        parent_sha256: silver_manifest.data.sha256,
        schema: SchemaSummary::of(schema),
        split_seed: seed,
        test_fraction,
        features: names,
        train: train_file.commit(gold_dir, TRAIN_FILE)?,
        test: test_file.commit(gold_dir, TEST_FILE)?,
        test_raw: test_raw_file.commit(gold_dir, TEST_RAW_FILE)?,
        preprocessor: manifest::entry(PREPROCESSOR_FILE, &preprocessor_json, 0),
        class_counts,
    };
    let path = gold_dir.join(MANIFEST_FILE);
    fs::write_json_atomic(&path, &manifest).map_err(io_error(&path))?;
    Ok(manifest)
}

/// Model inputs (row-major) and targets of some rows.
struct Split {
    x: Vec<f64>,
    y: Targets,
}

impl Split {
    fn new(task: &Task) -> Self {
        Self {
            x: Vec::new(),
            y: Targets::new(task),
        }
    }
}

/// The gold layer's manifest and preprocessor, verified; each split is read when it is needed.
pub struct GoldLayer {
    pub manifest: GoldManifest,
    pub preprocessor: Preprocessor,
    dir: PathBuf,
}

impl GoldLayer {
    /// Opens the gold layer in `gold_dir`, checking the preprocessor's hash.
    pub fn open(gold_dir: &Path) -> Result<Self, DataError> {
        let manifest: GoldManifest = manifest::read("gold", gold_dir)?;
        let bytes = manifest::read_verified("gold", gold_dir, &manifest.preprocessor)?;
        let preprocessor =
            serde_json::from_slice(&bytes).map_err(|err| DataError::CorruptLayer {
                layer: "gold",
                path: gold_dir.join(PREPROCESSOR_FILE),
                message: err.to_string(),
            })?;
        Ok(Self {
            manifest,
            preprocessor,
            dir: gold_dir.to_owned(),
        })
    }

    /// The training split's inputs and targets, verified against the manifest.
    pub fn train(&self) -> Result<(Array2<f64>, Targets), DataError> {
        self.read(&self.manifest.train)
    }

    /// The held-out split's inputs and targets, verified against the manifest.
    pub fn test(&self) -> Result<(Array2<f64>, Targets), DataError> {
        self.read(&self.manifest.test)
    }

    fn read(&self, entry: &manifest::FileEntry) -> Result<(Array2<f64>, Targets), DataError> {
        let path = manifest::verify_file("gold", &self.dir, entry)?;
        let names = self.preprocessor.feature_names();
        columnar::read_features(&path, &names, &self.preprocessor.schema().task())
    }
}

/// The gold layer loaded for training: both splits, verified against the manifest.
pub struct GoldData {
    pub manifest: GoldManifest,
    pub preprocessor: Preprocessor,
    pub train_x: Array2<f64>,
    pub train_y: Targets,
    pub test_x: Array2<f64>,
    pub test_y: Targets,
}

/// Loads the gold layer, checking every file's hash.
pub fn load(gold_dir: &Path) -> Result<GoldData, DataError> {
    let layer = GoldLayer::open(gold_dir)?;
    let (train_x, train_y) = layer.train()?;
    let (test_x, test_y) = layer.test()?;
    Ok(GoldData {
        manifest: layer.manifest,
        preprocessor: layer.preprocessor,
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
    fn quantile_bins_are_equal_sized_and_ordered() {
        let values: Vec<f64> = (0..100).map(|i| ((i * 37) % 100) as f64).collect();
        let (bins, n) = quantile_bins(&values);
        assert_eq!(n, 10);
        for (value, bin) in values.iter().zip(&bins) {
            assert_eq!(*bin, *value as usize / 10, "value {value}");
        }
        let (train, test) = stratified_split(&bins, n, 0.2, 3);
        assert_eq!(test.len(), 20);
        for bin in 0..n {
            assert_eq!(test.iter().filter(|&&i| bins[i] == bin).count(), 2);
        }
        assert_eq!(train.len(), 80);
        assert_eq!(quantile_bins(&[5.0, 1.0, 3.0]), (vec![0, 0, 0], 1));
    }

    #[test]
    fn tiny_classes_keep_a_row_on_each_side() {
        let (train, test) = stratified_split(&[0, 0, 1], 2, 0.01, 1);
        assert_eq!((train.len(), test.len()), (2, 1));
    }
}
