//! Logs of a server: structured (tracing) lines on stderr, filtered by `RUST_LOG`.
//!
//! The core library has the same initialiser for the batch binaries; the servers keep their own so
//! that the UI, which does not depend on the core library, logs exactly like the API.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs a stderr subscriber with `filter` (e.g. `info,tower_http=debug`); an invalid filter
/// falls back to `info`. Colour codes only when stderr is a terminal: they garble container logs.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
