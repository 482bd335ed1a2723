//! Running the UI server until SIGTERM or Ctrl-C.

use crate::client::ApiClient;
use crate::config::Config;
use crate::routes;
use anyhow::Context;
use tokio::net::TcpListener;

/// Binds the configured address and serves the page until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.addr())
        .await
        .with_context(|| format!("cannot listen on {} (UI_HOST, UI_PORT)", config.addr()))?;
    let client = ApiClient::new(&config.api_url, config.api_timeout());
    // The API may start later (or restart); the page reports it, so this is only a hint.
    if let Err(err) = client.model().await {
        tracing::warn!(error = %err, "the model API is not available yet");
    }
    tracing::info!(api = %config.api_url, "listening on http://{}", listener.local_addr()?);
    axum::serve(listener, routes::router(client))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM (what container runtimes send) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
