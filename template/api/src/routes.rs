//! The HTTP routes, their handlers and the middleware stack around them.

use crate::config::{Config, CorsOrigins};
use crate::error::{ApiError, BatchItemError, ErrorBody};
use crate::model::{ModelStore, Reloaded, ServedModel};
use crate::{metrics, openapi};
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::ToSchema;
use utoipa_swagger_ui::SwaggerUi;

use {{crate_name}}::artifact::Outcome;
use {{crate_name}}::data::schema::ColumnKind;
use {{crate_name}}::data::target::Task;
use {{crate_name}}::evaluation::Metrics;
use {{crate_name}}::features::RawRecord;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub models: Arc<ModelStore>,
    metrics: metrics::Metrics,
    max_batch: usize,
    admin_token: Option<Arc<str>>,
    /// Set when shutdown starts, so /ready turns 503 and load balancers stop sending traffic.
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// State for `models` with the limits and token of `config`.
    pub fn new(config: &Config, models: ModelStore) -> Self {
        let state = Self {
            models: Arc::new(models),
            metrics: metrics::Metrics::install(),
            max_batch: config.max_batch,
            admin_token: config
                .admin_token
                .as_deref()
                .filter(|token| !token.is_empty())
                .map(Arc::from),
            draining: Arc::new(AtomicBool::new(false)),
        };
        state.metrics.model_loaded(&state.models.current(), None);
        state
    }

    /// Marks the server as shutting down: /ready answers 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The Prometheus recorder, for its periodic upkeep.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// Reloads the model directory (file I/O on a blocking thread) and records the outcome.
    pub async fn reload(&self) -> Result<Reloaded, ApiError> {
        let models = Arc::clone(&self.models);
        let previous = models.current();
        let outcome = tokio::task::spawn_blocking(move || models.reload())
            .await
            .map_err(|err| ApiError::ReloadFailed(err.to_string()))?;
        match outcome {
            Ok(reloaded) => {
                self.metrics
                    .model_loaded(&self.models.current(), Some(&previous));
                tracing::info!(
                    from = %reloaded.previous_version,
                    to = %reloaded.version,
                    checksum = %reloaded.checksum,
                    "model reloaded"
                );
                Ok(reloaded)
            }
            Err(err) => {
                self.metrics.reload_failed();
                tracing::warn!(error = %err, "model reload failed; keeping the current model");
                Err(ApiError::ReloadFailed(err.to_string()))
            }
        }
    }
}

/// The application: every route with its middleware.
pub fn router(config: &Config, state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(|| async { Redirect::temporary("/docs/") }))
        .route("/v1/predict", post(predict))
        .route("/v1/predict/batch", post(predict_batch))
        .route("/v1/model", get(model_info))
        .route("/v1/admin/reload", post(reload))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        // The docs page fetches /openapi.json, which always describes the current model.
        .merge(SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .fallback(not_found)
        .with_state(state.clone());

    // Layers wrap what was added before them, so requests pass them from the last to the first.
    routes
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(cors(&config.cors_origins))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn_with_state(state, record_metrics))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            ApiError::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "internal error (details are in the server log)".to_owned(),
            }
            .into_response()
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %request.method(), uri = %request.uri())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outermost: every log line and response carries the id (a client's own id is kept).
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

fn cors(origins: &CorsOrigins) -> CorsLayer {
    let allow = match origins {
        CorsOrigins::None => return CorsLayer::new(),
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(3600))
}

/// Gives error responses made by layers or axum itself (405, 408, 413, ...) the JSON error shape.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this path".to_owned(),
        StatusCode::REQUEST_TIMEOUT => {
            "the request took too long (API_REQUEST_TIMEOUT_SECS)".to_owned()
        }
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut json = ApiError::Status { status, message }.into_response();
    // Keep headers such as `Allow` (405); the body and its type are replaced.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

/// Counts requests and times them per route (the route pattern, not the raw path, so an
/// attacker cannot create unbounded label values).
async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .request(&method, &route, response.status(), started.elapsed());
    response
}

