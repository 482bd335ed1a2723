//! The application: every resource's router merged, with the middleware stack around them.

use crate::config::{Config, CorsOrigins};
use crate::error::ApiError;
use crate::metrics;
use crate::openapi;
use crate::routes::{admin, model, operations, predict};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use {{crate_name}}_service::metrics as service_metrics;

/// The application: every resource's routes and the API docs, with their middleware.
pub fn app(config: &Config, state: AppState) -> Router {
    let routes = Router::new()
        .merge(predict::router())
        .merge(model::router())
        .merge(operations::router())
        .merge(admin::router())
        .merge(openapi::router())
        .fallback(not_found)
        .with_state(state);

    // Layers wrap what was added before them, so requests pass them from the last to the first.
    routes
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(cors(&config.cors_origins))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(middleware::from_fn(json_errors))
        // Inside the metrics layer, so a panic is counted as the 500 it is answered with.
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            metrics::panicked();
            ApiError::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "internal error (details are in the server log)".to_owned(),
            }
            .into_response()
        }))
        .layer(middleware::from_fn(service_metrics::record))
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

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!("{method} {}", uri.path()))
}
