//! The JSON the model API answers and the web UI reads, defined once: [`ModelInfo`] (`GET
//! /v1/model`), [`Prediction`] (`POST /v1/predict`) and [`ErrorBody`] (every error). The API
//! serialises these types and the UI deserialises them, so the two cannot drift apart. They need
//! serde only; with the `openapi` feature (the API's) they also describe themselves to utoipa, so
//! the UI never builds the OpenAPI machinery.
//!
//! Answers whose form depends on the served model (`Predicted`, `HeldOutMetrics`) have no derived
//! OpenAPI schema: the API generates theirs at run time from the model's task.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The served model: identity, lineage, task, quality and input schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    pub algorithm: String,
    /// SHA-256 of the artifact's `SHA256SUMS`.
    pub checksum: String,
    /// When the model was trained (from its metadata).
    pub created_at: String,
    /// When this server loaded it, in seconds since the Unix epoch.
    pub loaded_at: u64,
    /// The predicted column.
    pub target: String,
    pub task: TaskKind,
    /// The classes a classifier predicts, in the schema's order; empty for a regression.
    pub classes: Vec<String>,
    /// The unit of a regression's predicted number, when the schema gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The fields a record must have, in order.
    pub fields: Vec<FieldInfo>,
    /// Optional identifier (text) fields a record may carry; they are echoed with the prediction.
    pub identifiers: Vec<String>,
    /// Texts accepted as "value unknown" besides `null`.
    pub missing_values: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = held_out_metrics_schema))]
    pub metrics: HeldOutMetrics,
    pub training_data_sha256: String,
    pub git_commit: Option<String>,
}

/// One input field of the model, for clients that build forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldInfo {
    pub name: String,
    /// `numeric` or `categorical`.
    #[cfg_attr(feature = "openapi", schema(example = "numeric"))]
    pub kind: String,
    /// Allowed values of a categorical field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Smallest allowed value of a numeric field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value of a numeric field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub description: String,
    /// A typical value: the training median or most frequent category (null if none).
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub default: Value,
}

/// What a model predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// One of `classes`, with every class's probability.
    Classification,
    /// A number, in `unit` when the schema gives one.
    Regression,
}

/// Held-out quality of the model, measured at training time, by its task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeldOutMetrics {
    Classification {
        accuracy: f64,
        macro_f1: f64,
        test_rows: u64,
    },
    Regression {
        r2: f64,
        rmse: f64,
        mae: f64,
        test_rows: u64,
    },
}

/// `ModelInfo.metrics`: the API generates the `HeldOutMetrics` schema of the served model's task.
#[cfg(feature = "openapi")]
fn held_out_metrics_schema() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name("HeldOutMetrics")
}

/// The prediction for one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The column that is predicted.
    pub target: String,
    #[serde(flatten)]
    pub predicted: Predicted,
    /// The record's identifier (text) fields as sent, when the schema has such columns.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<String, String>,
    pub model: ModelRef,
}

/// What is predicted for one record, by the served model's task: `prediction` is a class (with
/// every class's probability) or a number (with its unit, when the schema gives one). The answer's
/// own form says which, so a client reads it right even just after a reload changed the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Predicted {
    Class {
        prediction: String,
        probabilities: BTreeMap<String, f64>,
    },
    Value {
        prediction: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
}

/// The model that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ModelRef {
    pub name: String,
    pub version: String,
    /// Identifies the exact artifact (SHA-256 of its `SHA256SUMS`).
    pub checksum: String,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Machine-readable reason, e.g. `missing_field`, `out_of_range`, `malformed_json`.
    #[cfg_attr(feature = "openapi", schema(example = "unknown_category"))]
    pub error: String,
    /// What went wrong, in one sentence.
    #[cfg_attr(
        feature = "openapi",
        schema(
            example = "field `island`: unknown category `Atlantis` (allowed: Biscoe, Dream, Torgersen)"
        )
    )]
    pub message: String,
    /// The offending field, when one is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "island"))]
    pub field: Option<String>,
    /// Batch requests: every invalid record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<BatchItemError>,
}

/// One invalid record of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BatchItemError {
    /// Position of the record in `records` (0-based).
    pub index: usize,
    /// Machine-readable reason.
    pub error: String,
    pub field: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A client reads back exactly what the API wrote, for either task.
    #[test]
    fn predictions_round_trip_in_both_forms() {
        let model = ModelRef {
            name: "penguins".into(),
            version: "1.0.0".into(),
            checksum: "abc".into(),
        };
        for predicted in [
            Predicted::Class {
                prediction: "Gentoo".into(),
                probabilities: [("Adelie".into(), 0.25), ("Gentoo".into(), 0.75)].into(),
            },
            Predicted::Value {
                prediction: 5200.5,
                unit: Some("g".into()),
            },
            Predicted::Value {
                prediction: 5200.0,
                unit: None,
            },
        ] {
            let prediction = Prediction {
                target: "species".into(),
                predicted,
                identifiers: BTreeMap::new(),
                model: model.clone(),
            };
            let text = serde_json::to_string(&prediction).unwrap();
            assert!(
                !text.contains("identifiers") && !text.contains("null"),
                "{text}"
            );
            assert_eq!(
                serde_json::from_str::<Prediction>(&text).unwrap(),
                prediction
            );
        }
    }

    #[test]
    fn held_out_metrics_are_read_by_their_task() {
        let regression = json!({"r2": 0.8, "rmse": 300.0, "mae": 250.0, "test_rows": 69});
        assert_eq!(
            serde_json::from_value::<HeldOutMetrics>(regression).unwrap(),
            HeldOutMetrics::Regression {
                r2: 0.8,
                rmse: 300.0,
                mae: 250.0,
                test_rows: 69
            }
        );
        let classification = json!({"accuracy": 0.9, "macro_f1": 0.85, "test_rows": 69});
        assert!(matches!(
            serde_json::from_value::<HeldOutMetrics>(classification).unwrap(),
            HeldOutMetrics::Classification { .. }
        ));
    }
}
