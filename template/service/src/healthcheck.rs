//! `--healthcheck`: GET /health of a running server with nothing but the standard library, for
//! container health checks in images without curl.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// Whether `GET /health` on `addr` answers 200 within `timeout`. An unspecified address
/// (0.0.0.0 or ::, "every interface") is checked on loopback.
pub fn check(addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let addr = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    let fail = |err: std::io::Error| format!("http://{addr}/health: {err}");
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(fail)?;
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream.set_write_timeout(Some(timeout)).map_err(fail)?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(fail)?;
    // The status line starts with `HTTP/1.1 200`.
    match head.get(9..12) {
        Some(b"200") => Ok(()),
        _ => Err(format!(
            "http://{addr}/health answered `{}`",
            String::from_utf8_lossy(&head).trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A one-shot server on a loopback port that answers the first request with `status_line`.
    fn answering(status_line: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The whole request is read first: closing with unread bytes would reset the
            // connection before the client reads the answer.
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let _ = write!(stream, "{status_line}\r\nContent-Length: 0\r\n\r\n");
        });
        addr
    }

    #[test]
    fn healthy_only_on_200() {
        let timeout = Duration::from_secs(5);
        assert_eq!(check(answering("HTTP/1.1 200 OK"), timeout), Ok(()));
        let err = check(answering("HTTP/1.1 503 Service Unavailable"), timeout).unwrap_err();
        assert!(err.contains("answered `HTTP/1.1 503`"), "{err}");
    }

    #[test]
    fn every_interface_is_checked_on_loopback() {
        let healthy = answering("HTTP/1.1 200 OK");
        let unspecified = SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), healthy.port());
        assert_eq!(check(unspecified, Duration::from_secs(5)), Ok(()));
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let closed = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port);
        let err = check(closed, Duration::from_secs(5)).unwrap_err();
        assert!(
            err.starts_with(&format!("http://{closed}/health: ")),
            "{err}"
        );
    }
}
