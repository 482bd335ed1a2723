//! End-to-end: starts the real binary on a free loopback port, talks HTTP to every route, reloads on
//! SIGHUP and stops it with SIGTERM. Unix only (signals).
#![cfg(unix)]

mod common;

use common::{ADELIE, GENTOO, HEAVY_GENTOO, save_model, save_regression_model};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use {{crate_name}}_service::testing::{
    Response, free_port, healthcheck, http, signal, terminate, wait_until_ok,
};

const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}-api");

/// The binary, run from an empty directory so no config/.env of the project is read, stopping at
/// once on SIGTERM unless a test sets a drain period.
fn api(workdir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(workdir)
        .env_remove("API_ADMIN_TOKEN")
        .env_remove("API_CORS_ORIGINS")
        .env("API_DRAIN_SECS", "0")
        .env("RUST_LOG", "info");
    command
}

/// The binary serving `models` on a free port, logging to a file (a pipe nobody reads during a
/// test would fill and block the server), once it is ready; returns it, its address and its log.
fn serve_logged(work: &Path, models: &Path, env: &[(&str, &str)]) -> (Child, SocketAddr, PathBuf) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log_path = work.join("api.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = api(work)
        .env("API_PORT", port.to_string())
        .env("API_MODEL_DIR", models)
        .envs(env.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_until_ok(&mut child, addr, "/ready");
    (child, addr, log_path)
}

fn json(response: &Response) -> serde_json::Value {
    serde_json::from_str(&response.body).unwrap_or_else(|err| panic!("{err}: {}", response.body))
}

/// A rolling update's view: under load, SIGTERM turns /ready to 503 while every request is still
/// answered for the drain period, then the server exits cleanly.
#[test]
fn keeps_serving_while_draining_so_no_request_fails() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    save_model(&models, "1.0.0");
    let (child, addr, log_path) = serve_logged(work.path(), &models, &[("API_DRAIN_SECS", "3")]);

    // Four clients predict in a loop, each request on a new connection, until told to stop; a
    // refused connection panics the client thread, which fails the test at `join`.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut answered = 0;
                while !stop.load(Ordering::Relaxed) {
                    let reply = http(
                        addr,
                        "POST",
                        "/v1/predict",
                        &["Content-Type: application/json"],
                        GENTOO,
                    );
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-TERM");
    let deadline = Instant::now() + Duration::from_secs(2);
    while http(addr, "GET", "/ready", &[], "").status != 503 {
        assert!(
            Instant::now() < deadline,
            "/ready did not turn 503 after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Well inside the 3 s drain period: the clients are still being answered.
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let answered = client
            .join()
            .expect("every request during the drain was answered");
        assert!(answered > 0);
    }

    let output = terminate(child);
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(output.status.success(), "{logs}");
    assert!(
        logs.contains("draining") && logs.contains("stopped"),
        "{logs}"
    );
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
    wait_until_ok(&mut child, addr, "/ready");
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
    healthcheck(api(work.path()).env("API_PORT", port.to_string())).unwrap();

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
    let unhealthy = healthcheck(api(work.path()).env("API_PORT", port.to_string())).unwrap_err();
    assert!(unhealthy.starts_with("unhealthy:"), "{unhealthy}");
}

#[test]
fn serves_a_regression_model_over_http() {
    let work = tempfile::tempdir().unwrap();
    let models = work.path().join("models");
    save_regression_model(&models, "1.0.0");
    let (child, addr, log_path) = serve_logged(work.path(), &models, &[]);

    let predicted = http(
        addr,
        "POST",
        "/v1/predict",
        &["Content-Type: application/json"],
        HEAVY_GENTOO,
    );
    assert_eq!(predicted.status, 200, "{}", predicted.body);
    let answer = json(&predicted);
    assert!(answer["prediction"].is_f64(), "{answer}");
    assert_eq!(answer["unit"], "g", "{answer}");
    let model = json(&http(addr, "GET", "/v1/model", &[], ""));
    assert_eq!(model["task"], "regression", "{model}");
    for metric in ["r2", "rmse", "mae"] {
        assert!(model["metrics"][metric].is_f64(), "{metric}: {model}");
    }
    let openapi = json(&http(addr, "GET", "/openapi.json", &[], ""));
    assert_eq!(
        openapi["components"]["schemas"]["Prediction"]["properties"]["prediction"]["type"],
        "number"
    );

    let output = terminate(child);
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(output.status.success(), "{logs}");
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
