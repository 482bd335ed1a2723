//! Prometheus metrics, rendered by GET /metrics.
//!
//! - `http_requests_total{method, route, status}` and `http_request_duration_seconds{method, route}`
//!   (a histogram) for every request;
//! - `predictions_total{class}` for every record a classifier predicts, `predictions_total` (no
//!   label) for every record a regression predicts: a number has no class, and a label per value
//!   would grow without bound;
//! - `model_info{name, version, checksum}`: 1 for the served model, 0 for models it replaced;
//! - `model_reloads_total{outcome}`: `success` or `failure`;
//! - `http_panics_total`: handlers that panicked (each also answered, and counted, as a 500);
//! - `build_info{version}`: 1, with the API's version.

use crate::model::ServedModel;
use axum::http::{Method, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

use {{crate_name}}::artifact::Outcome;

/// Latency buckets in seconds: predictions take microseconds, so the low end is fine-grained; the
/// high end reaches past the default request timeout (10 s), so slow requests are told apart.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

/// Handle to the process-wide recorder.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the recorder on first use; `metrics` has one global recorder per process, so
    /// every server (or test) in the process shares it.
    pub fn install() -> Self {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    &LATENCY_BUCKETS,
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; metrics then go there instead.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics will be empty");
            }
            describe();
            metrics::gauge!("build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        });
        Self {
            handle: handle.clone(),
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram buffers; call it periodically so they do not grow between scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Records one finished request.
    pub fn request(&self, method: &Method, route: &str, status: StatusCode, elapsed: Duration) {
        let method = method.as_str().to_owned();
        let route = route.to_owned();
        metrics::counter!(
            "http_requests_total",
            "method" => method.clone(),
            "route" => route.clone(),
            "status" => status.as_str().to_owned()
        )
        .increment(1);
        metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
            .record(elapsed.as_secs_f64());
    }

    /// Records one predicted record.
    pub fn predicted(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Class { class, .. } => {
                metrics::counter!("predictions_total", "class" => class.clone()).increment(1);
            }
            Outcome::Value { .. } => metrics::counter!("predictions_total").increment(1),
        }
    }

    /// Marks `current` as the served model, and `replaced` (after a reload) as no longer served.
    pub fn model_loaded(&self, current: &ServedModel, replaced: Option<&ServedModel>) {
        if let Some(old) = replaced {
            model_info(old).set(0.0);
            metrics::counter!("model_reloads_total", "outcome" => "success").increment(1);
        }
        model_info(current).set(1.0);
    }

    /// Records a reload that kept the old model.
    pub fn reload_failed(&self) {
        metrics::counter!("model_reloads_total", "outcome" => "failure").increment(1);
    }
}

/// Records a handler that panicked (the panic layer has no access to the state).
pub fn panicked() {
    metrics::counter!("http_panics_total").increment(1);
}

fn model_info(model: &ServedModel) -> metrics::Gauge {
    metrics::gauge!(
        "model_info",
        "name" => model.name().to_owned(),
        "version" => model.version().to_owned(),
        "checksum" => model.checksum.clone()
    )
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route and status."
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method and route."
    );
    metrics::describe_counter!(
        "predictions_total",
        "Predicted records, by predicted class for a classifier."
    );
    metrics::describe_gauge!(
        "model_info",
        "1 for the served model, 0 for models it replaced."
    );
    metrics::describe_counter!("model_reloads_total", "Model reloads by outcome.");
    metrics::describe_counter!("http_panics_total", "Requests whose handler panicked.");
    metrics::describe_gauge!("build_info", "1, labelled with the API's version.");
}
