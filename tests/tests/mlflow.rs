//! The slow tier's MLflow test (`cargo test --test mlflow -- --ignored`): a project generated from
//! the full preset, in a git repository, walks the README's "Experiment tracking (MLflow)" commands
//! as printed against a real MLflow server (tests/mlflow/install.sh puts MLflow in
//! target/mlflow-venv): `make mlflow` in the background, MLFLOW_TRACKING_URI in config/.env,
//! `make all promote`. MLflow's REST API then shows the experiment; the FINISHED run with its
//! params, metrics, tags and the model directory as artifacts; the registered version, tagged, from
//! that run, with the alias on it; the docs' download of the alias runs as printed and verifies. A
//! second promotion keeps the version, an overridden one adds a version tagged as such. The docs'
//! `make serve` of `models:/<name>@champion` serves the registered model's checksum and follows the
//! alias to a newer promoted model without a restart. With the server stopped, `make train` fails
//! with the line the docs print, before training, and an empty MLFLOW_TRACKING_URI trains without
//! tracking.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use template_tests::{
    Background, block_after, generate_ok, path_with, repo_root, user_shell, user_shell_ok, venv_bin,
};

const PROJECT: &str = "mlflow-project";
/// Where the README's `make mlflow` serves.
const SERVER: &str = "http://127.0.0.1:5000";

/// PATH with the MLflow virtualenv first, as after `pip install mlflow` in an active virtualenv.
fn path() -> String {
    path_with(&venv_bin("mlflow", "mlflow"))
}

/// Runs a shell command as a user types it (shared target dir, MLflow on PATH, a git identity).
fn sh(dir: &Path, command: &str) -> Output {
    user_shell(dir, command, Some(&path()))
}

/// [`sh`], which must succeed; returns its stdout.
fn shell(dir: &Path, command: &str) -> String {
    String::from_utf8_lossy(&user_shell_ok(dir, command, Some(&path())).stdout).into_owned()
}

