//! make_dataset: ingest -> bronze -> silver -> gold, then refresh the data dictionary.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::config;
use {{crate_name}}::data::{self, bronze, dictionary};
use {{crate_name}}::data::{gold, ingest, silver};
use {{crate_name}}::utils::{fs, logging, paths};

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
    let delimiter = cli.delimiter.delimiter;
    let (schema, origin) = data::resolve_schema(settings.schema.as_deref())?;
    tracing::info!(schema = %origin, "schema loaded");
    let dictionary_path = settings.reference_dir.join("data_dictionary.md");
    fs::write_atomic(&dictionary_path, dictionary::render(&schema).as_bytes())
        .with_context(|| format!("cannot write {}", dictionary_path.display()))?;
    if cli.dictionary_only {
        println!("wrote {}", dictionary_path.display());
        return Ok(());
    }

    // A folder in an object store is built in a local copy, then uploaded layer by layer.
    let layers = cli.datasets.datasets_dir.workspace()?;
    let datasets = layers.path();
    let bar = logging::progress_bar(4, "make_dataset");
    bar.set_message(format!("ingest {}", settings.source));
    let input = ingest::open(&settings.source)?;
    bar.inc(1);

    bar.set_message("bronze");
    let bronze = bronze::write(
        &paths::bronze(datasets),
        &settings.source.to_string(),
        input,
        delimiter,
    )?;
    tracing::info!(rows = bronze.data.rows, sha256 = %bronze.data.sha256, file = %bronze.data.file, "bronze written");
    bar.inc(1);

    bar.set_message("silver");
    let silver = silver::build(
        &paths::bronze(datasets),
        &paths::silver(datasets),
        &schema,
        delimiter,
    )?;
    let r = &silver.rows;
    tracing::info!(
        rows = r.silver_rows,
        quarantined = r.quarantined,
        duplicates = r.duplicates,
        "silver written"
    );
    bar.inc(1);

    bar.set_message("gold");
    let gold = gold::build(
        &paths::silver(datasets),
        &paths::gold(datasets),
        &schema,
        settings.test_fraction,
        settings.seed,
    )?;
    tracing::info!(
        train = gold.train.rows,
        test = gold.test.rows,
        features = gold.features.len(),
        "gold written"
    );
    for layer in [paths::BRONZE, paths::SILVER, paths::GOLD] {
        layers.push(layer)?;
    }
    bar.finish_and_clear();

    println!(
        "bronze {} rows -> silver {} rows ({} quarantined, {} duplicates) -> gold {} train + {} test rows, {} features",
        r.bronze_rows,
        r.silver_rows,
        r.quarantined,
        r.duplicates,
        gold.train.rows,
        gold.test.rows,
        gold.features.len()
    );
    if r.quarantined > 0 {
        println!(
            "quarantined rows and reasons: {}",
            cli.datasets
                .datasets_dir
                .join(paths::SILVER)
                .join(silver::QUARANTINE_FILE)
        );
    }
    Ok(())
}
