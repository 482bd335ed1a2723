//! Ingest: fetches the source bytes (the bundled sample, a local file or an http(s) URL).

use super::{DataError, SAMPLE_CSV, io_error};
use crate::utils::config::DataSource;

/// The raw bytes of `source`, unchanged.
pub fn fetch(source: &DataSource) -> Result<Vec<u8>, DataError> {
    match source {
        DataSource::Sample => Ok(SAMPLE_CSV.to_vec()),
        DataSource::File(path) => std::fs::read(path).map_err(io_error(path)),
        DataSource::Url(url) => download(url),
    }
}

#[cfg(feature = "http")]
fn download(url: &str) -> Result<Vec<u8>, DataError> {
    let fail = |message: String| DataError::Download {
        url: url.to_owned(),
        message,
    };
    let mut response = ureq::get(url).call().map_err(|err| fail(err.to_string()))?;
    response
        .body_mut()
        .with_config()
        // A guard against a wrong URL streaming something huge; raise it for bigger datasets.
        .limit(2 * 1024 * 1024 * 1024)
        .read_to_vec()
        .map_err(|err| fail(err.to_string()))
}

#[cfg(not(feature = "http"))]
fn download(url: &str) -> Result<Vec<u8>, DataError> {
    Err(DataError::Download {
        url: url.to_owned(),
        message: "this build has no http support: rebuild with `--features http`, or download the file and set DATA_SOURCE to its path".to_owned(),
    })
}