/// GET on the server's REST API (`/api/2.0/...`): the JSON answer, an MLflow error included.
fn api(path: &str) -> Value {
    let output = Command::new("curl")
        .args(["-sS", &format!("{SERVER}/api/2.0/{path}")])
        .output()
        .expect("curl runs");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "GET {path}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The `key`/`value` pairs of an MLflow list (params, tags) as a map.
fn pairs(list: &Value) -> serde_json::Map<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|pair| {
            let key = pair["key"].as_str().expect("key").to_owned();
            (key, pair["value"].clone())
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn sha256(dir: &Path, file: &str) -> String {
    shell(dir, &format!("sha256sum {file}"))
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

/// Polls the server's health endpoint while `make mlflow` runs.
fn wait_for_server(server: &mut Background) {
    for _ in 0..240 {
        assert!(
            server.is_running(),
            "make mlflow stopped:\n{}",
            server.log()
        );
        let health = Command::new("curl")
            .args(["-sf", &format!("{SERVER}/health")])
            .output()
            .expect("curl runs");
        if health.status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("MLflow did not answer within 2 minutes:\n{}", server.log());
}

/// GET /v1/model of the API that `make serve` runs.
fn served_model() -> Option<Value> {
    let output = Command::new("curl")
        .args(["-sf", "http://127.0.0.1:8080/v1/model"])
        .output()
        .expect("curl runs");
    serde_json::from_slice(&output.stdout).ok()
}

/// Waits until the API serves the model whose checksum is `checksum`.
fn wait_for_checksum(api: &mut Background, checksum: &str) -> Value {
    // The first `make serve` builds the release binary.
    for _ in 0..900 {
        assert!(api.is_running(), "make serve stopped:\n{}", api.log());
        if let Some(model) = served_model().filter(|model| model["checksum"] == checksum) {
            return model;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    panic!(
        "the API did not serve the model {checksum} within 15 minutes: {:?}\n{}",
        served_model(),
        api.log()
    );
}

/// The docs' "Serving a registered model", as printed: the API downloads the version the alias
/// points at (`checksum`) and serves it; a newer model promoted moves the alias, and the API
/// follows it without a restart. An alias that is not set stops the start with one line.
fn serve_the_alias_and_follow_it(dir: &Path, model_dir: &Path, checksum: &str) {
    let block = block_after(
        &dir.join("docs/src/tracking.md"),
        "## Serving a registered model",
        "sh",
    );
    let mut api = None;
    for command in block.lines().filter(|line| !line.trim().is_empty()) {
        if command == "make serve" {
            // Checks the alias every second rather than every 30, to keep the test short.
            api = Some(Background::start(
                dir,
                "serve",
                &[("API_MODEL_POLL_SECS", "1")],
            ));
        } else {
            shell(dir, command);
        }
    }
    let mut api = api.expect("the docs start the API with `make serve`");
    let served = wait_for_checksum(&mut api, checksum);
    assert_eq!(served["name"], PROJECT, "{served}");
    assert!(
        api.log()
            .contains("downloaded the registered model version"),
        "{}",
        api.log()
    );

    // A better-regularised model, trained, evaluated and promoted: the alias moves to version 3.
    shell(dir, "LINEAR_L2_PENALTY=1 make train evaluate");
    let newer = sha256(model_dir, "SHA256SUMS");
    assert_ne!(
        newer, checksum,
        "retraining with another penalty changes the model"
    );
    let promoted = shell(dir, "make promote");
    assert!(
        promoted.contains(&format!(
            "MLflow: {PROJECT} version 3 (registered), alias champion"
        )),
        "{promoted}"
    );
    wait_for_checksum(&mut api, &newer);
    drop(api);

    let unset = sh(
        dir,
        &format!("API_MODEL_URI=models:/{PROJECT}@challenger make serve"),
    );
    let stderr = String::from_utf8_lossy(&unset.stderr);
    assert!(!unset.status.success(), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error"))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "error: cannot load the model from MLflow's registry: models:/{PROJECT}@challenger: the alias is not set; promote a model with MLFLOW_TRACKING_URI set first (promote_model, `make promote`)"
        )],
        "{stderr}"
    );
}

#[test]
#[ignore = "slow: builds a generated project and runs it against an MLflow server (tests/mlflow/install.sh)"]
fn the_pipeline_tracks_runs_and_registers_the_promoted_model_in_mlflow() {
    assert!(
        std::net::TcpListener::bind("127.0.0.1:5000").is_ok(),
        "port 5000 is in use: `make mlflow` serves on MLflow's default port"
    );
    let values_file = repo_root().join("examples/full.toml");
    let project = generate_ok(
        PROJECT,
        &["--values-file".into(), values_file.display().to_string()],
    );
    let dir = &project.dir;
    // A git checkout, so the run records the commit.
    shell(
        dir,
        "git init -q && git add -A && git commit -qm 'Start the project'",
    );
    let commit = shell(dir, "git rev-parse HEAD").trim().to_owned();

    // The README's commands, as printed; `make mlflow` keeps running, as in a second terminal.
    let readme = dir.join("README.md");
    let block = block_after(&readme, "## Experiment tracking (MLflow)", "sh");
    let install = std::fs::read_to_string(repo_root().join("tests/mlflow/install.sh"))
        .expect("tests/mlflow/install.sh");
    let mut server = None;
    for command in block.lines().filter(|line| !line.trim().is_empty()) {
        if let Some(package) = command.strip_prefix("pip install ") {
            assert!(
                install.contains(&format!(" {package}\n")),
                "the README installs {package}, not the version tests/mlflow/install.sh installs"
            );
        } else if command == "make mlflow" {
            let mut started = Background::start(dir, "mlflow", &[("PATH", &path())]);
            wait_for_server(&mut started);
            server = Some(started);
        } else {
            shell(dir, command);
        }
    }
    let server = server.expect("the README starts the server with `make mlflow`");
    assert!(dir.join("mlruns/mlflow.db").is_file(), "{}", server.log());

    // The experiment and the run train_model logged, as mlflow_run.json names it.
    let experiment = api(&format!(
        "mlflow/experiments/get-by-name?experiment_name={PROJECT}"
    ));
    let experiment_id = experiment["experiment"]["experiment_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no experiment {PROJECT}: {experiment}"))
        .to_owned();
    let model_dir = dir.join(format!("src/models/{PROJECT}-0.1.0"));
    let record = read_json(&model_dir.join("mlflow_run.json"));
    assert_eq!(record["experiment_id"], experiment_id.as_str(), "{record}");
    assert_eq!(record["tracking_uri"], SERVER, "{record}");
    let run_id = record["run_id"].as_str().expect("run_id").to_owned();
    let run = api(&format!("mlflow/runs/get?run_id={run_id}"))["run"].clone();
    assert_eq!(run["info"]["status"], "FINISHED", "{run}");
    assert_eq!(run["info"]["experiment_id"], experiment_id.as_str());
    assert_eq!(run["info"]["run_name"], format!("{PROJECT}-0.1.0"));

    let metadata = read_json(&model_dir.join("metadata.json"));
    let params = pairs(&run["data"]["params"]);
    for (key, expected) in [
        ("algorithm", "linear"),
        ("max_iterations", "200"),
        ("l2_penalty", "0.1"),
        ("max_depth", "5"),
        ("min_samples_leaf", "1"),
        ("split_seed", "42"),
        ("test_fraction", "0.2"),
    ] {
        assert_eq!(params[key], expected, "param {key}: {params:?}");
    }
    for key in ["training_data_sha256", "test_data_sha256", "schema_sha256"] {
        assert_eq!(params[key], metadata[key], "param {key}");
    }

    let metrics: std::collections::BTreeMap<String, f64> = run["data"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            let key = m["key"].as_str().expect("key").to_owned();
            (key, m["value"].as_f64().expect("value"))
        })
        .collect();
    let evaluated = read_json(&dir.join("reports/metrics.json"));
    assert_eq!(
        metrics["test_accuracy"],
        evaluated["metrics"]["accuracy"].as_f64().expect("accuracy")
    );
    assert_eq!(
        metrics["test_rows"],
        evaluated["metrics"]["rows"].as_f64().expect("rows")
    );
    assert_eq!(
        metrics["train_rows"],
        metadata["train_rows"].as_f64().expect("train_rows")
    );
    for key in ["train_accuracy", "train_macro_f1", "test_macro_f1"] {
        assert!((0.9..=1.0).contains(&metrics[key]), "{key}: {metrics:?}");
    }
    assert_eq!(metrics["gate_passed"], 1.0, "test_model logged the verdict");

    let checksum = sha256(&model_dir, "SHA256SUMS");
    let tags = pairs(&run["data"]["tags"]);
    assert_eq!(
        tags["mlflow.source.git.commit"],
        commit.as_str(),
        "{tags:?}"
    );
    assert_eq!(tags["model_version"], "0.1.0");
    assert_eq!(tags["model_checksum"], checksum.as_str());
    assert_eq!(
        tags["gold_manifest_sha256"],
        sha256(dir, "src/datasets/gold/manifest.json").as_str()
    );
    assert_eq!(tags["gate"], "passed");

    let listed = api(&format!("mlflow/artifacts/list?run_id={run_id}&path=model"));
    let files: Vec<&str> = listed["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        files,
        [
            "model/SHA256SUMS",
            "model/gate.json",
            "model/metadata.json",
            "model/model.json",
            "model/preprocessor.json"
        ],
        "{listed}"
    );

    // The registered version: from the run's model/ folder, tagged, with the alias on it.
    let registered = api(&format!("mlflow/registered-models/get?name={PROJECT}"));
    assert_eq!(
        registered["registered_model"]["aliases"],
        serde_json::json!([{"alias": "champion", "version": "1"}]),
        "{registered}"
    );
    let version = api(&format!(
        "mlflow/model-versions/get?name={PROJECT}&version=1"
    ))["model_version"]
        .clone();
    assert_eq!(version["run_id"], run_id.as_str(), "{version}");
    assert_eq!(
        version["source"],
        format!(
            "{}/model",
            record["artifact_uri"].as_str().expect("artifact_uri")
        ),
        "{version}"
    );
    let version_tags = pairs(&version["tags"]);
    assert_eq!(version_tags["gate"], "passed");
    assert_eq!(version_tags["model_checksum"], checksum.as_str());
    assert_eq!(
        sha256(dir, "api/models/current/SHA256SUMS"),
        checksum,
        "the served model is the registered one"
    );

    // The docs' download of the alias, as printed, gives the model directory, verified.
    let download = block_after(
        &dir.join("docs/src/tracking.md"),
        "## Using a registered model",
        "sh",
    );
    shell(dir, download.trim());
    shell(
        dir,
        "cd champion && sha256sum -c SHA256SUMS && test -f gate.json",
    );

    // Promoting the same model again keeps its version.
    let again = shell(dir, "make promote");
    assert!(
        again.contains(&format!(
            "MLflow: {PROJECT} version 1 (already registered), alias champion"
        )),
        "{again}"
    );
    let second = api(&format!(
        "mlflow/model-versions/get?name={PROJECT}&version=2"
    ));
    assert_eq!(second["error_code"], "RESOURCE_DOES_NOT_EXIST", "{second}");

    // An overridden promotion is registered as such, and the alias follows it.
    std::fs::remove_file(model_dir.join("gate.json")).expect("remove gate.json");
    let overridden = shell(
        dir,
        "cargo run --quiet --bin promote_model -- --allow-failed-gate",
    );
    assert!(
        overridden.contains(&format!(
            "MLflow: {PROJECT} version 2 (registered), alias champion"
        )),
        "{overridden}"
    );
    let version = api(&format!(
        "mlflow/model-versions/get?name={PROJECT}&version=2"
    ))["model_version"]
        .clone();
    let gate = pairs(&version["tags"])["gate"].clone();
    assert!(
        gate.as_str()
            .is_some_and(|gate| gate.starts_with("overridden: it has no quality gate result")),
        "{version}"
    );
    let registered = api(&format!("mlflow/registered-models/get?name={PROJECT}"));
    assert_eq!(
        registered["registered_model"]["aliases"],
        serde_json::json!([{"alias": "champion", "version": "2"}]),
        "{registered}"
    );

    // The API serves the alias as the docs print it: the registered version, verified.
    serve_the_alias_and_follow_it(dir, &model_dir, &checksum);

    // With the server stopped, training stops before any work, with the line the docs print.
    drop(server);
    for _ in 0..100 {
        if std::net::TcpListener::bind("127.0.0.1:5000").is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let before = std::fs::read(model_dir.join("metadata.json")).expect("metadata.json");
    let failed = sh(dir, "make train");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success(),
        "make train without a server:\n{stderr}"
    );
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error"))
        .collect();
    let documented = block_after(
        &dir.join("docs/src/tracking.md"),
        "## When the server cannot be reached",
        "text",
    );
    assert_eq!(errors, [documented.trim()], "{stderr}");
    assert_eq!(
        std::fs::read(model_dir.join("metadata.json")).expect("metadata.json"),
        before,
        "train_model stopped before training"
    );

    // An empty MLFLOW_TRACKING_URI, as the docs say, trains without tracking.
    shell(dir, "MLFLOW_TRACKING_URI= make train");
    assert!(
        !model_dir.join("mlflow_run.json").exists(),
        "a model trained without tracking has no run record"
    );
}
