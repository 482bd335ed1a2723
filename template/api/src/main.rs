//! `{{project-name}}-api`: serves the promoted model over HTTP. `--help` lists the settings.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use {{crate_name}}::utils::{logging, paths};
use {{crate_name}}_api::config::Config;
use {{crate_name}}_api::{healthcheck, server};

fn main() -> ExitCode {
    // The settings file is read before any thread starts, as the environment is process-global.
    let config = match Config::load(Path::new(paths::ENV_FILE)) {
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
    logging::init(&config.log);
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
