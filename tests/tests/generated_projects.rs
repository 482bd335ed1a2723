//! The slow tier (`cargo test -- --ignored`): generated projects build, pass their own lints and
//! tests, and run their pipeline end to end. All of them share one CARGO_TARGET_DIR so the
//! dependencies compile once.

use std::path::{Path, PathBuf};
use std::process::Command;

use template_tests::{
    Background, PRESETS, block_after, generate_ok, repo_root, run, user_shell_ok,
};

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
    if dir.join("deployment/docker").is_dir() {
        // Images without a model would build and then fail at start-up: refused before docker runs.
        let output = Command::new("make")
            .arg("docker-build")
            .current_dir(dir)
            .output()
            .expect("make runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains("run 'make all promote' first"),
            "make docker-build without a promoted model: {stderr}"
        );
    }
    let dictionary = dir.join("reference/data_dictionary.md");
    let generated_dictionary = std::fs::read_to_string(&dictionary).expect("data dictionary");
    run(dir, "make", &["all"]);
    check_pipeline_artifacts(dir);
    assert_eq!(
        std::fs::read_to_string(&dictionary).expect("data dictionary"),
        generated_dictionary,
        "the generated reference/data_dictionary.md differs from what `make data` writes"
    );
    assert_eq!(
        schema_body(&dir.join("config/schema.toml")),
        schema_body(&dir.join("src/data/sample/penguins.schema.toml")),
        "config/schema.toml must start as a copy of the sample's schema"
    );
    // With the data layers in place the linters also execute the notebooks.
    run(
        &repo_root(),
        "bash",
        &["tests/lint/run-linters.sh", &dir.display().to_string()],
    );
    run(dir, "make", &["test"]);
    if dir.join("api").is_dir() {
        walk_the_serving_quick_start(dir);
    }
    walk_the_regression_example(dir);
    walk_the_own_data_section(dir);
}

/// The README's "Predicting a number", its commands run as printed: the bundled regression schema
/// end to end, then served (with the API) and answered with a number.
fn walk_the_regression_example(dir: &Path) {
    let block = block_after(&dir.join("README.md"), "### Predicting a number", "sh");
    let env_before = std::fs::read_to_string(dir.join("config/.env")).unwrap_or_default();
    for command in block.lines().filter(|line| !line.trim().is_empty()) {
        shell(dir, command);
    }

    let metrics = read_json(&dir.join("reports/metrics.json"));
    let m = &metrics["metrics"];
    assert_eq!(m["task"], "regression", "{metrics}");
    // Ridge regression on the penguins explains most of the body mass (scikit-learn's Ridge on the
    // same split: bench/RESULTS.md).
    assert!(m["r2"].as_f64().is_some_and(|r2| r2 > 0.8), "{metrics}");
    assert!(
        m["rmse"].as_f64() < m["baseline"]["rmse"].as_f64(),
        "the model beats always predicting the mean: {metrics}"
    );
    assert_eq!(metrics["gate"]["passed"], true, "{metrics}");
    let quarantine = std::fs::read_to_string(dir.join("src/datasets/silver/quarantine.csv"))
        .expect("quarantine.csv");
    assert!(
        quarantine.contains("missing target `body_mass_g`"),
        "rows without a body mass are quarantined: {quarantine}"
    );
    let predictions =
        std::fs::read_to_string(dir.join("reports/predictions.csv")).expect("predictions.csv");
    let mut lines = predictions.lines();
    assert_eq!(
        lines.next(),
        Some("row,actual_body_mass_g,prediction,error"),
        "{predictions}"
    );
    let predicted: Vec<f64> = lines
        .map(|line| {
            let value = line.split(',').nth(2).unwrap_or("");
            value
                .parse()
                .unwrap_or_else(|_| panic!("a numeric prediction in `{line}`"))
        })
        .collect();
    assert!(
        !predicted.is_empty() && predicted.iter().all(|g| (2000.0..7000.0).contains(g)),
        "{predictions}"
    );
    let report = std::fs::read_to_string(dir.join("reports/report.md")).expect("report.md");
    for figure in ["predicted_vs_actual.svg", "residuals.svg"] {
        assert!(report.contains(&format!("figures/{figure}")), "{report}");
        assert!(
            dir.join("reports/figures").join(figure).is_file(),
            "{figure}"
        );
    }
    assert!(!report.contains("confusion_matrix.svg"), "{report}");

    if dir.join("api").is_dir() {
        run(dir, "make", &["promote"]);
        let api = Background::start(dir, "serve", &[]);
        smoke_test(dir, &api);
        let model: serde_json::Value =
            serde_json::from_str(&shell(dir, "curl -s http://127.0.0.1:8080/v1/model"))
                .expect("JSON model");
        assert_eq!(model["task"], "regression", "{model}");
        assert_eq!(model["target"], "body_mass_g", "{model}");
        let answer: serde_json::Value = serde_json::from_str(&shell(
            dir,
            r#"curl -s http://127.0.0.1:8080/v1/predict -H 'Content-Type: application/json' -d '{"species":"Gentoo","island":"Biscoe","bill_length_mm":47.5,"bill_depth_mm":14.8,"flipper_length_mm":217,"sex":"male"}'"#,
        ))
        .expect("JSON answer");
        let grams = answer["prediction"].as_f64().expect("a number");
        assert!((4500.0..6500.0).contains(&grams), "a male Gentoo: {answer}");
        assert_eq!(answer["unit"], "g", "{answer}");
    }
    // As the README says: removing the line goes back to the species.
    std::fs::write(dir.join("config/.env"), env_before).expect("restore config/.env");
}

