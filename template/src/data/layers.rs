//! The three layers in one call, ingest -> bronze -> silver -> gold, with the silver step given:
//! make_dataset passes the native [`silver::build`]; an engine that runs the rules elsewhere passes
//! its own.

use super::ingest::{self, DataSource};
use super::manifest::{BronzeManifest, GoldManifest, SilverManifest};
use super::silver::QUARANTINE_FILE;
use super::{DataError, bronze, gold};
use crate::schema::Schema;
use crate::storage::Folder;
use crate::utils::{logging, paths};
use std::fmt;
use std::path::Path;

/// Builds silver from bronze: `(bronze_dir, silver_dir, schema, delimiter)`.
pub type SilverStep<'a> =
    &'a dyn Fn(&Path, &Path, &Schema, u8) -> Result<SilverManifest, DataError>;

/// What the layers are built from.
pub struct Inputs<'a> {
    pub source: &'a DataSource,
    pub schema: &'a Schema,
    pub delimiter: u8,
    pub test_fraction: f64,
    pub seed: u64,
}

/// The manifests of the layers just written, and where the quarantine is.
pub struct Layers {
    pub bronze: BronzeManifest,
    pub silver: SilverManifest,
    pub gold: GoldManifest,
    pub quarantine: Folder,
}

/// Writes the bronze, silver and gold layers in the folder `datasets`. A folder in an object store
/// is built in a local copy, then uploaded layer by layer.
pub fn build(datasets: &Folder, inputs: &Inputs, silver: SilverStep) -> Result<Layers, DataError> {
    let workspace = datasets.workspace()?;
    let (bronze, silver, gold) = build_in(workspace.path(), inputs, silver)?;
    for layer in [paths::BRONZE, paths::SILVER, paths::GOLD] {
        workspace.push(layer)?;
    }
    Ok(Layers {
        bronze,
        silver,
        gold,
        quarantine: datasets.join(paths::SILVER).join(QUARANTINE_FILE),
    })
}

fn build_in(
    datasets: &Path,
    inputs: &Inputs,
    silver: SilverStep,
) -> Result<(BronzeManifest, SilverManifest, GoldManifest), DataError> {
    let bar = logging::progress_bar(4, "make_dataset");
    bar.set_message(format!("ingest {}", inputs.source));
    let input = ingest::open(inputs.source)?;
    bar.inc(1);

    bar.set_message("bronze");
    let bronze = bronze::write(
        &paths::bronze(datasets),
        &inputs.source.to_string(),
        input,
        inputs.delimiter,
    )?;
    tracing::info!(rows = bronze.data.rows, sha256 = %bronze.data.sha256, file = %bronze.data.file, "bronze written");
    bar.inc(1);

    bar.set_message("silver");
    let silver = silver(
        &paths::bronze(datasets),
        &paths::silver(datasets),
        inputs.schema,
        inputs.delimiter,
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
        inputs.schema,
        inputs.test_fraction,
        inputs.seed,
    )?;
    tracing::info!(
        train = gold.train.rows,
        test = gold.test.rows,
        features = gold.features.len(),
        "gold written"
    );
    bar.finish_and_clear();
    Ok((bronze, silver, gold))
}

impl fmt::Display for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.silver.rows;
        write!(
            f,
            "bronze {} rows -> silver {} rows ({} quarantined, {} duplicates) -> gold {} train + {} test rows, {} features",
            r.bronze_rows,
            r.silver_rows,
            r.quarantined,
            r.duplicates,
            self.gold.train.rows,
            self.gold.test.rows,
            self.gold.features.len()
        )?;
        if r.quarantined > 0 {
            write!(f, "\nquarantined rows and reasons: {}", self.quarantine)?;
        }
        Ok(())
    }
}
