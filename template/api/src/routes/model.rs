//! The served model: `GET /v1/model` describes it and the fields a record must have.

use crate::model::ServedModel;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use {{crate_name}}::evaluation::Metrics;
use {{crate_name}}::schema::target::Task;
use {{crate_name}}::schema::{Column, ColumnKind};
use {{crate_name}}_service::wire::FieldInfo;
use {{crate_name}}_service::wire::HeldOutMetrics;
use {{crate_name}}_service::wire::ModelInfo;
use {{crate_name}}_service::wire::TaskKind;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/model", get(model_info))
}

/// Describe the served model and its input fields.
#[utoipa::path(get, path = "/v1/model", tag = "model", responses((status = 200, body = ModelInfo)))]
pub async fn model_info(State(state): State<AppState>) -> Json<ModelInfo> {
    let served = state.models.current();
    let meta = &served.model.metadata;
    let features = served.model.feature_schema();
    Json(ModelInfo {
        name: meta.name.clone(),
        version: meta.version.clone(),
        algorithm: meta.hyperparameters.algorithm.to_string(),
        checksum: served.checksum.clone(),
        created_at: meta.created_at.clone(),
        loaded_at: served.loaded_at,
        target: features.target.clone(),
        task: match meta.task() {
            Task::Classification { .. } => TaskKind::Classification,
            Task::Regression { .. } => TaskKind::Regression,
        },
        classes: meta.task().classes().to_vec(),
        unit: served.unit().map(str::to_owned),
        fields: features
            .fields
            .iter()
            .map(|column| field_info(&served, column))
            .collect(),
        identifiers: served
            .model
            .schema()
            .text_columns()
            .map(|(_, column)| column.name.clone())
            .collect(),
        missing_values: features.missing_values.clone(),
        metrics: held_out_metrics(&meta.metrics),
        training_data_sha256: meta.training_data_sha256.clone(),
        git_commit: meta.git_commit.clone(),
    })
}

/// A feature column as a form field, with the served model's typical value as its default.
fn field_info(served: &ServedModel, column: &Column) -> FieldInfo {
    let (kind, categories, min, max) = match &column.kind {
        ColumnKind::Numeric { min, max } => ("numeric", None, *min, *max),
        ColumnKind::Categorical { categories } => {
            ("categorical", Some(categories.clone()), None, None)
        }
        ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
    };
    FieldInfo {
        name: column.name.clone(),
        kind: kind.to_owned(),
        categories,
        min,
        max,
        unit: column.unit.clone(),
        description: column.description.clone(),
        default: served
            .example
            .get(&column.name)
            .cloned()
            .unwrap_or(Value::Null),
    }
}

fn held_out_metrics(metrics: &Metrics) -> HeldOutMetrics {
    match metrics {
        Metrics::Classification(m) => HeldOutMetrics::Classification {
            accuracy: m.accuracy,
            macro_f1: m.macro_f1,
            test_rows: m.rows,
        },
        Metrics::Regression(m) => HeldOutMetrics::Regression {
            r2: m.r2,
            rmse: m.rmse,
            mae: m.mae,
            test_rows: m.rows,
        },
    }
}
