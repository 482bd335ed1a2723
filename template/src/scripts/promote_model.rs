//! promote_model: installs a verified model where the API serves it from.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::artifact;
use {{crate_name}}::utils::config::Settings;
use {{crate_name}}::utils::logging;

/// Verify a trained model's checksums and copy it atomically to the serving location.
///
/// The previous promoted model is replaced in one step, so the API never sees a partial copy.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Model directory to promote [default: MODELS_DIR/MODEL_NAME-MODEL_VERSION]
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Destination directory [env: PROMOTE_DIR]
    #[arg(long)]
    to: Option<PathBuf>,
}

fn main() -> ExitCode {
    logging::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<()> {
    let settings = Settings::load()?;
    logging::init(&settings.log_filter);
    let source = cli.model_dir.unwrap_or_else(|| settings.model_dir());
    let target = cli.to.unwrap_or(settings.promote_dir);
    let model = artifact::promote(&source, &target).with_context(|| {
        format!(
            "cannot promote {} to {}",
            source.display(),
            target.display()
        )
    })?;
    let m = &model.metadata;
    println!(
        "promoted {}-{} ({}, test accuracy {:.4}) -> {}",
        m.name,
        m.version,
        m.algorithm,
        m.metrics.accuracy,
        target.display()
    );
    Ok(())
}