/// Reads a JSON request body: the content type must be JSON and the body must parse.
fn json_body(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::BodyTooLarge,
        _ => ApiError::UnreadableBody(rejection.body_text()),
    })?;
    serde_json::from_slice(&bytes).map_err(|err| {
        let field = field_before(&bytes, err.line(), err.column());
        let near = field
            .as_deref()
            .map(|field| format!(" (in field `{field}`)"))
            .unwrap_or_default();
        ApiError::MalformedJson {
            message: format!("{err}{near}"),
            field,
        }
    })
}

/// The object key written last before a position (1-based line and column) in a JSON text: names
/// the field when a value cannot be parsed, such as `NaN` or `1e999`.
fn field_before(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = (line_start + column).min(text.len());
    let before = text.get(..end)?;
    let colon = before.rfind(':')?;
    let key = before[..colon].trim_end().strip_suffix('"')?;
    let start = key.rfind('"')?;
    Some(key[start + 1..].to_owned())
}

/// Checks one record's shape: a JSON object whose keys are columns of the model's schema.
fn record_object(served: &ServedModel, value: Value, name: &str) -> Result<RawRecord, ApiError> {
    let Value::Object(record) = value else {
        return Err(ApiError::Shape {
            field: name.to_owned(),
            expected: "a JSON object of field values",
        });
    };
    let schema = served.model.schema();
    if let Some(unknown) = record.keys().find(|key| schema.column(key).is_none()) {
        return Err(ApiError::UnknownField {
            field: unknown.clone(),
            inputs: served
                .model
                .feature_schema()
                .fields
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        });
    }
    Ok(record)
}

/// The model that answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
    /// Identifies the exact artifact (SHA-256 of its `SHA256SUMS`).
    pub checksum: String,
}

impl ModelRef {
    fn of(served: &ServedModel) -> Self {
        Self {
            name: served.name().to_owned(),
            version: served.version().to_owned(),
            checksum: served.checksum.clone(),
        }
    }
}

/// The prediction for one record.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The column that is predicted.
    pub target: String,
    #[serde(flatten)]
    pub predicted: Predicted,
    /// The record's identifier (text) fields as sent, when the schema has such columns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<String, String>,
    pub model: ModelRef,
}

/// Predictions in the order of the request's records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    pub target: String,
    #[schema(schema_with = openapi::batch_predictions)]
    pub predictions: Vec<BatchPrediction>,
    pub model: ModelRef,
}

/// One prediction of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchPrediction {
    #[serde(flatten)]
    pub predicted: Predicted,
    /// The record's identifier (text) fields as sent, when the schema has such columns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<String, String>,
}

/// What is predicted for one record, by the served model's task: `prediction` is a class (with
/// every class's probability) or a number (with its unit, when the schema gives one). The OpenAPI
/// document describes only the served model's form ([`openapi::document`]).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Predicted {
    Class {
        prediction: String,
        probabilities: BTreeMap<String, f64>,
    },
    Value {
        prediction: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
}

impl Predicted {
    /// The answer for `outcome`, which `served` predicted.
    fn of(served: &ServedModel, outcome: Outcome) -> Self {
        match outcome {
            Outcome::Class {
                class,
                probabilities,
            } => Self::Class {
                prediction: class,
                probabilities,
            },
            Outcome::Value { value } => Self::Value {
                prediction: value,
                unit: served.unit().map(str::to_owned),
            },
        }
    }
}

