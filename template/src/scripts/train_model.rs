//! train_model: fits a model on the gold training split and writes `src/models/<name>-<version>/`.
{%- if mlflow %}
//! With MLFLOW_TRACKING_URI set, it also logs the training as an MLflow run (see `tracking`).
{%- endif %}

use anyhow::Result;
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::Model;
use {{crate_name}}::artifact;
use {{crate_name}}::config;
use {{crate_name}}::data::gold::{self, GoldData};
use {{crate_name}}::storage::Workspace;
{%- if mlflow %}
use {{crate_name}}::tracking;
{%- endif %}
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
{%- if mlflow %}
    #[command(flatten)]
    tracking: config::TrackingServer,
    #[command(flatten)]
    experiment: config::TrackingExperiment,
{%- endif %}
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.log.init();
{%- if mlflow %}
    // Started before training, so an unreachable tracking server stops the step before any work.
    let run_name = format!("{}-{}", cli.model.name, cli.model.model_version);
    let tracked = match &cli.tracking.tracking_uri {
        Some(uri) => Some(tracking::start_run(
            uri,
            &cli.experiment.experiment,
            &run_name,
        )?),
        None => None,
    };
    let trained = train(&cli);
    if let (Some(run), Err(_)) = (&tracked, &trained) {
        run.fail();
    }
    let (model, saved, data, layers) = trained?;
{%- else %}
    let (model, _, _, _) = train(&cli)?;
{%- endif %}
    let dir = cli.model.model_dir();

    let headline: Vec<String> = model
        .metadata
        .metrics
        .headline()
        .iter()
        .map(|(metric, value)| format!("{metric} {value:.4}"))
        .collect();
    tracing::info!(dir = %dir, metrics = %headline.join(", "), "model saved");
    println!(
        "{} {} trained on {} rows: test {} -> {}",
        model.metadata.hyperparameters.algorithm,
        model.metadata.task().describe(),
        model.metadata.train_rows,
        headline.join(", "),
        dir
    );
{%- if mlflow %}
    if let Some(run) = tracked {
        let gold_dir = paths::gold(layers.path());
        let record = run.finish(&model, saved.path(), &data, &gold_dir)?;
        // The run record travels with the model.
        saved.push("")?;
        println!(
            "logged to MLflow run {} in experiment {}: {}",
            record.run_id,
            cli.experiment.experiment,
            record.url()
        );
    }
{%- endif %}
    Ok(())
}

/// Loads gold, fits the model and saves it; returns it with the local copy of its directory, the
/// data and the local copy of the layers.
fn train(cli: &Cli) -> Result<(Model, Workspace, GoldData, Workspace)> {
    let hyperparameters = cli.training.hyperparameters();
    let bar = logging::progress_bar(3, "train_model");
    bar.set_message("load gold");
    let layers = cli.datasets.datasets_dir.workspace()?;
    layers.pull(paths::GOLD)?;
    let data = gold::load(&paths::gold(layers.path()))?;
    bar.inc(1);

    bar.set_message(format!("fit {}", hyperparameters.algorithm));
    let model = Model::train(
        &data,
        &hyperparameters,
        &cli.model.name,
        &cli.model.model_version,
        artifact::git_commit(),
    )?;
    bar.inc(1);

    bar.set_message("save");
    let saved = cli.model.model_dir().workspace()?;
    model.save(saved.path())?;
    saved.push("")?;
    bar.finish_and_clear();
    Ok((model, saved, data, layers))
}
