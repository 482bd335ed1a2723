//! The model API: an axum server that validates records against the model's feature schema and
//! answers predictions, with metadata, health, readiness, Prometheus metrics, an OpenAPI document
//! and an offline docs page. The binary (`main.rs`) hands [`server::run`] to the shared
//! `{{crate_name}}_service::main`, which loads the settings ([`config`]) and starts the server.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/predict` | one record -> predicted class and probabilities, or predicted number |
//! | `POST /v1/predict/batch` | `{"records": [...]}` -> predictions in order (at most API_MAX_BATCH) |
//! | `GET /v1/model` | name, version, checksum, task, metrics and input fields of the served model |
//! | `POST /v1/admin/reload` | reload the model directory (Bearer API_ADMIN_TOKEN) |
//! | `GET /health`, `GET /ready` | liveness; readiness (503 while shutting down) |
//! | `GET /metrics` | Prometheus text |
//! | `GET /openapi.json`, `GET /docs/` | the OpenAPI document and Swagger UI |

pub mod config;
pub mod error;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod routes;
pub mod server;