/// Predict one record.
///
/// The body is one record with the raw dataset's field names (see the `Record` schema).
#[utoipa::path(
    post,
    path = "/v1/predict",
    tag = "predict",
    request_body(content = ref("#/components/schemas/Record"), content_type = "application/json"),
    responses(
        (status = 200, description = "The predicted class and every class's probability, or the predicted number", body = ref("#/components/schemas/Prediction")),
        (status = 400, description = "Malformed JSON, or the body is not an object", body = ErrorBody),
        (status = 413, description = "Body larger than API_MAX_BODY_BYTES", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown, of the wrong type, out of range or an unknown category; `field` names it", body = ErrorBody),
    )
)]
pub async fn predict(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Prediction>, ApiError> {
    let served = state.models.current();
    let record = record_object(&served, json_body(&headers, body)?, "body")?;
    let prediction = served
        .model
        .predict(&record)
        .map_err(ApiError::InvalidRecord)?;
    state.metrics.predicted(&prediction.outcome);
    Ok(Json(Prediction {
        target: served.model.feature_schema().target.clone(),
        predicted: Predicted::of(&served, prediction.outcome),
        identifiers: prediction.identifiers,
        model: ModelRef::of(&served),
    }))
}

/// Predict many records in one request.
///
/// All or nothing: if any record is invalid, none is predicted and `errors` lists each invalid
/// record with its index and field.
#[utoipa::path(
    post,
    path = "/v1/predict/batch",
    tag = "predict",
    request_body(content = ref("#/components/schemas/BatchRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "One prediction per record, in order", body = BatchResponse),
        (status = 400, description = "Malformed JSON, or not `{\"records\": [...]}`", body = ErrorBody),
        (status = 413, description = "Body larger than API_MAX_BODY_BYTES", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid records, or more than API_MAX_BATCH of them", body = ErrorBody),
    )
)]
pub async fn predict_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchResponse>, ApiError> {
    let served = state.models.current();
    let Value::Object(mut body) = json_body(&headers, body)? else {
        return Err(ApiError::Shape {
            field: "body".to_owned(),
            expected: "an object with a `records` array",
        });
    };
    let records = match body.remove("records") {
        Some(Value::Array(records)) => records,
        _ => {
            return Err(ApiError::Shape {
                field: "records".to_owned(),
                expected: "an array of record objects",
            });
        }
    };
    if records.is_empty() || records.len() > state.max_batch {
        return Err(ApiError::BatchSize {
            got: records.len(),
            max: state.max_batch,
        });
    }

    // Validate everything first, then predict all rows with one matrix operation.
    let preprocessor = &served.model.preprocessor;
    let mut rows = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (index, value) in records.into_iter().enumerate() {
        let parsed =
            record_object(&served, value, &format!("records[{index}]")).and_then(|record| {
                preprocessor
                    .parse_record(&record)
                    .map_err(ApiError::InvalidRecord)
            });
        match parsed {
            Ok(row) => rows.push(row),
            Err(err) => {
                let body = err.body();
                errors.push(BatchItemError {
                    index,
                    error: body.error,
                    field: body.field.unwrap_or_default(),
                    message: body.message,
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidBatch {
            total: rows.len() + errors.len(),
            errors,
        });
    }
    let outputs = served.model.outputs(&rows.concat());
    let predictions = rows
        .iter()
        .zip(outputs.rows())
        .map(|(row, outputs)| {
            let prediction = served.model.prediction(row, &outputs.to_vec());
            state.metrics.predicted(&prediction.outcome);
            BatchPrediction {
                predicted: Predicted::of(&served, prediction.outcome),
                identifiers: prediction.identifiers,
            }
        })
        .collect();
    Ok(Json(BatchResponse {
        target: served.model.feature_schema().target.clone(),
        predictions,
        model: ModelRef::of(&served),
    }))
}

/// One input field of the model, for clients that build forms.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldInfo {
    pub name: String,
    /// `numeric` or `categorical`.
    #[schema(example = "numeric")]
    pub kind: String,
    /// Allowed values of a categorical field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Smallest allowed value of a numeric field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value of a numeric field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub description: String,
    /// A typical value: the training median or most frequent category (null if none).
    #[schema(value_type = Value)]
    pub default: Value,
}

/// Held-out quality of the model, measured at training time, by its task.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum HeldOutMetrics {
    Classification {
        accuracy: f64,
        macro_f1: f64,
        test_rows: u64,
    },
    Regression {
        r2: f64,
        rmse: f64,
        mae: f64,
        test_rows: u64,
    },
}

impl From<&Metrics> for HeldOutMetrics {
    fn from(metrics: &Metrics) -> Self {
        match metrics {
            Metrics::Classification(m) => Self::Classification {
                accuracy: m.accuracy,
                macro_f1: m.macro_f1,
                test_rows: m.rows,
            },
            Metrics::Regression(m) => Self::Regression {
                r2: m.r2,
                rmse: m.rmse,
                mae: m.mae,
                test_rows: m.rows,
            },
        }
    }
}

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// One of `classes`, with every class's probability.
    Classification,
    /// A number, in `unit` when the schema gives one.
    Regression,
}

/// The served model: identity, lineage, task, quality and input schema.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub algorithm: String,
    /// SHA-256 of the artifact's `SHA256SUMS`.
    pub checksum: String,
    /// When the model was trained (from its metadata).
    pub created_at: String,
    /// When this server loaded it, in seconds since the Unix epoch.
    pub loaded_at: u64,
    /// The predicted column.
    pub target: String,
    pub task: TaskKind,
    /// The classes a classifier predicts, in the schema's order; empty for a regression.
    pub classes: Vec<String>,
    /// The unit of a regression's predicted number, when the schema gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The fields a record must have, in order.
    pub fields: Vec<FieldInfo>,
    /// Optional identifier (text) fields a record may carry; they are echoed with the prediction.
    pub identifiers: Vec<String>,
    /// Texts accepted as "value unknown" besides `null`.
    pub missing_values: Vec<String>,
    #[schema(schema_with = openapi::held_out_metrics)]
    pub metrics: HeldOutMetrics,
    pub training_data_sha256: String,
    pub git_commit: Option<String>,
}

