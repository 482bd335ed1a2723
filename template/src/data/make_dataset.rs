//! make_dataset: ingest -> bronze -> silver -> gold, then refresh the data dictionary.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::data::{self, bronze, dictionary};
use {{crate_name}}::data::{gold, ingest, silver};
use {{crate_name}}::utils::config::parse_delimiter;
use {{crate_name}}::utils::config::{DataSource, Settings};
use {{crate_name}}::utils::{fs, logging, paths};

/// Build the bronze, silver and gold data layers from the configured source.
///
/// Settings come from flags, then the environment, then config/.env (see config/.env.example).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Data source: `sample`, a CSV path, or an http(s) URL [env: DATA_SOURCE]
    #[arg(long)]
    source: Option<String>,
    /// Schema file describing the CSV [env: DATA_SCHEMA]
    #[arg(long)]
    schema: Option<PathBuf>,
    /// CSV delimiter: one character, or `tab` [env: CSV_DELIMITER]
    #[arg(long, value_parser = delimiter)]
    delimiter: Option<u8>,
    /// Seed of the train/test split [env: SPLIT_SEED]
    #[arg(long)]
    seed: Option<u64>,
    /// Share of each class held out for testing, in (0, 1) [env: TEST_FRACTION]
    #[arg(long, value_parser = fraction)]
    test_fraction: Option<f64>,
    /// Folder of the data layers [env: DATASETS_DIR]
    #[arg(long)]
    datasets_dir: Option<PathBuf>,
    /// Folder receiving data_dictionary.md [env: REFERENCE_DIR]
    #[arg(long)]
    reference_dir: Option<PathBuf>,
    /// Only write the data dictionary from the schema, then stop
    #[arg(long)]
    dictionary_only: bool,
}

fn delimiter(value: &str) -> Result<u8, String> {
    parse_delimiter(value).ok_or_else(|| "expected a single ASCII character, or `tab`".to_owned())
}

fn fraction(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        _ => Err("expected a number strictly between 0 and 1".to_owned()),
    }
}

fn main() -> ExitCode {
    logging::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<()> {
    let mut settings = Settings::load()?;
    logging::init(&settings.log_filter);
    if let Some(source) = &cli.source {
        settings.data_source = DataSource::parse(source);
    }
    settings.data_schema = cli.schema.or(settings.data_schema);
    settings.csv_delimiter = cli.delimiter.unwrap_or(settings.csv_delimiter);
    settings.split_seed = cli.seed.unwrap_or(settings.split_seed);
    settings.test_fraction = cli.test_fraction.unwrap_or(settings.test_fraction);
    settings.datasets_dir = cli.datasets_dir.unwrap_or(settings.datasets_dir);
    settings.reference_dir = cli.reference_dir.unwrap_or(settings.reference_dir);

    let (schema, origin) = data::resolve_schema(settings.data_schema.as_deref())?;
    tracing::info!(schema = %origin, "schema loaded");
    let dictionary_path = settings.reference_dir.join("data_dictionary.md");
    fs::write_atomic(&dictionary_path, dictionary::render(&schema).as_bytes())
        .with_context(|| format!("cannot write {}", dictionary_path.display()))?;
    if cli.dictionary_only {
        println!("wrote {}", dictionary_path.display());
        return Ok(());
    }

    let datasets = &settings.datasets_dir;
    let bar = logging::progress_bar(4, "make_dataset");
    bar.set_message(format!("ingest {}", settings.data_source));
    let input = ingest::open(&settings.data_source)?;
    bar.inc(1);

    bar.set_message("bronze");
    let bronze = bronze::write(
        &paths::bronze(datasets),
        &settings.data_source.to_string(),
        input,
        settings.csv_delimiter,
    )?;
    tracing::info!(rows = bronze.data.rows, sha256 = %bronze.data.sha256, file = %bronze.data.file, "bronze written");
    bar.inc(1);

    bar.set_message("silver");
    let silver = silver::build(
        &paths::bronze(datasets),
        &paths::silver(datasets),
        &schema,
        settings.csv_delimiter,
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
        settings.split_seed,
    )?;
    tracing::info!(
        train = gold.train.rows,
        test = gold.test.rows,
        features = gold.features.len(),
        "gold written"
    );
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
            paths::silver(datasets)
                .join(silver::QUARANTINE_FILE)
                .display()
        );
    }
    Ok(())
}
