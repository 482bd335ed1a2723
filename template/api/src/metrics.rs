//! The API's Prometheus metrics, rendered by GET /metrics with the request metrics every server has
//! (`{{crate_name}}_service::metrics`: `http_requests_total`, `http_request_duration_seconds`):
//! - `predictions_total{class}` for every record a classifier predicts, `predictions_total` (no
//!   label) for every record a regression predicts: a number has no class, and a label per value
//!   would grow without bound;
//! - `model_info{name, version, checksum}`: 1 for the served model, 0 for models it replaced;
//! - `model_reloads_total{outcome}`: `success` or `failure`;
//! - `http_panics_total`: handlers that panicked (each also answered, and counted, as a 500);
//! - `build_info{version}`: 1, with the API's version.

use crate::model::ServedModel;

use {{crate_name}}::artifact::Outcome;
use {{crate_name}}_service::metrics::HttpMetrics;

/// The request metrics every server has, and the API's own.
#[derive(Clone)]
pub struct Metrics {
    http: HttpMetrics,
}

impl Metrics {
    /// Installs the process-wide recorder on first use (see [`HttpMetrics::install`]).
    pub fn install() -> Self {
        let http = HttpMetrics::install();
        describe();
        metrics::gauge!("build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        Self { http }
    }

    /// The recorder, for GET /metrics and its upkeep.
    pub fn http(&self) -> &HttpMetrics {
        &self.http
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
