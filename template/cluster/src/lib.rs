//! The silver step of {{project-name}}'s pipeline on an Apache DataFusion Ballista cluster: the
//! rules of `config/schema.toml` become DataFusion expressions ([`rules`]) evaluated by the
//! cluster's executors over bronze staged as Parquet ([`staging`]); [`silver`] writes what they
//! return as the same silver layer (data, quarantine, manifest) native silver writes. Bronze and
//! gold are the core library's.
//!
//! One description of the rules, two executors: the schema stays the single source of truth, and
//! `tests/differential.rs` holds the two paths to the same rows, quarantine and split.

pub mod rules;
pub mod silver;
pub mod staging;

use ballista::prelude::SessionContextExt;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

/// Where the silver rules run.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterSettings {
    /// Ballista scheduler, e.g. df://ballista-scheduler:50050 [default: a scheduler and an executor
    /// started in this process]
    #[arg(
        long,
        env = "BALLISTA_SCHEDULER",
        value_name = "BALLISTA_SCHEDULER",
        value_parser = parse_scheduler
    )]
    pub scheduler: Option<String>,
}

/// A scheduler URL as Ballista takes it: `df://host:port`.
fn parse_scheduler(value: &str) -> Result<String, String> {
    let value = value.trim();
    match value.strip_prefix("df://") {
        Some(address) if address.contains(':') && !address.starts_with(':') => Ok(value.to_owned()),
        _ => Err("expected df://host:port, such as df://ballista-scheduler:50050".to_owned()),
    }
}

/// A session on the given scheduler, or on a scheduler and an executor started in this process.
pub async fn connect(scheduler: Option<&str>) -> Result<SessionContext, DataFusionError> {
    match scheduler {
        Some(url) => SessionContext::remote(url).await,
        None => SessionContext::standalone().await,
    }
}
