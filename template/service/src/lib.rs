//! What the model API and the web UI have in common as HTTP services, so both binaries start, read
//! their settings, log, answer health checks, count their requests and stop the same way, and speak
//! the same JSON. It holds no model: the UI depends on it without building the core library.
//! Settings are loaded and parsed by the settings crate, as in the batch binaries.
//!
//! | module | job |
//! |---|---|
//! | [`startup`] | a server binary's whole `main`: settings, `--healthcheck`, logging, runtime, exit status |
//! | [`healthcheck`] | `--healthcheck`: GET /health with the standard library, for images without curl |
//! | [`metrics`] | request counts and latencies per route, and `GET /metrics` |
//! | [`shutdown`] | the signals that stop a server gracefully |
//! | [`wire`] | the JSON the API answers and the UI reads (OpenAPI schemas with feature `openapi`) |
//! | `testing` | (feature `testing`) the end-to-end tests' HTTP client and process control |

pub mod healthcheck;
pub mod metrics;
pub mod shutdown;
pub mod startup;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wire;

pub use startup::{Settings, main};
