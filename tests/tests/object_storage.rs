//! The slow tier's object-storage test (`cargo test --test object_storage -- --ignored`): a project
//! generated from the full preset keeps its data layers, models and served model in a bucket of a
//! real S3-compatible server on loopback (moto, which tests/s3/install.sh puts in target/s3-venv),
//! walking the README's "Data and models in object storage" commands as printed. The bucket then
//! holds every layer and model with its manifest or checksums and the local folders stay empty; the
//! API started by `make FEATURES=cloud serve` serves the model from the bucket. A layer file changed
//! in the bucket is refused by the next step, and a model changed in the bucket by the API's reload.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

use serde_json::Value;
use template_tests::{Background, block_after, generate_ok, repo_root, user_shell, user_shell_ok};

const PROJECT: &str = "s3-project";
const ADMIN_TOKEN: &str = "object-storage-test-token";

/// `moto_server` on a free loopback port, stopped when dropped.
struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let moto = repo_root().join("target/s3-venv/bin/moto_server");
        assert!(
            moto.is_file(),
            "{} is missing: run `bash tests/s3/install.sh` first",
            moto.display()
        );
        let child = Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let server = Self { child, port };
        for _ in 0..120 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("moto_server did not listen on {port} within 30 s");
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `script` with `s3`, a boto3 client of this server, and `bucket` defined; its stdout.
    fn python(&self, script: &str) -> String {
        let program = format!(
            "import boto3, hashlib, sys\n\
             s3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             bucket = '{PROJECT}'\n{script}",
            self.endpoint()
        );
        let output = Command::new(repo_root().join("target/s3-venv/bin/python"))
            .args(["-c", &program])
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "boto3 script failed:\n{script}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Every key in the bucket.
    fn keys(&self) -> Vec<String> {
        self.python(
            "for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):\n\
             \x20   for item in page.get('Contents', []):\n\
             \x20       print(item['Key'])",
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// The SHA-256 of an object.
    fn sha256(&self, key: &str) -> String {
        self.python(&format!(
            "print(hashlib.sha256(s3.get_object(Bucket=bucket, Key='{key}')['Body'].read()).hexdigest())"
        ))
        .trim()
        .to_owned()
    }

    /// Appends a byte to an object: a file changed behind the pipeline's back.
    fn tamper(&self, key: &str) {
        self.python(&format!(
            "body = s3.get_object(Bucket=bucket, Key='{key}')['Body'].read()\n\
             s3.put_object(Bucket=bucket, Key='{key}', Body=body + b' ')"
        ));
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shell(dir: &Path, command: &str) -> Output {
    user_shell_ok(dir, command, None)
}

/// The files below `dir`, recursively, other than `.gitkeep`.
fn local_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(local_files(&path));
            } else if entry.file_name() != ".gitkeep" {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl").args(args).output().expect("curl runs")
}

/// GET /v1/model of the API that `make serve` runs, once it answers.
fn served_model(api: &mut Background) -> Value {
    // The first `make serve` builds the release binary with the `cloud` feature.
    for _ in 0..1200 {
        assert!(api.is_running(), "make serve stopped:\n{}", api.log());
        let answer = curl(&["-sf", "http://127.0.0.1:8080/v1/model"]);
        if let Ok(model) = serde_json::from_slice::<Value>(&answer.stdout) {
            return model;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("the API did not answer within 20 minutes:\n{}", api.log());
}

#[test]
#[ignore = "slow: builds a generated project with the `cloud` feature and runs it against an S3 server (tests/s3/install.sh)"]
fn layers_and_models_live_in_a_bucket_and_are_verified_there() {
    let s3 = S3Server::start();
    s3.python("s3.create_bucket(Bucket=bucket)");
    let values_file = repo_root().join("examples/full.toml");
    let project = generate_ok(
        PROJECT,
        &["--values-file".into(), values_file.display().to_string()],
    );
    let dir = &project.dir;

    // The store's settings, as the README says, in config/.env; the token enables the reload.
    let settings = format!(
        "AWS_ENDPOINT={}\nAWS_ALLOW_HTTP=true\nAWS_ACCESS_KEY_ID=testing\n\
         AWS_SECRET_ACCESS_KEY=testing\nAWS_REGION=us-east-1\nAPI_ADMIN_TOKEN={ADMIN_TOKEN}\n",
        s3.endpoint()
    );
    std::fs::write(dir.join("config/.env"), settings).expect("write config/.env");

    // The README's commands, as printed; `make ... serve` keeps running, as in a second terminal.
    let block = block_after(
        &dir.join("README.md"),
        "## Data and models in object storage",
        "sh",
    );
    let mut api = None;
    for command in block.lines().filter(|line| !line.trim().is_empty()) {
        if command == "make FEATURES=cloud serve" {
            api = Some(Background::start(dir, "serve", &[("FEATURES", "cloud")]));
        } else {
            shell(dir, command);
        }
    }
    let mut api = api.expect("the README serves the model with `make FEATURES=cloud serve`");

    let keys = s3.keys();
    let model_dir = format!("models/{PROJECT}-0.1.0");
    for expected in [
        "datasets/bronze/manifest.json".to_owned(),
        "datasets/silver/data.parquet".to_owned(),
        "datasets/silver/manifest.json".to_owned(),
        "datasets/gold/train.parquet".to_owned(),
        "datasets/gold/test_raw.parquet".to_owned(),
        "datasets/gold/manifest.json".to_owned(),
        format!("{model_dir}/SHA256SUMS"),
        format!("{model_dir}/model.json"),
        format!("{model_dir}/gate.json"),
        "serving/current/SHA256SUMS".to_owned(),
        "serving/current/gate.json".to_owned(),
    ] {
        assert!(
            keys.contains(&expected),
            "{expected} is not in the bucket: {keys:?}"
        );
    }
    for local in ["src/datasets", "src/models", "api/models"] {
        assert_eq!(
            local_files(&dir.join(local)),
            Vec::<String>::new(),
            "nothing is written to {local}"
        );
    }
    // What stays local: the reports of the run.
    let metrics: Value = serde_json::from_slice(
        &std::fs::read(dir.join("reports/metrics.json")).expect("reports/metrics.json"),
    )
    .expect("metrics.json is JSON");
    assert_eq!(metrics["gate"]["passed"], true, "{metrics}");
    assert_eq!(
        metrics["model_dir"],
        format!("s3://{PROJECT}/{model_dir}"),
        "{metrics}"
    );

    // The API serves the promoted model from the bucket.
    let checksum = s3.sha256("serving/current/SHA256SUMS");
    assert_eq!(
        s3.sha256(&format!("{model_dir}/SHA256SUMS")),
        checksum,
        "the promoted model is the trained one"
    );
    let served = served_model(&mut api);
    assert_eq!(served["checksum"], checksum.as_str(), "{served}");

    // A model changed in the bucket is not loaded: the reload is refused, the model stays.
    s3.tamper("serving/current/model.json");
    let reload = curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        "-H",
        &format!("Authorization: Bearer {ADMIN_TOKEN}"),
        "http://127.0.0.1:8080/v1/admin/reload",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&reload.stdout),
        "409",
        "{}",
        api.log()
    );
    assert_eq!(served_model(&mut api)["checksum"], checksum.as_str());
    drop(api);

    // A layer file changed in the bucket is refused by the next step, with the manifest's reason.
    s3.tamper("datasets/gold/train.parquet");
    let train = user_shell(dir, "make FEATURES=cloud train", None);
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(!train.status.success(), "{stderr}");
    assert!(
        stderr.contains("the gold layer") && stderr.contains("run make_dataset again"),
        "{stderr}"
    );
}
