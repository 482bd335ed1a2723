//! Ingest: opens the source (the bundled sample, a local file or an http(s) URL) as a stream of
//! its bytes, unchanged, so bronze never holds the whole file in memory.

use super::{DataError, SAMPLE_CSV, io_error};
use crate::utils::config::DataSource;
use std::io::Read;

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
