//! The UI's routes: the page, the form submission, the health check and the metrics.

use crate::client::{ApiClient, ClientError, REQUEST_ID};
use crate::page::Page;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};
use std::collections::HashMap;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use {{crate_name}}_service::metrics as service_metrics;
use {{crate_name}}_service::metrics::HttpMetrics;

/// The router, calling the API through `client`.
pub fn router(client: ApiClient) -> Router {
    let metrics = HttpMetrics::install();
    Router::new()
        .route("/", get(index))
        .route("/predict", get(index).post(predict))
        .route("/health", get(health))
        .with_state(client)
        .route("/metrics", get(move || async move { metrics.response() }))
        .layer(axum::middleware::from_fn(service_metrics::record))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::map_response(security_headers))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %request.method(), uri = %request.uri())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outermost: the page's log lines and its calls to the API carry one id (a client's own
        // id is kept).
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The empty form, pre-filled with typical values.
async fn index(State(client): State<ApiClient>, headers: HeaderMap) -> Response {
    match client.model(headers.get(REQUEST_ID)).await {
        Ok(model) => Html(
            Page {
                model: Some(&model),
                ..Page::default()
            }
            .render(),
        )
        .into_response(),
        Err(err) => api_down(&err),
    }
}

/// Sends the submitted form to the API and shows the prediction, or why there is none.
async fn predict(
    State(client): State<ApiClient>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let request_id = headers.get(REQUEST_ID);
    let model = match client.model(request_id).await {
        Ok(model) => model,
        Err(err) => return api_down(&err),
    };
    let values: HashMap<String, String> = form.into_iter().collect();
    // Only the model's fields are forwarded, as typed; the API validates them, so the page applies
    // exactly the rules the model is served with. Blank means "unknown". A numeric field is sent as
    // a JSON number when the text is one, as the API requires; other text goes as typed, for the
    // API to name what is wrong with it.
    let record: Map<String, Value> = model
        .fields
        .iter()
        .map(|field| {
            let text = values.get(&field.name).map_or("", |v| v.trim());
            let number = (field.kind == "numeric")
                .then(|| text.parse::<f64>().ok())
                .flatten()
                .and_then(serde_json::Number::from_f64);
            let value = number.map_or_else(|| Value::String(text.to_owned()), Value::Number);
            (field.name.clone(), value)
        })
        .collect();
    let mut page = Page {
        model: Some(&model),
        values,
        ..Page::default()
    };
    let prediction;
    let status = match client.predict(&record, request_id).await {
        Ok(answer) => {
            prediction = answer;
            page.prediction = Some(&prediction);
            StatusCode::OK
        }
        Err(ClientError::Rejected(rejection)) => {
            page.notice = Some(format!(
                "The model API refused the input: {}",
                rejection.message
            ));
            if let Some(field) = rejection.field {
                page.field_errors.insert(field, rejection.message);
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(err) => {
            tracing::warn!(error = %err, "prediction failed");
            page.notice = Some(format!("No prediction: {err}. Try again in a moment."));
            StatusCode::BAD_GATEWAY
        }
    };
    (status, Html(page.render())).into_response()
}

/// The page with only an explanation: without the API there is no form to build.
fn api_down(err: &ClientError) -> Response {
    tracing::warn!(error = %err, "cannot reach the model API");
    let page = Page {
        notice: Some(format!(
            "The prediction form is unavailable: {err}. Check that the API is running and that UI_API_URL points to it."
        )),
        ..Page::default()
    };
    (StatusCode::BAD_GATEWAY, Html(page.render())).into_response()
}

/// Liveness of the UI itself (it does not depend on the API being up).
async fn health() -> Json<Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The page loads nothing from elsewhere, so the browser may refuse anything else.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
