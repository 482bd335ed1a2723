//! The binaries as a user runs them: in a project folder, with `--help`, clear one-line errors
//! and the exit codes the Makefile relies on.

use std::path::Path;
use std::process::{Command, Output};

use {{crate_name}}::config;

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
    for argument in config::all_settings().get_arguments() {
        if let Some(key) = argument.get_env() {
            command.env_remove(key);
        }
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
fn every_binary_has_help_naming_each_variable_documented_in_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let example = include_str!("../config/.env.example");
    for &binary in BINARIES {
        let output = run(dir.path(), binary, &["--help"], &[]);
        assert!(output.status.success(), "{binary}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Usage:"), "{binary}");
        assert!(help.contains("Flags win over the environment"), "{help}");
        // Every variable a binary reads is shown by its help and documented in the example.
        for name in help.split("[env: ").skip(1) {
            let name = name.split(['=', ']']).next().unwrap();
            let line = format!("\n{name}=");
            assert!(example.contains(&line), "{binary}: {name} undocumented");
        }
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

{%- if api %}

/// The trained model's directory in a project folder.
fn model_dir(project: &Path) -> std::path::PathBuf {
    let name = format!("{}-{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    project.join("src/models").join(name)
}

#[test]
fn promotion_requires_a_passing_gate_result_for_this_exact_model() {
    use {{crate_name}}::artifact::{self, Model};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let current = d.join("api/models/current");
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    assert!(run(d, TRAIN_MODEL, &[], &[]).status.success());
    // Not evaluated yet: refused, and nothing is copied.
    let output = run(d, PROMOTE_MODEL, &[], &[]);
    assert_clean_failure(&output, "has no quality gate result");
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    assert!(!current.exists());

    // After a passing gate the model and its gate result are copied byte for byte.
    assert!(run(d, TEST_MODEL, &[], &[]).status.success());
    let output = run(d, PROMOTE_MODEL, &[], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("quality gate passed"));
    for file in ["SHA256SUMS", "metadata.json", "gate.json"] {
        assert_eq!(
            std::fs::read(current.join(file)).unwrap(),
            std::fs::read(model_dir(d).join(file)).unwrap(),
            "{file}"
        );
    }
    assert!(Model::load(&current).is_ok());
    assert_eq!(artifact::gate_override(&current).unwrap(), None);
    let served = std::fs::read(current.join("SHA256SUMS")).unwrap();

    // Retraining replaces the model and its gate result.
    let weak = ["--algorithm", "decision_tree", "--max-depth", "1"];
    assert!(run(d, TRAIN_MODEL, &weak, &[]).status.success());
    assert_clean_failure(
        &run(d, PROMOTE_MODEL, &[], &[]),
        "has no quality gate result",
    );
    // A passing result of another model does not vouch for this one.
    std::fs::copy(current.join("gate.json"), model_dir(d).join("gate.json")).unwrap();
    assert_clean_failure(&run(d, PROMOTE_MODEL, &[], &[]), "is about another model");
    // A failed gate is refused, naming the failed metrics.
    assert_clean_failure(&run(d, TEST_MODEL, &[], &[]), "quality gate failed");
    let output = run(d, PROMOTE_MODEL, &[], &[]);
    assert_clean_failure(&output, "failed the quality gate");
    assert!(stderr(&output).contains("< 0.9000"), "{}", stderr(&output));
    // A gate passed under laxer thresholds than the configured ones is refused too ...
    let lenient = [("GATE_MIN_ACCURACY", "0.3"), ("GATE_MIN_MACRO_F1", "0.3")];
    assert!(run(d, TEST_MODEL, &[], &lenient).status.success());
    assert_clean_failure(
        &run(d, PROMOTE_MODEL, &[], &[]),
        "laxer than the configured >= 0.9 (GATE_MIN_ACCURACY)",
    );
    assert_eq!(
        std::fs::read(current.join("SHA256SUMS")).unwrap(),
        served,
        "a refused promotion leaves the served model alone"
    );
    // ... unless promotion is configured with the same thresholds.
    let output = run(d, PROMOTE_MODEL, &[], &lenient);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn overriding_the_gate_is_loud_and_recorded_in_the_metadata() {
    use {{crate_name}}::artifact::{self, Model};
    use {{crate_name}}::utils::hashing;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let current = d.join("api/models/current");
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    let weak = ["--algorithm", "decision_tree", "--max-depth", "1"];
    assert!(run(d, TRAIN_MODEL, &weak, &[]).status.success());
    assert!(!run(d, TEST_MODEL, &[], &[]).status.success());

    let output = run(d, PROMOTE_MODEL, &["--allow-failed-gate"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("WARNING") && err.contains("WITHOUT passing the quality gate"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("QUALITY GATE OVERRIDDEN"));
    // The promoted model still verifies, and says it was let through.
    let model = Model::load(&current).unwrap();
    assert_eq!(
        model.metadata.hyperparameters.algorithm,
        {{crate_name}}::training::Algorithm::DecisionTree
    );
    let record = artifact::gate_override(&current).unwrap().unwrap();
    assert!(
        record.refused_because.contains("failed the quality gate"),
        "{record:?}"
    );
    let sums = std::fs::read(model_dir(d).join("SHA256SUMS")).unwrap();
    let trained = hashing::sha256_hex(&sums);
    assert_eq!(record.source_checksum, trained);
    // The overridden copy is a different artifact: promoting it again needs the override again.
    let again = ["--model-dir", "api/models/current", "--to", "elsewhere"];
    assert_clean_failure(&run(d, PROMOTE_MODEL, &again, &[]), "about another model");

    // The override never lets a corrupt model through.
    let model_file = model_dir(d).join("model.json");
    let mut bytes = std::fs::read(&model_file).unwrap();
    bytes.insert(1, b' ');
    std::fs::write(&model_file, bytes).unwrap();
    assert_clean_failure(
        &run(d, PROMOTE_MODEL, &["--allow-failed-gate"], &[]),
        "does not match its checksum",
    );
}
{%- endif %}

#[test]
fn a_flag_and_its_variable_are_refused_with_the_same_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (binary, flag, key, value, expected) in [
        (
            TRAIN_MODEL,
            "--name",
            "MODEL_NAME",
            "../x",
            "letters, digits",
        ),
        (
            TRAIN_MODEL,
            "--max-depth",
            "TREE_MAX_DEPTH",
            "0",
            "positive whole number",
        ),
        (
            TEST_MODEL,
            "--min-accuracy",
            "GATE_MIN_ACCURACY",
            "5",
            "from 0 to 1",
        ),
        (
            MAKE_DATASET,
            "--test-fraction",
            "TEST_FRACTION",
            "1.5",
            "strictly between 0 and 1",
        ),
        (
            PREDICT_MODEL,
            "--delimiter",
            "CSV_DELIMITER",
            ";;",
            "single ASCII character",
        ),
    ] {
        let by_flag = run(d, binary, &[flag, value], &[]);
        let by_env = run(d, binary, &[], &[(key, value)]);
        for output in [&by_flag, &by_env] {
            assert_clean_failure(output, key);
            assert_clean_failure(output, expected);
            assert!(
                stderr(output).starts_with("error: invalid value"),
                "{}",
                stderr(output)
            );
        }
        assert_eq!(stderr(&by_flag), stderr(&by_env), "{key}");
    }
    // From config/.env too, in the same words.
    std::fs::create_dir_all(d.join("config")).unwrap();
    std::fs::write(d.join("config/.env"), "MODEL_NAME=../x\n").unwrap();
    let from_file = run(d, TRAIN_MODEL, &[], &[]);
    assert_eq!(
        stderr(&from_file),
        stderr(&run(d, TRAIN_MODEL, &["--name", "../x"], &[]))
    );
    // Nothing is left behind by a refused setting.
    assert!(!d.join("src/models").exists());
}

#[test]
fn user_mistakes_get_one_clear_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
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
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        MAKE_DATASET,
        &["--dictionary-only"],
        &[("RUST_LOG", "info"), ("LOG_FORMAT", "json")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let logs = stderr(&output);
    let events: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|event| event["level"] == "INFO" && event["fields"]["message"] == "schema loaded"),
        "{logs}"
    );
    let refused = run(dir.path(), MAKE_DATASET, &["--log-format", "yaml"], &[]);
    assert_clean_failure(&refused, "LOG_FORMAT");
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
    // An empty value means the default, even over config/.env.
    assert!(
        run(
            d,
            MAKE_DATASET,
            &[],
            &[("DATASETS_DIR", ""), ("TEST_FRACTION", "")]
        )
        .status
        .success()
    );
    assert!(d.join("src/datasets/gold/manifest.json").exists());
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
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("4 rows: 2 predicted, 2 invalid"),
        "{stdout}"
    );

    // PREDICT_INPUT names the input when --input does not; the accuracy says what it is on.
    let labelled = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n\
                    Gentoo,Biscoe,47.5,15,217,5076,female\n";
    std::fs::write(d.join("labelled.csv"), labelled).unwrap();
    let output = run(d, PREDICT_MODEL, &[], &[("PREDICT_INPUT", "labelled.csv")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("accuracy 1.0000 on the 1 rows of labelled.csv with a known species"),
        "{stdout}"
    );
    assert!(d.join("reports/predictions.csv").exists());
    // By default the held-out rows are predicted, and said to be.
    let output = run(d, PREDICT_MODEL, &[], &[("PREDICT_INPUT", "")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("accuracy 1.0000 on the 69 held-out rows"),
        "{stdout}"
    );
}

#[test]
fn batch_prediction_fails_when_no_row_can_be_predicted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, MAKE_DATASET, &[], &[]).status.success());
    assert!(run(d, TRAIN_MODEL, &[], &[]).status.success());
    let header = "island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex\n";
    std::fs::write(d.join("bad.csv"), format!("{header}Mars,1,2,3,4,female\n")).unwrap();
    let output = run(
        d,
        PREDICT_MODEL,
        &["--output", "out.csv"],
        &[("PREDICT_INPUT", "bad.csv")],
    );
    assert_clean_failure(
        &output,
        "no row of bad.csv could be predicted: all 1 are invalid",
    );
    assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    // The reasons are still written.
    let out = std::fs::read_to_string(d.join("out.csv")).unwrap();
    assert!(out.contains("unknown category `Mars`"), "{out}");

    std::fs::write(d.join("empty.csv"), header).unwrap();
    let output = run(d, PREDICT_MODEL, &["--input", "empty.csv"], &[]);
    assert_clean_failure(&output, "empty.csv has no rows to predict");
}
