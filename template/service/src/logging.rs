//! Logs of a server: structured (tracing) lines on stderr, filtered by `RUST_LOG`.
//!
//! The core library has the same initialiser for the batch binaries; the servers keep their own so
//! that the UI, which does not depend on the core library, logs exactly like the API.

use std::io::IsTerminal;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// Installs a stderr subscriber with `filter` (a default level and `target=level` directives, e.g.
/// `info,tower_http=debug`); an invalid filter falls back to `info`. Colour codes only when stderr
/// is a terminal: they garble container logs.
pub fn init(filter: &str) {
    // `Targets` reads RUST_LOG's level directives without the regex engine `EnvFilter` compiles in.
    let filter = filter
        .parse::<Targets>()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .finish()
        .with(filter)
        .try_init();
}
