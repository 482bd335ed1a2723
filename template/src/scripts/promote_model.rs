//! promote_model: installs a verified model that passed the quality gate where the API serves it from.

use anyhow::Result;
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::artifact::{self, GateVerdict, PromoteError};
use {{crate_name}}::config;
{%- if mlflow %}
use {{crate_name}}::tracking;
{%- endif %}
use {{crate_name}}::utils::logging;

/// Verify a trained model's checksums and quality gate result, and copy it atomically to the
/// serving location.
///
/// The model must have passed the gate: its gate.json, written by test_model (`make evaluate`),
/// must be about this exact model and its held-out test split, and hold it to thresholds at least
/// as strict as the configured GATE_MIN_*. Otherwise nothing is copied and the exit code is 1.
/// The previous promoted model is replaced in one step, so the API never sees a partial copy.
{%- if mlflow %}
///
/// With MLFLOW_TRACKING_URI set, the model is also registered in MLflow as a version of
/// MLFLOW_REGISTERED_MODEL, from its training run's artifacts, and MLFLOW_ALIAS points at it. The
/// server is reached, and the model's run found, before anything is copied.
{%- endif %}
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    model: config::ModelChoice,
    #[command(flatten)]
    target: config::PromoteTarget,
    /// Promote even though the gate result is missing, failed or about another model; the
    /// override is recorded in the promoted model's metadata.json (gate_override)
    #[arg(long)]
    allow_failed_gate: bool,
    #[command(flatten)]
    gate: config::GateSettings,
{%- if mlflow %}
    #[command(flatten)]
    tracking: config::TrackingServer,
    #[command(flatten)]
    registry: config::RegistrySettings,
{%- endif %}
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.log.init();
    let source = cli.model.model_dir();
    let target = cli.target.to;
    let local_source = source.workspace()?;
    local_source.pull("")?;
    let local_target = target.workspace()?;
    let thresholds = cli.gate.thresholds();
{%- if mlflow %}
    let registration = match &cli.tracking.tracking_uri {
        Some(uri) => Some(tracking::prepare_registration(uri, local_source.path())?),
        None => None,
    };
{%- endif %}
    let promoted = artifact::promote(
        local_source.path(),
        local_target.path(),
        &thresholds,
        cli.allow_failed_gate,
    )
    .map_err(|err| match err {
        PromoteError::Gate(refusal) => anyhow::anyhow!(
            "refusing to promote {source}: {refusal}. Nothing was copied \
             (--allow-failed-gate overrides the gate)"
        ),
        err => anyhow::Error::new(err).context(format!("cannot promote {source} to {target}")),
    })?;
    local_target.push("")?;
    let m = &promoted.model.metadata;
    let name = format!("{}-{}", m.name, m.version);
    match &promoted.gate {
        GateVerdict::Passed(record) => {
            let checks: Vec<String> = record
                .gate
                .checks
                .iter()
                .map(|c| format!("{} {:.4} >= {:.4}", c.metric, c.value, c.threshold))
                .collect();
            println!(
                "promoted {name} ({}, quality gate passed: {}) -> {}",
                m.hyperparameters.algorithm,
                checks.join(", "),
                target
            );
        }
        GateVerdict::Overridden(record) => {
            eprintln!(
                "WARNING: {name} is promoted WITHOUT passing the quality gate (--allow-failed-gate): {}",
                record.refused_because
            );
            eprintln!(
                "WARNING: the override is recorded in {} ({})",
                target.join(artifact::METADATA_FILE),
                artifact::GATE_OVERRIDE_KEY
            );
            println!(
                "promoted {name} ({}, QUALITY GATE OVERRIDDEN) -> {}",
                m.hyperparameters.algorithm, target
            );
        }
    }
    println!(
        "checksum {} (the API reports it as the model's checksum)",
        promoted.checksum
    );
{%- if mlflow %}
    if let Some(registration) = registration {
        let registry = &cli.registry;
        let registered =
            registration.register(&promoted, &registry.registered_model, &registry.alias)?;
        println!(
            "MLflow: {} version {} ({}), alias {}: {}",
            registered.name,
            registered.version,
            if registered.created {
                "registered"
            } else {
                "already registered"
            },
            registered.alias,
            registered.url
        );
    }
{%- endif %}
    Ok(())
}
