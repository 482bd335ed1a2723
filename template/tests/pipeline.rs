//! End-to-end library tests: the data layers, training determinism, the model artifact and the
//! serving path, on the bundled penguins data in a temporary folder.

use std::path::Path;

use {{crate_name}}::RawRecord;
use {{crate_name}}::artifact::Outcome;
use {{crate_name}}::artifact::{ArtifactError, MODEL_FILE, Model};
use {{crate_name}}::config::{self, GateSettings};
use {{crate_name}}::data::gold::{self, GoldData};
use {{crate_name}}::data::manifest::SilverManifest;
use {{crate_name}}::data::manifest::{BronzeManifest, GoldManifest};
use {{crate_name}}::data::{SAMPLE_CSV, bronze, columnar, silver};
use {{crate_name}}::evaluation::{self, Metrics};
use {{crate_name}}::schema::target::Task;
use {{crate_name}}::schema::{Column, ColumnKind, RecordError};
use {{crate_name}}::schema::{Schema, Value};
use {{crate_name}}::training::{Algorithm, Hyperparameters};
use {{crate_name}}::utils::{hashing, paths};

struct Layers {
    bronze: BronzeManifest,
    silver: SilverManifest,
    gold: GoldManifest,
}

/// The shipped regression example: the bundled columns, predicting body mass.
fn body_mass_schema() -> Schema {
    Schema::from_toml(
        include_str!("../config/examples/penguins-body-mass.toml"),
        "penguins-body-mass.toml",
    )
    .unwrap()
}

fn build_layers(dir: &Path, csv: &[u8], seed: u64) -> Layers {
    build_layers_for(&Schema::bundled(), dir, csv, seed)
}

fn build_layers_for(schema: &Schema, dir: &Path, csv: &[u8], seed: u64) -> Layers {
    let bronze = bronze::write(&paths::bronze(dir), "test", csv, b',').unwrap();
    let silver = silver::build(&paths::bronze(dir), &paths::silver(dir), schema, b',').unwrap();
    let gold = gold::build(&paths::silver(dir), &paths::gold(dir), schema, 0.2, seed).unwrap();
    Layers {
        bronze,
        silver,
        gold,
    }
}

fn train(dir: &Path, algorithm: Algorithm) -> (GoldData, Model) {
    let data = gold::load(&paths::gold(dir)).unwrap();
    let params = Hyperparameters {
        algorithm,
        ..Hyperparameters::default()
    };
    let model = Model::train(&data, &params, "test", "1", None).unwrap();
    (data, model)
}

fn record(pairs: &[(&str, serde_json::Value)]) -> RawRecord {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn valid_record() -> RawRecord {
    use serde_json::json;
    record(&[
        ("island", json!("Biscoe")),
        ("bill_length_mm", json!(47.5)),
        ("bill_depth_mm", json!(15.0)),
        ("flipper_length_mm", json!(217)),
        ("body_mass_g", json!(5076)),
        ("sex", json!("female")),
    ])
}

#[test]
fn layers_account_for_every_row_and_chain_their_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let l = build_layers(dir.path(), SAMPLE_CSV, 42);
    let r = &l.silver.rows;
    assert_eq!(l.bronze.data.rows, 344);
    assert_eq!(r.bronze_rows, r.silver_rows + r.quarantined + r.duplicates);
    assert_eq!(l.gold.train.rows + l.gold.test.rows, r.silver_rows);
    assert_eq!(l.silver.parent_sha256, l.bronze.data.sha256);
    assert_eq!(l.gold.parent_sha256, l.silver.data.sha256);
    let bronze_file = paths::bronze(dir.path()).join(&l.bronze.data.file);
    assert_eq!(
        std::fs::read(bronze_file).unwrap(),
        SAMPLE_CSV,
        "bronze keeps the bytes as received"
    );
    for split in ["train", "test"] {
        let counts = &l.gold.class_counts[split];
        assert!(
            counts.values().all(|&n| n > 0),
            "{split}: every species present"
        );
    }
}

