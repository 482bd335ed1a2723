//! `{{project-name}}-ui`: serves the web page that queries the model API. `--help` lists the
//! settings.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

use {{crate_name}}_ui::config::Config;
use {{crate_name}}_ui::{healthcheck, server};

fn main() -> ExitCode {
    // The settings file is read before any thread starts, as the environment is process-global.
    let config = match Config::load(Path::new("config/.env")) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
    if config.healthcheck {
        return match healthcheck::check(config.addr(), Duration::from_secs(3)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("unhealthy: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // Logs go to stderr; an invalid filter falls back to `info`.
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
