//! End-to-end: starts the real UI binary against a fake API, submits the form over HTTP, then stops
//! it with SIGTERM. Unix only (signals).
#![cfg(unix)]

mod common;

use common::{GENTOO_FORM, fake_api};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}-ui");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request; returns the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    (head[9..12].parse().unwrap(), body.to_owned())
}

fn wait_healthy(child: &mut Child, addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the UI exited early with {status}");
        }
        if TcpStream::connect(addr).is_ok()
            && http(addr, "GET", "/health", "text/plain", "").0 == 200
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the UI did not answer /health within 30 s");
}

#[test]
fn serves_the_page_and_stops_gracefully() {
    // The fake API runs on this runtime's worker threads while the test blocks on I/O.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api_url = runtime.block_on(fake_api());
    // An empty working directory, so no config/.env of the project is read.
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut child = Command::new(BINARY)
        .current_dir(work.path())
        .env("UI_PORT", port.to_string())
        .env("UI_API_URL", &api_url)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_healthy(&mut child, addr);

    let (status, page) = http(addr, "GET", "/", "text/plain", "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="field-bill_length_mm""#));
    let (status, page) = http(
        addr,
        "POST",
        "/predict",
        "application/x-www-form-urlencoded",
        GENTOO_FORM,
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"<strong id="result-prediction">Gentoo</strong>"#),
        "{page}"
    );

    let check = Command::new(BINARY)
        .current_dir(work.path())
        .env("UI_PORT", port.to_string())
        .arg("--healthcheck")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{logs}");
    assert!(logs.contains("stopped"), "{logs}");
}

#[test]
fn a_bad_setting_names_itself_and_the_expected_form() {
    // An empty working directory, so no config/.env of the project is read.
    let work = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .current_dir(work.path())
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
