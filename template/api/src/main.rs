//! `{{project-name}}-api`: serves the promoted model over HTTP. `--help` lists the settings.

use std::path::Path;
use std::process::ExitCode;

use {{crate_name}}::utils::paths;
use {{crate_name}}_api::server;

fn main() -> ExitCode {
    {{crate_name}}_service::main(Path::new(paths::ENV_FILE), server::run)
}
