//! A server binary's `main`, so the API and the UI start, fail and exit the same way:
//!
//! | outcome | exit status |
//! |---|---|
//! | a bad flag or setting (clap's message names it) or an unreadable settings file | 2 |
//! | `--healthcheck`: healthy / not healthy | 0 / 1 |
//! | the server stopped on a signal / failed (one `error: ...` line with its causes) | 0 / 1 |

use clap::{CommandFactory, FromArgMatches};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::healthcheck;
use {{crate_name}}_settings::LogSettings;

/// How long `--healthcheck` waits for the server; container runtimes allow a few seconds.
pub const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The settings every server has, whatever its variables are called.
pub trait Settings {
    /// The address the server listens on, and that `--healthcheck` asks.
    fn addr(&self) -> SocketAddr;
    /// `--healthcheck`: ask the running server for its health instead of starting one.
    fn healthcheck(&self) -> bool;
    /// The log filter and format (`RUST_LOG`, `LOG_FORMAT`).
    fn log(&self) -> &LogSettings;
}

/// Loads the settings `C` (see `{{crate_name}}_settings::load`), then either runs the health check or starts
/// logging and a multi-threaded runtime and serves with `serve` until it returns.
pub fn main<C, F, Fut>(env_file: &Path, serve: F) -> ExitCode
where
    C: Settings + CommandFactory + FromArgMatches,
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // The settings file is read before any thread starts, as the environment is process-global.
    let config = match {{crate_name}}_settings::load::<C>(env_file) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    if config.healthcheck() {
        return match healthcheck::check(config.addr(), HEALTHCHECK_TIMEOUT) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("unhealthy: {err}");
                ExitCode::FAILURE
            }
        };
    }
    config.log().init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