/// A schema file without its leading comment block.
fn schema_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("schema file");
    text.lines()
        .skip_while(|line| line.starts_with('#') || line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a shell command as a user would type it; returns its stdout.
fn shell(dir: &Path, command: &str) -> String {
    String::from_utf8_lossy(&user_shell_ok(dir, command, None).stdout).into_owned()
}

/// The ```sh blocks of a Markdown file that call `curl`, as printed.
fn curl_blocks(markdown: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(markdown).expect("markdown file");
    text.split("```sh\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block.to_owned()))
        .filter(|block| block.contains("curl "))
        .collect()
}

/// The JSON blocks of a Markdown file.
fn json_blocks(markdown: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(markdown).expect("markdown file");
    text.split("```json\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```"))
        .map(|(block, _)| serde_json::from_str(block).expect("documented JSON parses"))
        .collect()
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// The README's quick start and the serving docs, as a user walks them: `make promote`, `make serve`
/// with the curl calls the docs print (on the default port), the generated CI's smoke test against
/// it, and `make ui`.
fn walk_the_serving_quick_start(dir: &Path) {
    for port in [8080, 3000] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is in use: the quick start serves on the documented default ports"
        );
    }
    run(dir, "make", &["promote"]);
    // The admin token enables the reload endpoint, so that the API contract check covers it.
    let env_file = dir.join("config/.env");
    let mut settings = std::fs::read_to_string(&env_file).unwrap_or_default();
    if !settings.is_empty() && !settings.ends_with('\n') {
        settings.push('\n');
    }
    settings.push_str(&format!("API_ADMIN_TOKEN={ADMIN_TOKEN}\n"));
    std::fs::write(&env_file, settings).expect("write config/.env");
    let api = Background::start(dir, "serve", &[]);
    smoke_test(dir, &api);
    check_the_api_contract(dir);

    let mut documented = Vec::new();
    for doc in [dir.join("README.md"), dir.join("docs/src/serving.md")] {
        if !doc.exists() {
            continue;
        }
        let examples = json_blocks(&doc);
        for block in curl_blocks(&doc) {
            let answer: serde_json::Value = serde_json::from_str(&shell(dir, &block))
                .unwrap_or_else(|e| {
                    panic!("{}: `{block}` did not answer JSON: {e}", doc.display())
                });
            assert!(
                answer["prediction"].is_string() && answer["probabilities"].is_object(),
                "{}: `{block}` answered {answer}",
                doc.display()
            );
            // A documented response must have the fields the API answers with.
            for example in &examples {
                assert_eq!(
                    keys(example),
                    keys(&answer),
                    "{} documents a response the API does not give",
                    doc.display()
                );
            }
            documented.push(block);
        }
    }
    assert!(
        !documented.is_empty(),
        "the docs show at least one curl call"
    );

    if dir.join("ui").is_dir() {
        let ui = Background::start(dir, "ui", &[]);
        let page = shell(
            dir,
            "for _ in $(seq 600); do curl -sf http://127.0.0.1:3000/ && exit 0; sleep 1; done; exit 1",
        );
        assert!(
            page.contains("<form"),
            "make ui did not serve the page:\n{page}\n{}",
            ui.log()
        );
    }
}

