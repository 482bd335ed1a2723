//! make_dataset: ingest -> bronze -> silver -> gold, then refresh the data dictionary.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::config;
use {{crate_name}}::data::{self, dictionary, layers, silver};
use {{crate_name}}::utils::{fs, logging};

/// Build the bronze, silver and gold data layers from the configured source.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    source: config::SourceSettings,
    #[command(flatten)]
    delimiter: config::CsvDelimiter,
    #[command(flatten)]
    datasets: config::DatasetsDir,
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
    let settings = &cli.source;
    let (schema, origin) = data::resolve_schema(settings.schema.as_deref())?;
    tracing::info!(schema = %origin, "schema loaded");
    let dictionary_path = settings.reference_dir.join("data_dictionary.md");
    fs::write_atomic(&dictionary_path, dictionary::render(&schema).as_bytes())
        .with_context(|| format!("cannot write {}", dictionary_path.display()))?;
    if cli.dictionary_only {
        println!("wrote {}", dictionary_path.display());
        return Ok(());
    }

    let inputs = layers::Inputs {
        source: &settings.source,
        schema: &schema,
        delimiter: cli.delimiter.delimiter,
        test_fraction: settings.test_fraction,
        seed: settings.seed,
    };
    println!(
        "{}",
        layers::build(&cli.datasets.datasets_dir, &inputs, &silver::build)?
    );
    Ok(())
}