#[test]
fn rerunning_the_pipeline_reproduces_every_hash_and_metric() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (la, lb) = (
        build_layers(a.path(), SAMPLE_CSV, 42),
        build_layers(b.path(), SAMPLE_CSV, 42),
    );
    assert_eq!(la.silver.data, lb.silver.data);
    assert_eq!(la.silver.quarantine, lb.silver.quarantine);
    assert_eq!(
        (&la.gold.train, &la.gold.test, &la.gold.preprocessor),
        (&lb.gold.train, &lb.gold.test, &lb.gold.preprocessor)
    );
    // Re-running in place is idempotent too.
    let again = build_layers(a.path(), SAMPLE_CSV, 42);
    assert_eq!(again.gold.train, la.gold.train);

    for algorithm in [Algorithm::Linear, Algorithm::DecisionTree] {
        let (_, ma) = train(a.path(), algorithm);
        let (_, mb) = train(b.path(), algorithm);
        assert_eq!(ma.metadata.metrics, mb.metadata.metrics, "{algorithm}");
        assert_eq!(
            serde_json::to_string(&ma.estimator).unwrap(),
            serde_json::to_string(&mb.estimator).unwrap(),
            "{algorithm}: same data and seed give the same model"
        );
    }

    let other_seed = build_layers(b.path(), SAMPLE_CSV, 7);
    assert_ne!(other_seed.gold.test.sha256, la.gold.test.sha256);
}

#[test]
fn both_algorithms_pass_the_default_gate() {
    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    let defaults: GateSettings = config::defaults();
    // The default algorithm passes with a wide margin; the tree passes too.
    for (algorithm, floor) in [
        (Algorithm::Linear, 0.97),
        (Algorithm::DecisionTree, defaults.min_macro_f1),
    ] {
        let (_, model) = train(dir.path(), algorithm);
        let Metrics::Classification(m) = &model.metadata.metrics else {
            panic!("the species is a class")
        };
        assert!(m.accuracy >= defaults.min_accuracy, "{algorithm}: {m:?}");
        assert!(
            m.accuracy >= floor && m.macro_f1 >= floor,
            "{algorithm}: {m:?}"
        );
    }
}