const ADMIN_TOKEN: &str = "slow-tier-admin-token";

/// schemathesis, with every check and phase, finds no difference between the served API and its
/// own OpenAPI document: every documented-valid request is answered 2xx, every invalid one 4xx,
/// never a 5xx, and every response matches its declared schema. The seed makes the run repeatable.
fn check_the_api_contract(dir: &Path) {
    let st = repo_root().join("target/lint-venv/bin/st");
    let output = Command::new(&st)
        .args([
            "run",
            "http://127.0.0.1:8080/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "100",
            "--seed",
            "1",
            "--header",
            &format!("Authorization: Bearer {ADMIN_TOKEN}"),
        ])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} runs (tests/lint/install.sh installs it): {e}",
                st.display()
            )
        });
    assert!(
        output.status.success(),
        "schemathesis found differences between the API and its OpenAPI document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The generated CI's smoke test, as it runs there, against `make serve` (the first one builds the
/// release API).
fn smoke_test(dir: &Path, api: &Background) {
    let smoke = Command::new("deployment/scripts/smoke_test.sh")
        .args(["--wait", "900"])
        .current_dir(dir)
        .output()
        .expect("smoke_test.sh runs");
    assert!(
        smoke.status.success(),
        "smoke_test.sh failed against make serve:\n{}{}\nmake serve:\n{}",
        String::from_utf8_lossy(&smoke.stdout),
        String::from_utf8_lossy(&smoke.stderr),
        api.log()
    );
}

/// A churn-like CSV as Python's csv module writes it (CRLF), with other column names than the
/// sample's, an identifier column, a binary target, customers whose features are equal, and bad
/// rows at known lines.
fn churn_csv() -> (String, Vec<(usize, &'static str)>) {
    let mut lines = vec!["customer_id,tenure_months,monthly_charges,plan,churned".to_owned()];
    for i in 0..400 {
        let tenure = (i * 7) % 72;
        let charges = 20.0 + ((i * 13) % 100) as f64;
        let plan = ["monthly", "yearly"][i % 2];
        let churned = if plan == "monthly" && tenure < 24 {
            "yes"
        } else {
            "no"
        };
        lines.push(format!("CUST-{i:05},{tenure},{charges},{plan},{churned}"));
    }
    for i in 0..20 {
        lines.push(format!("SAME-{i:02},40,55.5,yearly,no"));
    }
    let bad = [
        ("CUST-90001,abc,30,monthly,no", "not a number"),
        ("CUST-90002,12,30,weekly,yes", "unknown category"),
        ("CUST-90003,12,30,monthly,", "missing target"),
        ("CUST-90004,12,30", "expected 5 fields"),
    ];
    let mut expected = Vec::new();
    for (row, reason) in bad {
        lines.push(row.to_owned());
        expected.push((lines.len(), reason));
    }
    (lines.join("\r\n") + "\r\n", expected)
}

const CHURN_SCHEMA: &str = r#"name = "Customer churn"
target = "churned"

[[columns]]
name = "customer_id"
kind = "text"
description = "The customer's reference."

[[columns]]
name = "tenure_months"
kind = "numeric"
min = 0.0
unit = "months"
description = "Months since the customer signed up."

[[columns]]
name = "monthly_charges"
kind = "numeric"
min = 0.0
description = "Amount billed per month."

[[columns]]
name = "plan"
kind = "categorical"
categories = ["monthly", "yearly"]
description = "Billing plan."

[[columns]]
name = "churned"
kind = "categorical"
categories = ["no", "yes"]
description = "Whether the customer left."
"#;

/// The README's "Your own data" steps with a CSV of the user's: describe it in config/schema.toml,
/// point DATA_SOURCE at it, set the gate, then `make all` and `make test`; the quarantine names the
/// lines `grep -n` shows, and predictions carry the identifiers, in files and from the API.
fn walk_the_own_data_section(dir: &Path) {
    let (csv, bad_rows) = churn_csv();
    std::fs::write(dir.join("churn.csv"), &csv).expect("write churn.csv");
    std::fs::write(dir.join("config/schema.toml"), CHURN_SCHEMA).expect("write schema");
    std::fs::write(
        dir.join("config/.env"),
        "DATA_SOURCE=churn.csv\nGATE_MIN_ACCURACY=0.8\nGATE_MIN_MACRO_F1=0.7\n",
    )
    .expect("write config/.env");
    run(dir, "make", &["all"]);
    run(dir, "make", &["test"]);

    let quarantine = std::fs::read_to_string(dir.join("src/datasets/silver/quarantine.csv"))
        .expect("quarantine.csv");
    // Each quarantined row starts its own line (no reason or record here spans lines).
    let rows: Vec<&str> = quarantine.lines().skip(1).collect();
    assert_eq!(rows.len(), bad_rows.len(), "{quarantine}");
    for (row, (line, reason)) in rows.iter().zip(&bad_rows) {
        let grep = shell(dir, &format!("grep -n '' churn.csv | sed -n '{line}p'"));
        assert!(
            row.starts_with(&format!("{line},")) && row.contains(reason),
            "expected line {line} ({reason}) in the quarantine, found: {row}"
        );
        let shown = grep
            .strip_prefix(&format!("{line}:"))
            .unwrap_or("")
            .trim_end();
        assert!(
            shown.starts_with("CUST-9000") && row.contains(shown),
            "grep -n shows `{grep}` at line {line}; the quarantine says: {row}"
        );
    }
    let silver = read_json(&dir.join("src/datasets/silver/manifest.json"));
    assert_eq!(
        silver["rows"]["silver_rows"], 420,
        "equal features, distinct customers: {silver}"
    );

    // A binary target: the positive class is scored, and the report shows its ROC curve.
    let metrics = read_json(&dir.join("reports/metrics.json"));
    let binary = &metrics["metrics"]["binary"];
    assert_eq!(binary["positive_class"], "yes", "{metrics}");
    assert!(
        binary["roc_auc"].as_f64().is_some_and(|auc| auc > 0.9),
        "{metrics}"
    );
    let report = std::fs::read_to_string(dir.join("reports/report.md")).expect("report.md");
    assert!(report.contains("figures/roc_curve.svg"), "{report}");
    assert!(dir.join("reports/figures/roc_curve.svg").is_file());

    let predictions =
        std::fs::read_to_string(dir.join("reports/predictions.csv")).expect("predictions.csv");
    let mut lines = predictions.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("row,customer_id,actual_churned,prediction,"),
        "{header}"
    );
    let ids: Vec<&str> = lines
        .map(|line| line.split(',').nth(1).unwrap_or(""))
        .collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter()
            .all(|id| id.starts_with("CUST-") || id.starts_with("SAME-")),
        "{predictions}"
    );

    if dir.join("api").is_dir() {
        run(dir, "make", &["promote"]);
        let api = Background::start(dir, "serve", &[]);
        smoke_test(dir, &api);
        let answer: serde_json::Value = serde_json::from_str(&shell(
            dir,
            r#"curl -s http://127.0.0.1:8080/v1/predict -H 'Content-Type: application/json' -d '{"customer_id":"CUST-77","tenure_months":3,"monthly_charges":70,"plan":"monthly"}'"#,
        ))
        .expect("JSON answer");
        assert_eq!(answer["identifiers"]["customer_id"], "CUST-77", "{answer}");
        assert_eq!(answer["target"], "churned", "{answer}");
    }
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
    check_parquet_layers(&datasets, &silver, &gold);

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
    let held_out = gold["test_raw"]["rows"].as_u64().expect("test_raw rows") as usize;
    assert_eq!(
        predictions.lines().count(),
        held_out + 1,
        "`make predict` scores the held-out rows: a header and one line per row"
    );
}

