//! The API client: fetches the model's input fields and asks for predictions.

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::time::Duration;

use {{crate_name}}_service::wire::ErrorBody;
use {{crate_name}}_service::wire::ModelInfo;
use {{crate_name}}_service::wire::Prediction;

/// The header that carries a request's id from the UI to the API (and back in both answers).
pub const REQUEST_ID: &str = "x-request-id";

/// A call to the API that did not produce the expected answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection, or no answer in time: the API is down or misconfigured.
    #[error("the model API at {url} is not reachable ({reason})")]
    Unreachable { url: String, reason: String },
    /// The API refused the request (4xx) and said why.
    #[error("the model API refused the input: {}", .0.message)]
    Rejected(ErrorBody),
    /// Anything else: a 5xx or a body that is not what the API documents.
    #[error("the model API at {url} answered unexpectedly: {reason}")]
    Unexpected { url: String, reason: String },
}

/// Talks HTTP/1.1 to the API, reusing connections.
#[derive(Clone)]
pub struct ApiClient {
    base_url: String,
    timeout: Duration,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl ApiClient {
    /// A client for the API at `base_url` (`http://host:port`, no trailing slash).
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            timeout,
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// The served model and its input fields. `request_id`: the id of the page request this is
    /// for, sent as `x-request-id` so the API's log lines carry the same id as the UI's.
    pub async fn model(&self, request_id: Option<&HeaderValue>) -> Result<ModelInfo, ClientError> {
        self.call(Method::GET, "/v1/model", None, request_id).await
    }

    /// The prediction for one record (field name -> value); `request_id` as for [`Self::model`].
    pub async fn predict(
        &self,
        record: &Map<String, Value>,
        request_id: Option<&HeaderValue>,
    ) -> Result<Prediction, ClientError> {
        let body = serde_json::to_vec(record).expect("a JSON map always serialises");
        self.call(Method::POST, "/v1/predict", Some(body), request_id)
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        request_id: Option<&HeaderValue>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base_url);
        let unexpected = |reason: String| ClientError::Unexpected {
            url: url.clone(),
            reason,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(id) = request_id {
            request = request.header(REQUEST_ID, id);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|err| unexpected(err.to_string()))?;
        let exchange = async {
            let response = self.http.request(request).await?;
            let status = response.status();
            let bytes = response.into_body().collect().await?.to_bytes();
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((status, bytes))
        };
        let (status, bytes) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => return Err(unreachable(&self.base_url, &*err)),
            Err(_) => {
                return Err(ClientError::Unreachable {
                    url: self.base_url.clone(),
                    reason: format!("no answer within {} s", self.timeout.as_secs()),
                });
            }
        };
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| unexpected(err.to_string()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(rejection) if status.is_client_error() => Err(ClientError::Rejected(rejection)),
            Ok(rejection) => Err(unexpected(format!("{status}: {}", rejection.message))),
            Err(_) => Err(unexpected(status_text(status))),
        }
    }
}

fn status_text(status: StatusCode) -> String {
    format!("HTTP {status}")
}

/// The innermost cause (e.g. "Connection refused") says more than hyper's wrapper.
fn unreachable(url: &str, err: &(dyn std::error::Error + 'static)) -> ClientError {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    ClientError::Unreachable {
        url: url.to_owned(),
        reason: cause.to_string(),
    }
}
