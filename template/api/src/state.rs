//! What every request shares: the served model, the metrics recorder, the limits and token of the
//! settings, and whether the server is shutting down; and the reload, which changes the model.

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::model::{ModelStore, Swapped};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared by every request; cloning it is cheap.
#[derive(Clone)]
pub struct AppState {
    pub(crate) models: Arc<ModelStore>,
    pub(crate) metrics: Metrics,
    pub(crate) max_batch: usize,
    /// `None` disables the admin endpoints.
    pub(crate) admin_token: Option<Arc<str>>,
    /// Set when shutdown starts, so /ready turns 503 and load balancers stop sending traffic.
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// State for `models` with the limits and token of `config`.
    pub fn new(config: &Config, models: ModelStore) -> Self {
        let state = Self {
            models: Arc::new(models),
            metrics: Metrics::install(),
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

    /// Whether shutdown has started.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Reloads the model directory (file I/O on a blocking thread) and records the outcome.
    pub async fn reload(&self) -> Result<Swapped, ApiError> {
        let models = Arc::clone(&self.models);
        let outcome = tokio::task::spawn_blocking(move || models.reload())
            .await
            .map_err(|err| ApiError::ReloadFailed(err.to_string()))?;
        match outcome {
            Ok(swapped) => {
                self.metrics
                    .model_loaded(&swapped.current, Some(&swapped.previous));
                tracing::info!(
                    from = %swapped.previous.version(),
                    to = %swapped.current.version(),
                    checksum = %swapped.current.checksum,
                    "model reloaded"
                );
                Ok(swapped)
            }
            Err(err) => {
                self.metrics.reload_failed();
                tracing::warn!(error = %err, "model reload failed; keeping the current model");
                Err(ApiError::ReloadFailed(err.to_string()))
            }
        }
    }
{%- if mlflow %}

    /// Reloads when the model source has moved on (a registry alias now points at another
    /// version); a failed check is logged and counted like a failed reload.
    pub async fn follow_source(&self) {
        let models = Arc::clone(&self.models);
        let moved = tokio::task::spawn_blocking(move || models.has_moved())
            .await
            .map_err(|err| err.to_string())
            .and_then(|moved| moved.map_err(|err| err.to_string()));
        match moved {
            // The outcome is logged (and counted) by reload itself.
            Ok(true) => drop(self.reload().await),
            Ok(false) => {}
            Err(err) => {
                self.metrics.reload_failed();
                tracing::warn!(error = %err, "cannot check the model source; keeping the current model");
            }
        }
    }
{%- endif %}
}
