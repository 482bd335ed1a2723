//! train_model: fits a model on the gold training split and writes `src/models/<name>-<version>/`.

use anyhow::Result;
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::data::gold;
use {{crate_name}}::training;
use {{crate_name}}::utils::config;
use {{crate_name}}::utils::{logging, paths};

/// Train a model on the gold layer and save it with its preprocessing, metadata and checksums.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    training: config::TrainingSettings,
    #[command(flatten)]
    model: config::ModelId,
    #[command(flatten)]
    datasets: config::DatasetsDir,
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.log.init();
    let hyperparameters = cli.training.hyperparameters();
    let bar = logging::progress_bar(3, "train_model");
    bar.set_message("load gold");
    let data = gold::load(&paths::gold(&cli.datasets.datasets_dir))?;
    bar.inc(1);

    bar.set_message(format!("fit {}", hyperparameters.algorithm));
    let model = training::train(
        &data,
        &hyperparameters,
        &cli.model.name,
        &cli.model.model_version,
        training::git_commit(),
    )?;
    bar.inc(1);

    bar.set_message("save");
    let dir = cli.model.model_dir();
    model.save(&dir)?;
    bar.finish_and_clear();

    let headline: Vec<String> = model
        .metadata
        .metrics
        .headline()
        .iter()
        .map(|(metric, value)| format!("{metric} {value:.4}"))
        .collect();
    tracing::info!(dir = %dir.display(), metrics = %headline.join(", "), "model saved");
    println!(
        "{} {} trained on {} rows: test {} -> {}",
        model.metadata.algorithm,
        model.metadata.task().describe(),
        model.metadata.train_rows,
        headline.join(", "),
        dir.display()
    );
    Ok(())
}
