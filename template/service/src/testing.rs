//! For the servers' end-to-end tests, which start the real binary and talk HTTP to it: a free
//! port, a raw HTTP/1.1 client, waiting for readiness and stopping with a signal. Only the
//! standard library, so the tests see exactly the bytes a client would.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A response as received: the status, the head (status line and headers) and the body.
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// One HTTP/1.1 request with extra `headers` (`"Name: value"`); `Connection: close` makes the
/// body end at end of stream. Panics on a transport error, and on a chunked response, whose body
/// would include the chunking.
pub fn http(addr: SocketAddr, method: &str, path: &str, headers: &[&str], body: &str) -> Response {
    try_http(addr, method, path, headers, body)
        .unwrap_or_else(|err| panic!("{method} http://{addr}{path}: {err}"))
}

/// [`http`], returning a transport error (refused, reset, timed out) instead of panicking.
pub fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        request += &format!("{header}\r\n");
    }
    request += &format!("Content-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no status in {head:?}"),
            )
        })?;
    Ok(Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

/// Waits until `GET path` on `addr` answers 200, failing early if the process exits.
pub fn wait_until_ok(child: &mut Child, addr: SocketAddr, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the server exited early with {status}");
        }
        // Refused or reset while the server starts: not ready yet.
        if try_http(addr, "GET", path, &[], "").is_ok_and(|response| response.status == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not answer GET {path} with 200 within 30 s");
}

/// Runs `command` with `--healthcheck`, as a container runtime would: `Ok` if it exits 0,
/// `Err(stderr)` if it exits 1 (the server is not healthy); any other exit panics.
pub fn healthcheck(command: &mut Command) -> Result<(), String> {
    let output = command.arg("--healthcheck").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(stderr),
        other => panic!("--healthcheck exited with {other:?}: {stderr}"),
    }
}

/// Sends the signal `name` (`-TERM`, `-HUP`, ...) to the process with `kill`.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Stops the server with SIGTERM and returns its output.
pub fn terminate(mut child: Child) -> Output {
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
