//! Administration, behind the Bearer token API_ADMIN_TOKEN: `POST /v1/admin/reload`.

use crate::error::ApiError;
use crate::model::Swapped;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use {{crate_name}}_service::wire::ErrorBody;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/admin/reload", post(reload))
}

/// What a successful reload replaced.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reloaded {
    pub previous_version: String,
    pub previous_checksum: String,
    pub version: String,
    pub checksum: String,
}

impl From<Swapped> for Reloaded {
    fn from(Swapped { previous, current }: Swapped) -> Self {
        Self {
            previous_version: previous.version().to_owned(),
            previous_checksum: previous.checksum.clone(),
            version: current.version().to_owned(),
            checksum: current.checksum.clone(),
        }
    }
}

/// Load the model directory again, e.g. after `make promote`.
///
/// In-flight requests finish with the model they started with. If the new model fails
/// verification, the current one stays in service and the reason is returned.
#[utoipa::path(
    post,
    path = "/v1/admin/reload",
    tag = "operations",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The new model is served", body = Reloaded),
        (status = 401, description = "Missing or wrong token", body = ErrorBody),
        (status = 403, description = "API_ADMIN_TOKEN is not set", body = ErrorBody),
        (status = 409, description = "The model on disk failed verification; the previous one is still served", body = ErrorBody),
    )
)]
pub async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Reloaded>, ApiError> {
    let expected = state
        .admin_token
        .as_deref()
        .ok_or(ApiError::AdminDisabled)?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compared in a time independent of where the two differ (the length is not secret).
    if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(ApiError::Unauthorized);
    }
    Ok(Json(state.reload().await?.into()))
}
