//! Running the server: binding, signals (SIGTERM/Ctrl-C to stop, SIGHUP to reload) and shutdown.

use crate::app::app;
use crate::config::Config;
use crate::model::{ModelSource, ModelStore};
use crate::state::AppState;
use anyhow::Context;
use std::future::Future;
{%- if mlflow %}
use std::time::Duration;
{%- endif %}
use tokio::net::TcpListener;

use {{crate_name}}_service::metrics as service_metrics;
use {{crate_name}}_service::shutdown;

/// Loads the model, binds the configured address and serves until SIGTERM or Ctrl-C.
///
/// A missing or corrupt model, or an address that cannot be bound, is an error before anything
/// is served.
pub async fn run(config: Config) -> anyhow::Result<()> {
    // Loading may download the model: blocking I/O, off the async threads.
    let source = ModelSource::configured(&config)?;
    let models = tokio::task::spawn_blocking(move || ModelStore::open(source)).await??;
    let current = models.current();
    tracing::info!(
        name = current.name(),
        version = current.version(),
        checksum = %current.checksum,
        dir = %current.dir.display(),
        "model loaded and verified"
    );
    let listener = TcpListener::bind(config.addr())
        .await
        .with_context(|| format!("cannot listen on {} (API_HOST, API_PORT)", config.addr()))?;
    let state = AppState::new(&config, models);
    if config.admin_token.as_deref().is_some_and(|t| !t.is_empty()) {
        tracing::info!("POST /v1/admin/reload is enabled");
    }
    tokio::spawn(service_metrics::upkeep(state.metrics.http().clone()));
{%- if mlflow %}
    if config.model_uri.is_some() && config.model_poll_secs > 0 {
        let period = Duration::from_secs(config.model_poll_secs);
        tokio::spawn(follow_source(state.clone(), period));
    }
{%- endif %}
    #[cfg(unix)]
    tokio::spawn(reload_on_sighup(state.clone()));
    tracing::info!(
        "listening on http://{} (docs at /docs/)",
        listener.local_addr()?
    );
    serve(listener, &config, state, shutdown::signal()).await
}

/// Serves `state` on `listener` until `shutdown` completes; then keeps serving for the drain period
/// with /ready answering 503 (rolling updates: the pod leaves the Service's endpoints while it
/// still accepts connections), then stops accepting and finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let drain = config.drain_period();
    axum::serve(listener, app(config, state.clone()))
        .with_graceful_shutdown(async move {
            shutdown.await;
            state.start_draining();
            tracing::info!(
                seconds = drain.as_secs(),
                "draining: /ready answers 503, requests are still served"
            );
            tokio::time::sleep(drain).await;
            tracing::info!("shutting down: finishing in-flight requests");
        })
        .await
        .context("server error")?;
    tracing::info!("stopped");
    Ok(())
}

/// `kill -HUP <pid>` reloads the model, like POST /v1/admin/reload but without a token.
#[cfg(unix)]
async fn reload_on_sighup(state: AppState) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(err) => {
            tracing::warn!(%err, "cannot listen for SIGHUP; reload with POST /v1/admin/reload");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the model");
        // The outcome is logged (and counted) by reload itself.
        let _ = state.reload().await;
    }
}

{%- if mlflow %}

/// Checks the model source every `period` and serves what it moved to (API_MODEL_POLL_SECS).
async fn follow_source(state: AppState, period: Duration) {
    let mut tick = tokio::time::interval(period);
    // The first tick is immediate, and the model was just loaded.
    tick.tick().await;
    loop {
        tick.tick().await;
        state.follow_source().await;
    }
}
{%- endif %}
