//! Load benchmark (`make bench-api`, not a test): starts the release API binary on a free loopback
//! port with a model trained from the bundled data, drives `POST /v1/predict` at fixed
//! concurrencies and prints throughput and p50/p99 latency.
//!
//! The load comes from `wrk` when it is installed (`apt-get install wrk`), otherwise from a small
//! keep-alive HTTP/1.1 client below. Both share the machine with the server, so the numbers are a
//! floor. Settings: BENCH_SECONDS (per level, default 5), BENCH_CONCURRENCY (default 1,8,32,64).

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_{{project-name}}-api");

fn main() -> anyhow::Result<()> {
    let seconds: u64 = setting("BENCH_SECONDS", "5")?;
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8,32,64".to_owned())
        .split(',')
        .map(|level| level.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            anyhow::anyhow!("BENCH_CONCURRENCY: expected comma-separated whole numbers")
        })?;

    let models = tempfile::tempdir()?;
    common::save_model(models.path(), "bench");
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = Command::new(BINARY)
        .env("API_PORT", port.to_string())
        .env("API_MODEL_DIR", models.path())
        // Request logs would measure the terminal, not the server.
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()?;
    let outcome = run(addr, &levels, Duration::from_secs(seconds));
    server.kill()?;
    server.wait()?;
    outcome
}

fn run(addr: SocketAddr, levels: &[usize], duration: Duration) -> anyhow::Result<()> {
    wait_ready(addr)?;
    let wrk = Command::new("wrk").arg("--version").output().is_ok();
    println!(
        "POST http://{addr}/v1/predict, {} s per level, load from {}",
        duration.as_secs(),
        if wrk {
            "wrk"
        } else {
            "the built-in client (install wrk for less overhead)"
        }
    );
    println!(
        "{:>11} {:>10} {:>10} {:>9} {:>9} {:>7}",
        "concurrency", "requests", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for &concurrency in levels {
        let result = if wrk {
            with_wrk(addr, concurrency, duration)?
        } else {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(with_client(addr, concurrency, duration))
        };
        println!(
            "{concurrency:>11} {:>10} {:>10.0} {:>9.3} {:>9.3} {:>7}",
            result.requests,
            result.throughput,
            result.p50.as_secs_f64() * 1000.0,
            result.p99.as_secs_f64() * 1000.0,
            result.errors
        );
    }
    Ok(())
}

/// One load level's outcome.
struct LevelResult {
    requests: u64,
    errors: u64,
    throughput: f64,
    p50: Duration,
    p99: Duration,
}

fn setting<T: std::str::FromStr>(name: &str, default: &str) -> anyhow::Result<T> {
    let value = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    value
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}: expected a whole number, got `{value}`"))
}

fn wait_ready(addr: SocketAddr) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("the API did not start listening on {addr} within 30 s")
}

fn request() -> String {
    format!(
        "POST /v1/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        common::GENTOO.len(),
        common::GENTOO
    )
}

/// `concurrency` keep-alive connections, each sending requests back to back.
async fn with_client(addr: SocketAddr, concurrency: usize, duration: Duration) -> LevelResult {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let request = request();
            'connection: while tokio::time::Instant::now() < deadline {
                let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
                    errors += 1;
                    continue;
                };
                let mut stream = BufReader::new(stream);
                while tokio::time::Instant::now() < deadline {
                    let sent = Instant::now();
                    match exchange(&mut stream, request.as_bytes()).await {
                        Ok(true) => latencies.push(sent.elapsed()),
                        Ok(false) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            continue 'connection;
                        }
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((mut worker_latencies, worker_errors)) = worker.await {
            latencies.append(&mut worker_latencies);
            errors += worker_errors;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    LevelResult {
        requests: latencies.len() as u64,
        errors,
        throughput: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(0.50),
        p99: percentile(0.99),
    }
}

/// Sends one request and reads the whole response; `Ok(true)` for a 200.
async fn exchange(
    stream: &mut BufReader<tokio::net::TcpStream>,
    request: &[u8],
) -> std::io::Result<bool> {
    stream.get_mut().write_all(request).await?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await?;
    Ok(status_line.starts_with("HTTP/1.1 200"))
}

/// Runs wrk with a Lua script for the POST body and reads its summary.
fn with_wrk(
    addr: SocketAddr,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<LevelResult> {
    let script = tempfile::Builder::new().suffix(".lua").tempfile()?;
    let body = serde_json::to_string(common::GENTOO)?;
    std::fs::write(
        script.path(),
        format!(
            "wrk.method = \"POST\"\nwrk.body = {body}\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )?;
    let output = Command::new("wrk")
        .args([
            "--latency",
            "-t",
            &concurrency.min(2).to_string(),
            "-c",
            &concurrency.to_string(),
        ])
        .args(["-d", &format!("{}s", duration.as_secs()), "-s"])
        .arg(script.path())
        .arg(format!("http://{addr}/v1/predict"))
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
            .ok_or_else(|| anyhow::anyhow!("no `{prefix}` in wrk's output:\n{text}"))
    };
    let total = text
        .lines()
        .find(|line| line.contains("requests in"))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let non_2xx = field("Non-2xx or 3xx responses:")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(LevelResult {
        requests: total,
        errors: non_2xx,
        throughput: field("Requests/sec:")?.parse().unwrap_or(0.0),
        p50: parse_wrk_duration(&field("50%")?),
        p99: parse_wrk_duration(&field("99%")?),
    })
}

/// wrk prints latencies as `512.00us`, `1.20ms` or `2.01s`.
fn parse_wrk_duration(text: &str) -> Duration {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().unwrap_or(0.0);
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => 0.0,
    };
    Duration::from_secs_f64(seconds)
}
