//! Ingest: opens the source (the bundled sample, a local file or an http(s) URL) as a stream of
//! its bytes, unchanged, so bronze never holds the whole file in memory.

use super::{DataError, SAMPLE_CSV, io_error};
use std::io::Read;
use std::path::PathBuf;

/// Where the dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The Palmer penguins CSV compiled into the binaries, so the default works offline.
    Sample,
    /// A local CSV file.
    File(PathBuf),
    /// A CSV downloaded over http(s).
    Url(String),
}

impl DataSource {
    /// Interprets `sample`, `http(s)://...` or anything else as a path.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.eq_ignore_ascii_case("sample") {
            Self::Sample
        } else if value.starts_with("http://") || value.starts_with("https://") {
            Self::Url(value.to_owned())
        } else {
            Self::File(PathBuf::from(value))
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sample => f.write_str("sample:penguins.csv"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

/// The raw bytes of `source`, as a stream.
pub fn open(source: &DataSource) -> Result<Box<dyn Read + Send>, DataError> {
    match source {
        DataSource::Sample => Ok(Box::new(SAMPLE_CSV)),
        DataSource::File(path) => Ok(Box::new(std::fs::File::open(path).map_err(io_error(path))?)),
        DataSource::Url(url) => download(url),
    }
}

#[cfg(feature = "http")]
fn download(url: &str) -> Result<Box<dyn Read + Send>, DataError> {
    let response = ureq::get(url).call().map_err(|err| DataError::Download {
        url: url.to_owned(),
        message: err.to_string(),
    })?;
    // No size limit: the body streams to disk, and the source's size is the user's choice.
    Ok(Box::new(
        response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader(),
    ))
}

#[cfg(not(feature = "http"))]
fn download(url: &str) -> Result<Box<dyn Read + Send>, DataError> {
    Err(DataError::Download {
        url: url.to_owned(),
        message: "this build has no http support: rebuild with `--features http`, or download the file and set DATA_SOURCE to its path".to_owned(),
    })
}
