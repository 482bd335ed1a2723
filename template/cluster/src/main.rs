//! make_dataset_cluster: ingest -> bronze -> silver -> gold like make_dataset, with silver's rules
//! run on an Apache DataFusion Ballista cluster.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::config;
use {{crate_name}}::utils::logging;
use {{crate_name}}_cluster::ClusterSettings;

/// Build the bronze, silver and gold data layers, with silver's rules run on a Ballista cluster.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    dataset: config::DatasetSettings,
    #[command(flatten)]
    cluster: ClusterSettings,
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    // Ballista logs every plan and task at info.
    cli.log.init_quieting(&["ballista", "datafusion"]);
    let schema = cli.dataset.schema()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let scheduler = cli.cluster.scheduler.as_deref();
    let ctx = runtime
        .block_on({{crate_name}}_cluster::connect(scheduler))
        .with_context(|| match scheduler {
            Some(url) => format!("cannot connect to the Ballista scheduler {url}"),
            None => "cannot start a Ballista scheduler and executor in this process".to_owned(),
        })?;
    let on_cluster = |bronze: &_, silver: &_, schema: &_, delimiter| {
        runtime.block_on({{crate_name}}_cluster::silver::build(
            &ctx, bronze, silver, schema, delimiter,
        ))
    };
    println!("{}", cli.dataset.build_layers(&schema, &on_cluster)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use {{crate_name}}_settings::check_env_file;

    #[test]
    fn env_example_documents_and_accepts_every_setting() {
        let example = include_str!("../../config/.env.example");
        check_env_file(Cli::command(), example).unwrap();
    }
}
