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
