//! Every error the API returns, as one JSON shape:
//! `{"error": "<code>", "message": "<one sentence>", "field": "<name, when one is at fault>"}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use {{crate_name}}::schema::RecordError;
use {{crate_name}}_service::wire::{BatchItemError, ErrorBody};

/// A request the API refuses, or a failure it reports.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body must be JSON: send the header `Content-Type: application/json`")]
    UnsupportedMediaType,
    #[error("the request body is larger than the limit set by API_MAX_BODY_BYTES")]
    BodyTooLarge,
    #[error("the request body could not be read: {0}")]
    UnreadableBody(String),
    #[error("the request body is not valid JSON: {message}")]
    MalformedJson {
        message: String,
        /// The field whose value could not be parsed, when known.
        field: Option<String>,
    },
    #[error("`{field}` must be {expected}")]
    Shape {
        field: String,
        expected: &'static str,
    },
    #[error("field `{field}` is not an input of this model (inputs: {})", inputs.join(", "))]
    UnknownField { field: String, inputs: Vec<String> },
    #[error("{0}")]
    InvalidRecord(RecordError),
    #[error("{} of {total} records are invalid", errors.len())]
    InvalidBatch {
        total: usize,
        errors: Vec<BatchItemError>,
    },
    #[error(
        "`records` must be a non-empty array of at most {max} records (API_MAX_BATCH); got {got}"
    )]
    BatchSize { got: usize, max: usize },
    #[error("the admin endpoints are disabled: set API_ADMIN_TOKEN to enable them")]
    AdminDisabled,
    #[error("missing or wrong bearer token: send `Authorization: Bearer <API_ADMIN_TOKEN>`")]
    Unauthorized,
    #[error("reload failed, the previous model is still served: {0}")]
    ReloadFailed(String),
    #[error("no route for {0}")]
    NotFound(String),
    /// An error response produced by a layer (timeout, method not allowed, ...) without a body.
    #[error("{message}")]
    Status { status: StatusCode, message: String },
}

impl ApiError {
    /// The HTTP status: 4xx for anything the client can fix.
    fn status(&self) -> StatusCode {
        match self {
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnreadableBody(_) | Self::MalformedJson { .. } | Self::Shape { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::UnknownField { .. }
            | Self::InvalidRecord(_)
            | Self::InvalidBatch { .. }
            | Self::BatchSize { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::AdminDisabled => StatusCode::FORBIDDEN,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            // The server is fine and keeps serving; the model on disk is not.
            Self::ReloadFailed(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Status { status, .. } => *status,
        }
    }

    /// The body's `error`: a stable, machine-readable code.
    fn code(&self) -> String {
        match self {
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::BodyTooLarge => "body_too_large",
            Self::UnreadableBody(_) => "unreadable_body",
            Self::MalformedJson { .. } => "malformed_json",
            Self::Shape { .. } => "wrong_shape",
            Self::UnknownField { .. } => "unknown_field",
            Self::InvalidRecord(err) => record_error_code(err),
            Self::InvalidBatch { .. } => "invalid_records",
            Self::BatchSize { .. } => "batch_size",
            Self::AdminDisabled => "admin_disabled",
            Self::Unauthorized => "unauthorized",
            Self::ReloadFailed(_) => "reload_failed",
            Self::NotFound(_) => "not_found",
            Self::Status { status, .. } => {
                return status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_lowercase()
                    .replace(' ', "_");
            }
        }
        .to_owned()
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Shape { field, .. } | Self::UnknownField { field, .. } => Some(field.clone()),
            Self::InvalidRecord(err) => Some(err.field().to_owned()),
            Self::MalformedJson { field, .. } => field.clone(),
            Self::BatchSize { .. } => Some("records".to_owned()),
            _ => None,
        }
    }

    /// The JSON body of this error.
    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code(),
            message: self.to_string(),
            field: self.field(),
            errors: match self {
                Self::InvalidBatch { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
        }
    }

    /// This error as the entry of record `index` in a batch's `errors`.
    pub fn in_batch(&self, index: usize) -> BatchItemError {
        BatchItemError {
            index,
            error: self.code(),
            field: self.field().unwrap_or_default(),
            message: self.to_string(),
        }
    }
}

/// The API's code for a record error. Spelled out rather than taken from the library's serde
/// tags: the codes are the API's contract, which renaming a library variant must not change.
fn record_error_code(err: &RecordError) -> &'static str {
    match err {
        RecordError::MissingField { .. } => "missing_field",
        RecordError::WrongType { .. } => "wrong_type",
        RecordError::NotANumber { .. } => "not_a_number",
        RecordError::NotFinite { .. } => "not_finite",
        RecordError::OutOfRange { .. } => "out_of_range",
        RecordError::UnknownCategory { .. } => "unknown_category",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(%status, error = %self, "request failed");
        } else {
            tracing::debug!(%status, error = %self, "request refused");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