#[test]
fn saved_model_round_trips_and_refuses_tampering() {
    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    let (_, model) = train(dir.path(), Algorithm::Linear);
    let model_dir = dir.path().join("models/test-1");
    model.save(&model_dir).unwrap();

    let loaded = Model::load(&model_dir).unwrap();
    assert_eq!(loaded.metadata, model.metadata);
    assert_eq!(
        loaded.predict(&valid_record()),
        model.predict(&valid_record())
    );

    // Flip one byte of the model: the checksum must catch it.
    let model_file = model_dir.join(MODEL_FILE);
    let mut bytes = std::fs::read(&model_file).unwrap();
    let i = bytes.iter().position(|b| b.is_ascii_digit()).unwrap();
    bytes[i] = if bytes[i] == b'9' { b'8' } else { bytes[i] + 1 };
    std::fs::write(&model_file, &bytes).unwrap();
    assert!(matches!(
        Model::load(&model_dir),
        Err(ArtifactError::ChecksumMismatch { .. })
    ));

    std::fs::remove_file(&model_file).unwrap();
    let err = Model::load(&model_dir).unwrap_err();
    assert!(matches!(err, ArtifactError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("model.json"));

    // A file whose checksum was updated but whose content is not a model is corrupt.
    std::fs::write(&model_file, b"{}").unwrap();
    let sums = std::fs::read_to_string(model_dir.join("SHA256SUMS")).unwrap();
    let fixed: String = sums
        .lines()
        .map(|line| match line.split_once("  ") {
            Some((_, "model.json")) => format!("{}  model.json\n", hashing::sha256_hex(b"{}")),
            _ => format!("{line}\n"),
        })
        .collect();
    std::fs::write(model_dir.join("SHA256SUMS"), fixed).unwrap();
    assert!(matches!(
        Model::load(&model_dir),
        Err(ArtifactError::Corrupt { .. })
    ));
}

#[test]
fn promotion_trusts_only_a_passing_gate_result_for_this_model_and_split() {
    use {{crate_name}}::artifact::{self, GateRefusal};
    use {{crate_name}}::artifact::{GateVerdict, PromoteError};
    use {{crate_name}}::evaluation::{self, GateRecord, Thresholds};

    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    let (_, model) = train(dir.path(), Algorithm::Linear);
    let source = dir.path().join("models/test-1");
    let target = dir.path().join("served/current");
    model.save(&source).unwrap();
    let (_, checksum) = Model::load_with_checksum(&source).unwrap();
    let thresholds = config::defaults::<GateSettings>().thresholds();
    let mut record = GateRecord {
        model: "test-1".into(),
        model_checksum: checksum.clone(),
        test_data_sha256: "0".repeat(64),
        thresholds: thresholds.clone(),
        gate: evaluation::quality_gate(&model.metadata.metrics, &thresholds),
        evaluated_at: "2024-01-01T00:00:00Z".into(),
    };
    assert!(record.gate.passed);
    // The right model, but evaluated on another test split.
    artifact::write_gate_record(&source, &record).unwrap();
    let err = artifact::promote(&source, &target, &thresholds, false).unwrap_err();
    assert!(
        matches!(err, PromoteError::Gate(GateRefusal::OtherSplit { .. })),
        "{err}"
    );
    assert!(!target.exists(), "a refused promotion copies nothing");

    record.test_data_sha256 = model.metadata.test_data_sha256.clone();
    artifact::write_gate_record(&source, &record).unwrap();
    let stricter = Thresholds {
        min_accuracy: 0.999_999,
        ..thresholds.clone()
    };
    let err = artifact::promote(&source, &target, &stricter, false).unwrap_err();
    assert!(
        matches!(err, PromoteError::Gate(GateRefusal::LaxThreshold { .. })),
        "{err}"
    );
    let promoted = artifact::promote(&source, &target, &thresholds, false).unwrap();
    assert_eq!(promoted.checksum, checksum, "copied byte for byte");
    assert_eq!(promoted.gate, GateVerdict::Passed(record));
    assert_eq!(Model::load(&target).unwrap().metadata, model.metadata);
}

/// A validated value as a client sends it.
fn as_json(column: &Column, value: &Value) -> serde_json::Value {
    match (value, &column.kind) {
        (Value::Number(x), _) => serde_json::json!(*x),
        (Value::Category(i), ColumnKind::Categorical { categories }) => {
            serde_json::json!(categories[*i])
        }
        _ => serde_json::Value::Null,
    }
}

/// Predicts every held-out row one record at a time, as the API does, and checks the outcome is
/// the one the evaluation scored; returns the outcomes.
fn serve_each_held_out_row(dir: &Path, data: &GoldData, model: &Model) -> Vec<Outcome> {
    let outputs = model.estimator.outputs(data.test_x.view());
    // The held-out rows in raw form, sent the way a client would: numbers, strings, nulls.
    let schema = model.schema();
    let mut values = Vec::new();
    let test_raw = paths::gold(dir).join(gold::TEST_RAW_FILE);
    for batch in columnar::read_rows(&test_raw, schema, None).unwrap() {
        columnar::batch_to_rows(schema, &batch.unwrap(), &mut values).unwrap();
    }
    let rows: Vec<&[Value]> = values.chunks(schema.columns.len()).collect();
    assert!(!rows.is_empty(), "the test split has rows");
    assert_eq!(rows.len(), outputs.nrows());
    rows.iter()
        .zip(outputs.rows())
        .map(|(row, evaluated)| {
            let raw: RawRecord = schema
                .columns
                .iter()
                .zip(row.iter())
                .map(|(column, value)| (column.name.clone(), as_json(column, value)))
                .collect();
            let outcome = model.predict(&raw).unwrap().outcome;
            assert_eq!(outcome, model.outcome(&evaluated.to_vec()));
            outcome
        })
        .collect()
}

#[test]
fn serving_path_matches_batch_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    for algorithm in [Algorithm::Linear, Algorithm::DecisionTree] {
        let (data, model) = train(dir.path(), algorithm);
        for outcome in serve_each_held_out_row(dir.path(), &data, &model) {
            let Outcome::Class { probabilities, .. } = outcome else {
                panic!("{algorithm}: a classifier predicts classes")
            };
            let total: f64 = probabilities.values().sum();
            assert!((total - 1.0).abs() < 1e-9, "{algorithm}");
        }
    }
}

