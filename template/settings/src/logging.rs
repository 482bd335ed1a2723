//! The logging settings every binary has, and the one place logging starts: structured (tracing)
//! lines on stderr, so that stdout stays clean for results a user may pipe elsewhere.

use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

use crate::parse_log_filter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, for people.
    Text,
    /// One JSON object per line, for log collectors (the container images' default).
    Json,
}

/// The log filter and format.
#[derive(Debug, Clone, Args)]
pub struct LogSettings {
    /// Log filter: error, warn, info, debug or trace (per module: `warn,my_crate=debug`)
    #[arg(
        long = "log",
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info",
        value_parser = parse_log_filter
    )]
    pub log_filter: String,

    /// Log line format: `text` for people, `json` (one object per line) for log collectors
    #[arg(
        long = "log-format",
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "text",
        value_enum
    )]
    pub log_format: LogFormat,
}

impl LogSettings {
    /// Installs the stderr subscriber; an invalid filter falls back to `info`. Text gets colour
    /// codes only when stderr is a terminal: they garble CI and container logs.
    pub fn init(&self) {
        self.init_quieting(&[]);
    }

    /// [`LogSettings::init`], with the crates whose names start with one of `chatty` logging
    /// warnings and errors only, unless the filter names them.
    pub fn init_quieting(&self, chatty: &[&str]) {
        // `Targets` reads RUST_LOG's level directives without the regex engine `EnvFilter` compiles in.
        let mut filter = self
            .log_filter
            .parse::<Targets>()
            .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
        for name in chatty {
            if !self.log_filter.contains(name) {
                filter = filter.with_target(*name, LevelFilter::WARN);
            }
        }
        let lines = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_target(false);
        let _ = match self.log_format {
            LogFormat::Text => lines
                .with_ansi(std::io::stderr().is_terminal())
                .finish()
                .with(filter)
                .try_init(),
            LogFormat::Json => lines
                .json()
                .with_current_span(true)
                .finish()
                .with(filter)
                .try_init(),
        };
    }
}
