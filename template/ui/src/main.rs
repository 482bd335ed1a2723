//! `{{project-name}}-ui`: serves the web page that queries the model API. `--help` lists the
//! settings.

use std::path::Path;
use std::process::ExitCode;

use {{crate_name}}_ui::server;

fn main() -> ExitCode {
    {{crate_name}}_service::main(Path::new("config/.env"), server::run)
}
