//! The slow tier (`cargo test -- --ignored`): generated projects build, pass their own lints and
//! tests, and run their pipeline end to end. All of them share one CARGO_TARGET_DIR so the
//! dependencies compile once.

use std::path::Path;
use std::process::Command;

use template_tests::{PRESETS, generate_ok, repo_root, run};

fn generate_preset(name: &str) -> template_tests::Generated {
    let values_file = repo_root().join("examples").join(format!("{name}.toml"));
    generate_ok(
        &format!("{name}-project"),
        &["--values-file".into(), values_file.display().to_string()],
    )
}

fn build_lint_and_test(preset: &str) {
    let project = generate_preset(preset);
    let dir = &project.dir;
    run(dir, "cargo", &["build", "--workspace", "--all-targets"]);
    run(
        dir,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    run(dir, "cargo", &["fmt", "--all", "--check"]);
    run(dir, "cargo", &["test", "--workspace"]);
    run(dir, "make", &["all"]);
    check_pipeline_artifacts(dir);
    // With the data layers in place the linters also execute the notebooks.
    run(
        &repo_root(),
        "bash",
        &["tests/lint/run-linters.sh", &dir.display().to_string()],
    );
    run(dir, "make", &["test"]);
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hex SHA-256 of a file, by coreutils' sha256sum (independent of the project's own hashing).
fn sha256(path: &Path) -> String {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

/// After `make all`: every layer's manifest matches its files and its parent, rows are accounted
/// for, the model records the data it learned from, the gate passed, and the reports exist.
fn check_pipeline_artifacts(dir: &Path) {
    let datasets = dir.join("src/datasets");
    let bronze = read_json(&datasets.join("bronze/manifest.json"));
    let silver = read_json(&datasets.join("silver/manifest.json"));
    let gold = read_json(&datasets.join("gold/manifest.json"));
    let file_hash = |layer: &str, entry: &serde_json::Value| {
        let file = entry["file"].as_str().expect("file name");
        let actual = sha256(&datasets.join(layer).join(file));
        assert_eq!(
            entry["sha256"],
            actual.as_str(),
            "{layer}/{file} differs from its manifest"
        );
        actual
    };
    let bronze_hash = file_hash("bronze", &bronze["data"]);
    let silver_hash = file_hash("silver", &silver["data"]);
    file_hash("silver", &silver["quarantine"]);
    let train_hash = file_hash("gold", &gold["train"]);
    let test_hash = file_hash("gold", &gold["test"]);
    assert_eq!(
        silver["parent_sha256"],
        bronze_hash.as_str(),
        "silver's parent is bronze"
    );
    assert_eq!(
        gold["parent_sha256"],
        silver_hash.as_str(),
        "gold's parent is silver"
    );

    let rows = &silver["rows"];
    let count = |value: &serde_json::Value| value.as_u64().expect("a row count");
    assert_eq!(count(&bronze["data"]["rows"]), count(&rows["bronze_rows"]));
    assert_eq!(
        count(&rows["bronze_rows"]),
        count(&rows["silver_rows"]) + count(&rows["quarantined"]) + count(&rows["duplicates"]),
        "bronze rows = silver + quarantined + duplicates"
    );
    assert_eq!(count(&silver["data"]["rows"]), count(&rows["silver_rows"]));
    assert_eq!(
        count(&gold["train"]["rows"]) + count(&gold["test"]["rows"]),
        count(&rows["silver_rows"])
    );

    let metrics = read_json(&dir.join("reports/metrics.json"));
    assert_eq!(
        metrics["gate"]["passed"], true,
        "the bundled model passes the quality gate"
    );
    let model_dir = dir.join(metrics["model_dir"].as_str().expect("model_dir"));
    let metadata = read_json(&model_dir.join("metadata.json"));
    assert_eq!(
        metadata["training_data_sha256"],
        train_hash.as_str(),
        "the model names its training data"
    );
    assert_eq!(metadata["test_data_sha256"], test_hash.as_str());
    assert_eq!(
        metadata["metrics"]["accuracy"],
        metrics["metrics"]["accuracy"]
    );
    let sums = std::fs::read_to_string(model_dir.join("SHA256SUMS")).expect("SHA256SUMS");
    for line in sums.lines() {
        let (digest, file) = line.split_once("  ").expect("digest  file");
        assert_eq!(
            sha256(&model_dir.join(file)),
            digest,
            "{file} differs from SHA256SUMS"
        );
    }

    let report = std::fs::read_to_string(dir.join("reports/report.md")).expect("report.md");
    for figure in [
        "confusion_matrix.svg",
        "feature_importance.svg",
        "class_distribution.svg",
    ] {
        let svg =
            std::fs::read_to_string(dir.join("reports/figures").join(figure)).expect("figure");
        assert!(svg.contains("<svg"), "{figure} is an SVG");
        assert!(
            report.contains(&format!("figures/{figure}")),
            "report.md links {figure}"
        );
    }
    let predictions =
        std::fs::read_to_string(dir.join("reports/predictions.csv")).expect("predictions.csv");
    assert_eq!(
        predictions.lines().count(),
        345,
        "a header and one line per bundled penguin"
    );
}

#[test]
#[ignore = "slow: builds generated projects"]
fn the_full_preset_builds_lints_tests_and_runs() {
    build_lint_and_test("full");
}

#[test]
#[ignore = "slow: builds generated projects"]
fn the_minimal_preset_builds_lints_tests_and_runs() {
    build_lint_and_test("minimal");
}

#[test]
#[ignore = "slow: needs the linters of tests/lint/install.sh"]
fn every_preset_passes_the_linters_of_its_parts() {
    for preset in PRESETS {
        let project = generate_preset(preset);
        run(
            &repo_root(),
            "bash",
            &[
                "tests/lint/run-linters.sh",
                &project.dir.display().to_string(),
            ],
        );
    }
}
