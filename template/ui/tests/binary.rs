//! End-to-end: starts the real UI binary against a fake API, submits the form over HTTP, then stops
//! it with SIGTERM. Unix only (signals).
#![cfg(unix)]

mod common;

use common::{GENTOO_FORM, fake_api};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use {{crate_name}}_service::testing::{free_port, healthcheck, http};
use {{crate_name}}_service::testing::{terminate, wait_until_ok};

const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}-ui");

/// The binary, run from an empty directory so no config/.env of the project is read.
fn ui(workdir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(workdir);
    command
}

/// The `Content-Type` a browser sends with the form.
const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

#[test]
fn serves_the_page_and_stops_gracefully() {
    // The fake API runs on this runtime's worker threads while the test blocks on I/O.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime.block_on(fake_api());
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = ui(work.path())
        .env("UI_PORT", port.to_string())
        .env("UI_API_URL", &api.url)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_ok(&mut child, addr, "/health");

    let page = http(addr, "GET", "/", &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="field-bill_length_mm""#));
    let page = http(addr, "POST", "/predict", &[FORM], GENTOO_FORM);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(r#"<strong id="result-prediction">Gentoo</strong>"#),
        "{}",
        page.body
    );

    healthcheck(ui(work.path()).env("UI_PORT", port.to_string())).unwrap();

    let output = terminate(child);
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{logs}");
    for expected in ["shutting down", "stopped"] {
        assert!(logs.contains(expected), "`{expected}` not logged:\n{logs}");
    }
    // Nothing listens any more: the health check now fails.
    let unhealthy = healthcheck(ui(work.path()).env("UI_PORT", port.to_string())).unwrap_err();
    assert!(unhealthy.starts_with("unhealthy:"), "{unhealthy}");
}

#[test]
fn a_bad_setting_names_itself_and_the_expected_form() {
    let work = tempfile::tempdir().unwrap();
    let output = ui(work.path())
        .env("UI_API_URL", "localhost:8080")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("UI_API_URL") && stderr.contains("expected an http:// URL"),
        "{stderr}"
    );
}
