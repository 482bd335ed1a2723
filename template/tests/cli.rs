//! The binaries as a user runs them: in a project folder, with `--help`, clear one-line errors
//! and the exit codes the Makefile relies on.

use std::path::Path;
use std::process::{Command, Output};

use {{crate_name}}::utils::config::SETTINGS;

const MAKE_DATASET: &str = env!("CARGO_BIN_EXE_make_dataset");
const TRAIN_MODEL: &str = env!("CARGO_BIN_EXE_train_model");
const TEST_MODEL: &str = env!("CARGO_BIN_EXE_test_model");
const PREDICT_MODEL: &str = env!("CARGO_BIN_EXE_predict_model");
const MAKE_REPORTS: &str = env!("CARGO_BIN_EXE_make_reports");
{%- if api %}
const PROMOTE_MODEL: &str = env!("CARGO_BIN_EXE_promote_model");
{%- endif %}
const BENCH_PIPELINE: &str = env!("CARGO_BIN_EXE_bench_pipeline");

const BINARIES: &[&str] = &[
    MAKE_DATASET,
    TRAIN_MODEL,
    TEST_MODEL,
    PREDICT_MODEL,
    MAKE_REPORTS,
{%- if api %}
    PROMOTE_MODEL,
{%- endif %}
    BENCH_PIPELINE,
];

/// Runs a binary in `dir` with none of the settings inherited from the developer's environment.
fn run(dir: &Path, binary: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(binary);
    command.current_dir(dir).args(args);
    for (key, _) in SETTINGS {
        command.env_remove(key);
    }
    command.env("RUST_LOG", "warn").envs(env.iter().copied());
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_clean_failure(output: &Output, expected: &str) {
    let err = stderr(output);
    assert!(!output.status.success(), "should fail: {err}");
    assert!(err.contains(expected), "`{expected}` not in: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn every_binary_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for &binary in BINARIES {
        let output = run(dir.path(), binary, &["--help"], &[]);
        assert!(output.status.success(), "{binary}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage:"),
            "{binary}"
        );
    }
}

#[test]
fn the_whole_pipeline_runs_from_a_project_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (binary, args) in [
        (MAKE_DATASET, vec![]),
        (TRAIN_MODEL, vec![]),
        (TEST_MODEL, vec![]),
        (PREDICT_MODEL, vec![]),
        (MAKE_REPORTS, vec![]),
{%- if api %}
        (PROMOTE_MODEL, vec!["--to", "api/models/current"]),
{%- endif %}
    ] {
        let output = run(d, binary, &args, &[]);
        assert!(output.status.success(), "{binary}: {}", stderr(&output));
    }
    for file in [
        "src/datasets/bronze/manifest.json",
        "src/datasets/silver/manifest.json",
        "src/datasets/gold/manifest.json",
        "reference/data_dictionary.md",
        "reports/metrics.json",
        "reports/predictions.csv",
        "reports/report.md",
        "reports/figures/confusion_matrix.svg",
        "reports/figures/feature_importance.svg",
        "reports/figures/class_distribution.svg",
{%- if api %}
        "api/models/current/SHA256SUMS",
{%- endif %}
    ] {
        assert!(d.join(file).exists(), "{file} missing");
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("reports/metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["gate"]["passed"], true);
    let report = std::fs::read_to_string(d.join("reports/report.md")).unwrap();
    assert!(report.contains("PASSED") && report.contains("figures/confusion_matrix.svg"));
    let name = format!("{}-{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    assert!(
        d.join("src/models")
            .join(name)
            .join("metadata.json")
            .exists()
    );
}

#[test]
fn the_quality_gate_fails_a_weak_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    // A one-split tree cannot separate three species well.
    let weak = ["--algorithm", "decision_tree", "--max-depth", "1"];
    assert!(run(d, TRAIN_MODEL, &weak, &[]).status.success());
    let output = run(d, TEST_MODEL, &[], &[]);
    assert_clean_failure(&output, "quality gate failed");
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("reports/metrics.json")).unwrap()).unwrap();
    assert_eq!(
        metrics["gate"]["passed"], false,
        "metrics are written even when the gate fails"
    );
    // Lower thresholds from the environment let the same model through.
    let lenient = [("GATE_MIN_ACCURACY", "0.3"), ("GATE_MIN_MACRO_F1", "0.3")];
    assert!(run(d, TEST_MODEL, &[], &lenient).status.success());
}

#[test]
fn user_mistakes_get_one_clear_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_clean_failure(
        &run(d, MAKE_DATASET, &[], &[("TEST_FRACTION", "2")]),
        "TEST_FRACTION",
    );
    assert_clean_failure(
        &run(d, MAKE_DATASET, &["--source", "missing.csv"], &[]),
        "missing.csv",
    );
    assert_clean_failure(&run(d, TRAIN_MODEL, &[], &[]), "run make_dataset first");
    assert_clean_failure(&run(d, TEST_MODEL, &[], &[]), "train it first");

    std::fs::write(d.join("empty.csv"), b"").unwrap();
    assert_clean_failure(
        &run(d, MAKE_DATASET, &["--source", "empty.csv"], &[]),
        "is empty",
    );
    std::fs::create_dir_all(d.join("config")).unwrap();
    std::fs::write(d.join("config/schema.toml"), b"target = 3").unwrap();
    assert_clean_failure(&run(d, MAKE_DATASET, &[], &[]), "config/schema.toml");
}

#[test]
fn settings_file_applies_below_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("config")).unwrap();
    std::fs::write(d.join("config/.env"), "DATASETS_DIR=data-from-file\n").unwrap();
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    assert!(d.join("data-from-file/gold/manifest.json").exists());
    assert!(
        run(d, MAKE_DATASET, &[], &[("DATASETS_DIR", "data-from-env")])
            .status
            .success()
    );
    assert!(d.join("data-from-env/gold/manifest.json").exists());
    let flag = ["--datasets-dir", "data-from-flag"];
    assert!(
        run(d, MAKE_DATASET, &flag, &[("DATASETS_DIR", "data-from-env")])
            .status
            .success()
    );
    assert!(d.join("data-from-flag/gold/manifest.json").exists());
}

#[test]
fn batch_prediction_reports_bad_rows_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    assert!(run(d, TRAIN_MODEL, &[], &[]).status.success());
    std::fs::write(
        d.join("new.csv"),
        "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n\
         Biscoe,47.5,15,217,5076,female\n\
         Biscoe,47.5,15,217,5076,walrus\n\
         Dream,\u{0}\n\
         Torgersen,39.1,18.7,181,3750,NA\n",
    )
    .unwrap();
    let output = run(
        d,
        PREDICT_MODEL,
        &["--input", "new.csv", "--output", "out.csv"],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = std::fs::read_to_string(d.join("out.csv")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("line,prediction,probability_Adelie"));
    assert!(lines[1].starts_with("2,Gentoo,"), "{out}");
    assert!(
        lines[2].starts_with("3,,") && lines[2].contains("unknown category `walrus`"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("4,,") && lines[3].contains("expected 6 fields"),
        "{out}"
    );
    assert!(lines[4].starts_with("5,Adelie,"), "{out}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("4 rows: 2 predicted, 2 invalid"));
}