#[test]
fn a_numeric_target_trains_regressions_that_pass_the_default_gate() {
    let dir = tempfile::tempdir().unwrap();
    let layers = build_layers_for(&body_mass_schema(), dir.path(), SAMPLE_CSV, 42);
    assert!(layers.gold.class_counts.is_empty(), "no classes to count");
    let defaults = config::defaults::<GateSettings>().thresholds();
    for algorithm in [Algorithm::Linear, Algorithm::DecisionTree] {
        let (data, model) = train(dir.path(), algorithm);
        assert_eq!(
            model.metadata.task(),
            &Task::Regression {
                unit: Some("g".into())
            }
        );
        let Metrics::Regression(m) = &model.metadata.metrics else {
            panic!("{algorithm}: body mass is a number")
        };
        // Species, sex and the measurements explain most of the mass (scikit-learn's Ridge on the
        // same split: see bench/RESULTS.md).
        assert!(m.r2 > 0.75, "{algorithm}: {m:?}");
        assert!(
            m.rmse < m.baseline.rmse && m.mae < m.baseline.mae,
            "{algorithm}: {m:?}"
        );
        assert!(evaluation::quality_gate(&model.metadata.metrics, &defaults).passed);
        for outcome in serve_each_held_out_row(dir.path(), &data, &model) {
            let Outcome::Value { value } = outcome else {
                panic!("{algorithm}: a regression predicts values")
            };
            assert!((2000.0..7000.0).contains(&value), "{algorithm}: {value} g");
        }
    }
    // The split keeps the target's distribution: both halves span light and heavy birds.
    let (train_rows, test_rows) = (layers.gold.train.rows, layers.gold.test.rows);
    assert_eq!(train_rows + test_rows, layers.silver.rows.silver_rows);
    assert!((test_rows as f64 / (train_rows + test_rows) as f64 - 0.2).abs() < 0.02);
}

#[test]
fn predict_names_the_offending_field() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    let (_, model) = train(dir.path(), Algorithm::Linear);
    let Outcome::Class { class, .. } = model.predict(&valid_record()).unwrap().outcome else {
        panic!("the species is a class")
    };
    assert_eq!(class, "Gentoo");

    let with = |field: &str, value: serde_json::Value| {
        let mut r = valid_record();
        r.insert(field.to_owned(), value);
        model.predict(&r).unwrap_err()
    };
    let mut missing = valid_record();
    missing.remove("bill_depth_mm");
    let cases = [
        (model.predict(&missing).unwrap_err(), "bill_depth_mm"),
        (with("island", json!(3)), "island"),
        (with("sex", json!("unknown")), "sex"),
        (with("body_mass_g", json!("NaN")), "body_mass_g"),
        (with("flipper_length_mm", json!(1000)), "flipper_length_mm"),
        (with("bill_length_mm", json!("long")), "bill_length_mm"),
    ];
    for (err, field) in cases {
        assert_eq!(err.field(), field, "{err}");
    }
    // A numeric field takes a JSON number; text is only a missing-value token.
    assert!(matches!(
        with("body_mass_g", json!("5000")),
        RecordError::WrongType { .. }
    ));
    // A null feature is imputed, as in training.
    assert!(
        model.predict(&record(&[("sex", json!(null))])).is_err(),
        "other fields still required"
    );
    let mut nulls = valid_record();
    nulls.insert("sex".into(), json!(null));
    assert!(model.predict(&nulls).is_ok());
}

#[test]
fn malformed_rows_are_quarantined_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = SAMPLE_CSV.to_vec();
    csv.extend_from_slice(b"Adelie,Dream,thirty,18,190,3500,male,2008\n");
    csv.extend_from_slice(b"Adelie,Dream,39,18,190\n");
    csv.extend_from_slice(b"Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n"); // duplicate of line 2
    let l = build_layers(dir.path(), &csv, 42);
    let r = &l.silver.rows;
    assert_eq!((r.bronze_rows, r.quarantined, r.duplicates), (347, 2, 1));
    assert_eq!(r.silver_rows, 344);
    let quarantine =
        std::fs::read_to_string(paths::silver(dir.path()).join(silver::QUARANTINE_FILE)).unwrap();
    assert!(
        quarantine.contains("346,") && quarantine.contains("not a number"),
        "{quarantine}"
    );
    assert!(
        quarantine.contains("347,") && quarantine.contains("expected 8 fields"),
        "{quarantine}"
    );
}

#[test]
fn a_tampered_layer_is_refused_downstream() {
    let dir = tempfile::tempdir().unwrap();
    build_layers(dir.path(), SAMPLE_CSV, 42);
    let train_file = paths::gold(dir.path()).join(gold::TRAIN_FILE);
    let mut bytes = std::fs::read(&train_file).unwrap();
    bytes.push(b'\n');
    std::fs::write(&train_file, bytes).unwrap();
    let err = gold::load(&paths::gold(dir.path()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("sha256") && err.contains("make_dataset"),
        "{err}"
    );
}