/// Describe the served model and its input fields.
#[utoipa::path(get, path = "/v1/model", tag = "model", responses((status = 200, body = ModelInfo)))]
pub async fn model_info(State(state): State<AppState>) -> Json<ModelInfo> {
    let served = state.models.current();
    let meta = &served.model.metadata;
    let features = served.model.feature_schema();
    let fields = features
        .fields
        .iter()
        .map(|column| {
            let (kind, categories, min, max) = match &column.kind {
                ColumnKind::Numeric { min, max } => ("numeric", None, *min, *max),
                ColumnKind::Categorical { categories } => {
                    ("categorical", Some(categories.clone()), None, None)
                }
                ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
            };
            FieldInfo {
                name: column.name.clone(),
                kind: kind.to_owned(),
                categories,
                min,
                max,
                unit: column.unit.clone(),
                description: column.description.clone(),
                default: served
                    .example
                    .get(&column.name)
                    .cloned()
                    .unwrap_or(Value::Null),
            }
        })
        .collect();
    Json(ModelInfo {
        name: meta.name.clone(),
        version: meta.version.clone(),
        algorithm: meta.algorithm.clone(),
        checksum: served.checksum.clone(),
        created_at: meta.created_at.clone(),
        loaded_at: served.loaded_at,
        target: features.target.clone(),
        task: match meta.task() {
            Task::Classification { .. } => TaskKind::Classification,
            Task::Regression { .. } => TaskKind::Regression,
        },
        classes: meta.task().classes().to_vec(),
        unit: served.unit().map(str::to_owned),
        fields,
        identifiers: served
            .model
            .schema()
            .text_columns()
            .map(|(_, column)| column.name.clone())
            .collect(),
        missing_values: features.missing_values.clone(),
        metrics: HeldOutMetrics::from(&meta.metrics),
        training_data_sha256: meta.training_data_sha256.clone(),
        git_commit: meta.git_commit.clone(),
    })
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
    if state.draining.load(Ordering::SeqCst) {
        let status = Status {
            status: "draining".to_owned(),
            model: None,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(status));
    }
    let status = Status {
        status: "ready".to_owned(),
        model: Some(ModelRef::of(&state.models.current())),
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
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
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
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    Ok(Json(state.reload().await?))
}

/// Compares secrets in time independent of where they differ (the length is not secret).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document(&state.models.current(), state.max_batch))
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("{method} {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_before_finds_the_key_of_an_unparsable_value() {
        let body = br#"{"island": "Dream", "bill_length_mm": NaN}"#;
        let err = serde_json::from_slice::<Value>(body).unwrap_err();
        assert_eq!(
            field_before(body, err.line(), err.column()).as_deref(),
            Some("bill_length_mm")
        );
        let body = b"{\n  \"a\": 1,\n  \"body_mass_g\": 1e999\n}";
        let err = serde_json::from_slice::<Value>(body).unwrap_err();
        assert_eq!(
            field_before(body, err.line(), err.column()).as_deref(),
            Some("body_mass_g")
        );
        assert_eq!(field_before(b"[1, 2", 1, 5), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(constant_time_eq(b"token", b"token"));
        assert!(!constant_time_eq(b"token", b"tokem"));
        assert!(!constant_time_eq(b"token", b"token2"));
    }
}
