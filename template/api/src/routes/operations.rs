//! What operators and orchestrators ask: `GET /health`, `GET /ready` and `GET /metrics`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use {{crate_name}}_service::wire::ModelRef;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// The state of the server.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Status {
    /// `ok`, `ready` or `draining`.
    pub status: String,
    /// The served model (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Status)))]
pub async fn health() -> Json<Status> {
    Json(Status {
        status: "ok".to_owned(),
        model: None,
    })
}

/// Readiness: a verified model is loaded and the server is not shutting down.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to predict", body = Status),
        (status = 503, description = "Shutting down", body = Status),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    if state.is_draining() {
        let status = Status {
            status: "draining".to_owned(),
            model: None,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(status));
    }
    let status = Status {
        status: "ready".to_owned(),
        model: Some(ModelRef::from(&*state.models.current())),
    };
    (StatusCode::OK, Json(status))
}

/// Prometheus metrics: requests and latency per route, predictions (per class for a classifier),
/// the model version.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.http().response()
}
