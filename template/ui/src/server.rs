//! Running the UI server until SIGTERM or Ctrl-C.

use crate::client::ApiClient;
use crate::config::Config;
use crate::routes;
use anyhow::Context;
use tokio::net::TcpListener;

use {{crate_name}}_service::metrics as service_metrics;
use {{crate_name}}_service::metrics::HttpMetrics;
use {{crate_name}}_service::shutdown;

/// Binds the configured address and serves the page until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr())
        .await
        .with_context(|| format!("cannot listen on {} (UI_HOST, UI_PORT)", config.addr()))?;
    let client = ApiClient::new(&config.api_url, config.api_timeout());
    // The API may start later (or restart); the page reports it, so this is only a hint.
    if let Err(err) = client.model(None).await {
        tracing::warn!(error = %err, "the model API is not available yet");
    }
    tokio::spawn(service_metrics::upkeep(HttpMetrics::install()));
    tracing::info!(api = %config.api_url, "listening on http://{}", listener.local_addr()?);
    axum::serve(listener, routes::router(client))
        .with_graceful_shutdown(async {
            shutdown::signal().await;
            tracing::info!("shutting down: finishing in-flight requests");
        })
        .await
        .context("server error")?;
    tracing::info!("stopped");
    Ok(())
}
