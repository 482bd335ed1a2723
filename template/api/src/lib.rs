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
//!
//! | module | job |
//! |---|---|
//! | [`server`] | binding, signals (stop, reload) and the graceful shutdown |
//! | [`app`] | every resource's router merged, with the middleware stack |
//! | [`routes`] | one module per resource (`predict`, `model`, `operations`, `admin`): router, handlers, response types |
//! | [`openapi`] | the OpenAPI document, built from the routes and the served model, and the docs page |
//! | [`state`] | what every request shares, and the reload |
//! | [`model`] | the served model behind an atomic swap |
//! | [`extract`] | the JSON request-body extractor |
//! | [`error`] | every refusal as one JSON error shape |
//! | [`metrics`] | the Prometheus recorder |
//! | [`config`] | the settings |
//!
//! The JSON the UI reads too (`GET /v1/model`, a prediction, an error) is defined once, in
//! `{{crate_name}}_service::wire`.

pub mod app;
pub mod config;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod routes;
pub mod server;
pub mod state;
