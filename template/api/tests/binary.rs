//! End-to-end: starts the real binary on a free loopback port, talks HTTP to every route, reloads on
//! SIGHUP and stops it with SIGTERM. Unix only (signals).
#![cfg(unix)]

mod common;

use common::{ADELIE, GENTOO, save_model};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}-api");

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary, run from an empty directory so no config/.env of the project is read.
fn api(workdir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(workdir)
        .env_remove("API_ADMIN_TOKEN")
        .env_remove("API_CORS_ORIGINS")
        .env("RUST_LOG", "info");
    command
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request; `Connection: close` makes the body end at end of stream.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[&str], body: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        request += &format!("{header}\r\n");
    }
    request += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    Response {
        status: head[9..12].parse().unwrap(),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn json(response: &Response) -> serde_json::Value {
    serde_json::from_str(&response.body).unwrap_or_else(|err| panic!("{err}: {}", response.body))
}

/// Waits until GET /ready answers 200, failing early if the process exits.
fn wait_ready(child: &mut Child, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server exited early with {status}");
        }
        if TcpStream::connect(addr).is_ok() && http(addr, "GET", "/ready", &[], "").status == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not become ready within 30 s");
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Stops the server with SIGTERM and returns its output.
fn terminate(mut child: Child) -> Output {
    signal(&child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn serves_every_route_over_http_and_stops_gracefully() {
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    save_model(&models, "1.0.0");
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = api(work.path())
        .env("API_PORT", port.to_string())
        .env("API_MODEL_DIR", &models)
        .env("API_ADMIN_TOKEN", "t0ken")
        .arg("--max-batch=2")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&mut child, addr);
    let json_type = "Content-Type: application/json";

    let health = http(addr, "GET", "/health", &[], "");
    assert_eq!(
        (health.status, json(&health)["status"].as_str()),
        (200, Some("ok"))
    );

    let predicted = http(addr, "POST", "/v1/predict", &[json_type], GENTOO);
    assert_eq!(predicted.status, 200, "{}", predicted.body);
    assert_eq!(json(&predicted)["prediction"], "Gentoo");
    assert!(
        predicted
            .head
            .to_ascii_lowercase()
            .contains("x-request-id:"),
        "{}",
        predicted.head
    );

    let refused = http(
        addr,
        "POST",
        "/v1/predict",
        &[json_type],
        r#"{"island":"Atlantis"}"#,
    );
    assert_eq!(refused.status, 422);
    assert_eq!(json(&refused)["field"], "island");

    let batch = ["{\"records\": [", GENTOO, ",", ADELIE, "]}"].concat();
    let batch = http(addr, "POST", "/v1/predict/batch", &[json_type], &batch);
    assert_eq!(batch.status, 200, "{}", batch.body);
    assert_eq!(json(&batch)["predictions"][1]["prediction"], "Adelie");
    let too_many = ["{\"records\": [", GENTOO, ",", GENTOO, ",", GENTOO, "]}"].concat();
    assert_eq!(
        http(addr, "POST", "/v1/predict/batch", &[json_type], &too_many).status,
        422
    );

    let model = http(addr, "GET", "/v1/model", &[], "");
    assert_eq!(json(&model)["version"], "1.0.0");
    let metrics = http(addr, "GET", "/metrics", &[], "");
    assert!(
        metrics.body.contains("predictions_total{class=\"Gentoo\"}"),
        "{}",
        metrics.body
    );
    let openapi = http(addr, "GET", "/openapi.json", &[], "");
    assert!(
        json(&openapi)["components"]["schemas"]["Record"]["properties"]["bill_depth_mm"]
            .is_object()
    );
    let docs = http(addr, "GET", "/docs/", &[], "");
    assert_eq!(docs.status, 200);
    assert!(docs.body.contains("swagger-ui"));

    // --healthcheck asks the running server, as a container runtime would.
    let check = api(work.path())
        .env("API_PORT", port.to_string())
        .arg("--healthcheck")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // A newly promoted model is picked up by the admin endpoint ...
    save_model(&models, "2.0.0");
    let reloaded = http(
        addr,
        "POST",
        "/v1/admin/reload",
        &["Authorization: Bearer t0ken"],
        "",
    );
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(
        json(&http(addr, "GET", "/v1/model", &[], ""))["version"],
        "2.0.0"
    );
    // ... and by SIGHUP.
    save_model(&models, "3.0.0");
    signal(&child, "-HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while json(&http(addr, "GET", "/v1/model", &[], ""))["version"] != "3.0.0" {
        assert!(Instant::now() < deadline, "SIGHUP did not reload the model");
        std::thread::sleep(Duration::from_millis(50));
    }

    let output = terminate(child);
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}:\n{logs}", output.status);
    for expected in [
        "model loaded and verified",
        "model reloaded",
        "shutting down",
        "stopped",
    ] {
        assert!(logs.contains(expected), "`{expected}` not logged:\n{logs}");
    }

    // Nothing listens any more: the health check now fails.
    let check = api(work.path())
        .env("API_PORT", port.to_string())
        .arg("--healthcheck")
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).starts_with("unhealthy:"));
}

#[test]
fn a_missing_or_corrupt_model_stops_start_up_with_one_clear_line() {
    let work = tempfile::tempdir().unwrap();
    let output = api(work.path())
        .env("API_PORT", free_port().to_string())
        .env("API_MODEL_DIR", work.path().join("nowhere"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot load the model") && stderr.contains("make all promote"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let models = work.path().join("models");
    save_model(&models, "1.0.0");
    std::fs::write(models.join("model.json"), "{}").unwrap();
    let output = api(work.path())
        .env("API_PORT", free_port().to_string())
        .env("API_MODEL_DIR", &models)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not match its checksum"), "{stderr}");
}

#[test]
fn bad_settings_name_the_setting_and_the_expected_form() {
    let work = tempfile::tempdir().unwrap();
    let output = api(work.path()).env("API_PORT", "eighty").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("API_PORT") && stderr.contains("expected a TCP port"),
        "{stderr}"
    );

    // Settings also come from config/.env, and an empty value means the default.
    std::fs::create_dir_all(work.path().join("config")).unwrap();
    std::fs::write(
        work.path().join("config/.env"),
        "API_HOST=\nAPI_MAX_BATCH=many\n",
    )
    .unwrap();
    let output = api(work.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("API_MAX_BATCH") && stderr.contains("positive whole number"),
        "{stderr}"
    );
}
