//! make_dataset: ingest -> bronze -> silver -> gold, then refresh the data dictionary.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::config;
use {{crate_name}}::data::{dictionary, silver};
use {{crate_name}}::utils::{fs, logging};

/// Build the bronze, silver and gold data layers from the configured source.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    dataset: config::DatasetSettings,
    /// Only write the data dictionary from the schema, then stop
    #[arg(long)]
    dictionary_only: bool,
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.log.init();
    let schema = cli.dataset.schema()?;
    let dictionary_path = cli.dataset.source.reference_dir.join("data_dictionary.md");
    fs::write_atomic(&dictionary_path, dictionary::render(&schema).as_bytes())
        .with_context(|| format!("cannot write {}", dictionary_path.display()))?;
    if cli.dictionary_only {
        println!("wrote {}", dictionary_path.display());
        return Ok(());
    }
    println!("{}", cli.dataset.build_layers(&schema, &silver::build)?);
    Ok(())
}