/// Reads every manifest entry that lists `columns` (silver data; gold train, test, test_raw) with
/// pyarrow's Parquet reader and checks its row count, column names in order and each column's type
/// (`pyarrow.type_for_alias` of the manifest's type) against the manifest. Prints one line per
/// file checked, then one per failure, and exits non-zero when a file is not Parquet, disagrees
/// with its manifest, or one of the four expected entries lists no columns.
const PARQUET_CHECK: &str = r#"
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

datasets = Path(sys.argv[1])
required = {("silver", "data"), ("gold", "train"), ("gold", "test"), ("gold", "test_raw")}
seen = set()
errors = []
for layer in ("silver", "gold"):
    manifest = json.loads((datasets / layer / "manifest.json").read_text())
    for key, entry in manifest.items():
        if not (isinstance(entry, dict) and "file" in entry and "columns" in entry):
            continue
        seen.add((layer, key))
        name = f"{layer}/{entry['file']}"
        try:
            table = pq.read_table(datasets / layer / entry["file"])
        except (pa.ArrowException, OSError) as e:
            errors.append(f"{name}: not readable as Parquet: {e}")
            continue
        names = [column["name"] for column in entry["columns"]]
        problems = []
        try:
            types = [pa.type_for_alias(column["type"]) for column in entry["columns"]]
        except ValueError as e:
            errors.append(f"{name}: a manifest type pyarrow does not know: {e}")
            continue
        if table.num_rows != entry["rows"]:
            problems.append(f"{table.num_rows} rows, the manifest says {entry['rows']}")
        if table.schema.names != names:
            problems.append(f"columns {table.schema.names}, the manifest says {names}")
        else:
            for field, expected in zip(table.schema, types):
                if field.type != expected:
                    problems.append(f"{field.name} is {field.type}, the manifest says {expected}")
        if problems:
            errors.append(f"{name}: " + "; ".join(problems))
            continue
        print(f"checked {name}: {table.num_rows} rows, {table.num_columns} columns as in the manifest")
