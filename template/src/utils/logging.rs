//! Structured logging (tracing) and progress bars shared by every binary.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Installs a stderr subscriber with `filter` (the `RUST_LOG` setting: a default level and
/// `target=level` directives, e.g. `warn,my_crate=debug`); an invalid filter falls back to `info`.
///
/// Logs go to stderr so that stdout stays clean for results a user may pipe elsewhere.
pub fn init(filter: &str) {
    // `Targets` reads RUST_LOG's level directives without the regex engine `EnvFilter` compiles in.
    let filter = filter
        .parse::<Targets>()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only help a human at a terminal; they garble CI logs and files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .finish()
        .with(filter)
        .try_init();
}

/// The exit every binary shares: on error, one `error: ...` line with its causes on stderr and
/// status 1, so a user mistake reads as a message, never as a crash with a backtrace.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A progress bar over `len` steps. indicatif hides it automatically when stderr is not a terminal
/// (CI, pipes), so logs stay readable there.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style =
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
