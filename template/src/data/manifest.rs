//! Layer manifests: what each layer holds and where it came from (lineage).
//!
//! Manifests carry timestamps, so they are never hashed themselves; the data files they describe are
//! byte-for-byte reproducible, which is what the recorded hashes prove. Parquet files also list their
//! columns and Arrow types, so any tool (pyarrow, DuckDB, polars, Spark) can check what it reads.

use super::{DataError, io_error};
use crate::utils::fs::Written;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of every layer's manifest.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One data file of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the layer folder.
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    /// Data rows, excluding the header.
    pub rows: u64,
    /// The columns of a Parquet file, in order (empty for other files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnType>,
}

/// A column of a Parquet layer file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnType {
    pub name: String,
    /// The Arrow type: `float64` or `string` (aliases pyarrow's `type_for_alias` accepts).
    #[serde(rename = "type")]
    pub data_type: String,
}

/// The schema a layer was built with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaSummary {
    pub name: String,
    pub sha256: String,
    pub target: String,
    pub columns: Vec<String>,
}

impl SchemaSummary {
    /// Summarises a schema.
    pub fn of(schema: &crate::schema::Schema) -> Self {
        Self {
            name: schema.name.clone(),
            sha256: schema.fingerprint(),
            target: schema.target.clone(),
            columns: schema.columns.iter().map(|c| c.name.clone()).collect(),
        }
    }
}

/// Bronze: the raw bytes exactly as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BronzeManifest {
    pub layer: String,
    /// `sample:penguins.csv`, a path or a URL.
    pub source: String,
    pub data: FileEntry,
    pub ingested_at: String,
}

/// Row accounting of silver: `bronze_rows = silver_rows + quarantined + duplicates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowAccounting {
    pub bronze_rows: u64,
    pub silver_rows: u64,
    pub quarantined: u64,
    pub duplicates: u64,
}

/// Silver: typed, validated, deduplicated rows plus the quarantine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilverManifest {
    pub layer: String,
    pub created_at: String,
    /// SHA-256 of the bronze file this layer was built from.
    pub parent_sha256: String,
    pub schema: SchemaSummary,
    pub data: FileEntry,
    pub quarantine: FileEntry,
    pub rows: RowAccounting,
}

/// Gold: model-ready features, the fitted preprocessing, and the train/test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldManifest {
    pub layer: String,
    pub created_at: String,
    /// SHA-256 of the silver data file this layer was built from.
    pub parent_sha256: String,
    pub schema: SchemaSummary,
    pub split_seed: u64,
    pub test_fraction: f64,
    /// Model input columns, in order.
    pub features: Vec<String>,
    pub train: FileEntry,
    pub test: FileEntry,
    /// The test rows in raw (silver) form, a ready input for `predict_model`.
    pub test_raw: FileEntry,
    pub preprocessor: FileEntry,
    /// Rows per class in each split, `class_counts["train"]["Adelie"]`; empty for a numeric target.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub class_counts: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Reads a manifest, telling the user to run the pipeline when it is absent.
pub fn read<T: DeserializeOwned>(layer: &'static str, dir: &Path) -> Result<T, DataError> {
    let path = dir.join(MANIFEST_FILE);
    if !path.exists() {
        return Err(DataError::MissingLayer { layer, path });
    }
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    serde_json::from_str(&text).map_err(|err| DataError::CorruptLayer {
        layer,
        path,
        message: err.to_string(),
    })
}

/// Reads a small layer file and checks it against the hash its manifest recorded.
pub fn read_verified(
    layer: &'static str,
    dir: &Path,
    entry: &FileEntry,
) -> Result<Vec<u8>, DataError> {
    let path = existing(layer, dir, entry)?;
    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
    check_hash(
        layer,
        path,
        entry,
        crate::utils::hashing::sha256_hex(&bytes),
    )?;
    Ok(bytes)
}

/// Checks a layer file against its manifest's hash by streaming it; returns its path.
pub fn verify_file(
    layer: &'static str,
    dir: &Path,
    entry: &FileEntry,
) -> Result<PathBuf, DataError> {
    let path = existing(layer, dir, entry)?;
    let actual = crate::utils::hashing::sha256_file(&path).map_err(io_error(&path))?;
    check_hash(layer, path.clone(), entry, actual)?;
    Ok(path)
}

fn existing(layer: &'static str, dir: &Path, entry: &FileEntry) -> Result<PathBuf, DataError> {
    let path = dir.join(&entry.file);
    if path.exists() {
        Ok(path)
    } else {
        Err(DataError::MissingLayer { layer, path })
    }
}

/// Fails with [`DataError::CorruptLayer`] unless `actual` is the hash the manifest recorded.
pub fn check_hash(
    layer: &'static str,
    path: PathBuf,
    entry: &FileEntry,
    actual: String,
) -> Result<(), DataError> {
    if actual == entry.sha256 {
        return Ok(());
    }
    Err(DataError::CorruptLayer {
        layer,
        path,
        message: format!("sha256 is {actual}, the manifest records {}", entry.sha256),
    })
}

/// Describes a small file about to be written as a layer file.
pub fn entry(file: &str, bytes: &[u8], rows: u64) -> FileEntry {
    FileEntry {
        file: file.to_owned(),
        sha256: crate::utils::hashing::sha256_hex(bytes),
        bytes: bytes.len() as u64,
        rows,
        columns: Vec::new(),
    }
}

/// Describes a file streamed to disk.
pub fn written_entry(
    file: &str,
    written: Written,
    rows: u64,
    columns: Vec<ColumnType>,
) -> FileEntry {
    FileEntry {
        file: file.to_owned(),
        sha256: written.sha256,
        bytes: written.bytes,
        rows,
        columns,
    }
}