for layer, key in sorted(required - seen):
    errors.append(f"{layer}/manifest.json: no {key} entry with a file and columns")
for error in errors:
    print(f"FAILED {error}")
sys.exit(1 if errors else 0)
"#;

/// The python of the linters' virtualenv (target/lint-venv, as `run` passes in LINT_VENV), which
/// tests/lint/install.sh creates from tests/lint/requirements.txt (pyarrow among them).
fn lint_python() -> PathBuf {
    let python = repo_root()
        .join("target")
        .join("lint-venv")
        .join("bin")
        .join("python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/lint/install.sh` first (it installs pyarrow from \
         tests/lint/requirements.txt)",
        python.display()
    );
    python
}

/// Interoperability: another Arrow implementation (pyarrow) reads the silver and gold Parquet
/// files and agrees with their manifests on rows, column names and types.
fn check_parquet_layers(datasets: &Path, silver: &serde_json::Value, gold: &serde_json::Value) {
    let output = Command::new(lint_python())
        .args(["-c", PARQUET_CHECK])
        .arg(datasets)
        .output()
        .expect("the lint virtualenv's python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'pyarrow'"),
        "pyarrow is not installed in the lint virtualenv: run `bash tests/lint/install.sh`\n{stderr}"
    );
    assert!(
        output.status.success(),
        "pyarrow disagrees with the silver/gold manifests in {}:\n{stdout}\n{stderr}",
        datasets.display()
    );
    eprint!("{stdout}");
    let expected = [
        ("silver", &silver["data"]),
        ("gold", &gold["train"]),
        ("gold", &gold["test"]),
        ("gold", &gold["test_raw"]),
    ];
    for (layer, entry) in expected {
        let file = entry["file"].as_str().expect("file name");
        assert!(
            stdout
                .lines()
                .any(|line| line.starts_with(&format!("checked {layer}/{file}: "))),
            "pyarrow did not check {layer}/{file}:\n{stdout}"
        );
    }
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
