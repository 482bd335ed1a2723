//! The metrics every server exports at `GET /metrics` in Prometheus' text format:
//! `http_requests_total{method, route, status}`, the histogram
//! `http_request_duration_seconds{method, route}`, and the process's own (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_open_fds`, `process_threads`, ...; read at each
//! scrape). A server adds its own metrics to the same process-wide recorder with the `metrics`
//! macros.

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_process::Collector;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Latency buckets in seconds: a request takes microseconds to milliseconds, so the low end is
/// fine-grained; the high end reaches past the default request timeout (10 s), so slow requests
/// are told apart.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

/// Handle to the process-wide recorder; cloning it is cheap.
#[derive(Clone)]
pub struct HttpMetrics {
    handle: PrometheusHandle,
    process: Collector,
}

impl HttpMetrics {
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
            metrics::describe_counter!(
                "http_requests_total",
                "HTTP requests by method, route and status."
            );
            metrics::describe_histogram!(
                "http_request_duration_seconds",
                metrics::Unit::Seconds,
                "HTTP request latency by method and route."
            );
            Collector::default().describe();
            handle
        });
        Self {
            handle: handle.clone(),
            process: Collector::default(),
        }
    }

    /// The Prometheus text exposition of every metric, the process's read now.
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.render()
    }

    /// The `GET /metrics` answer: the exposition with Prometheus' content type.
    pub fn response(&self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            self.render(),
        )
            .into_response()
    }
}

/// Middleware: counts and times every request per route pattern (not the raw path, so a client
/// cannot create unbounded label values).
/// [`HttpMetrics::install`] must have run, or the counts go nowhere.
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::counter!(
        "http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => response.status().as_str().to_owned()
    )
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Drains the histograms' buffers every 5 s, so they do not grow between scrapes. Runs for ever.
pub async fn upkeep(metrics: HttpMetrics) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        metrics.handle.run_upkeep();
    }
}
