//! Predictions: `POST /v1/predict` for one record, `POST /v1/predict/batch` for many. Both take one
//! path: each record is checked by [`validate`], then the valid rows are predicted together by
//! [`predict_rows`] (one `Model::outputs` call, then `Model::prediction` per row); one record is a
//! batch of one.

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::ServedModel;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};

use {{crate_name}}::artifact::Outcome;
use {{crate_name}}::schema;
use {{crate_name}}_service::wire::ErrorBody;
use {{crate_name}}_service::wire::ModelRef;
use {{crate_name}}_service::wire::Predicted;
use {{crate_name}}_service::wire::Prediction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/predict", post(predict))
        .route("/v1/predict/batch", post(predict_batch))
}

/// Predictions in the order of the request's records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    pub target: String,
    #[schema(schema_with = batch_predictions_schema)]
    pub predictions: Vec<BatchPrediction>,
    pub model: ModelRef,
}

/// One prediction of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchPrediction {
    #[serde(flatten)]
    pub predicted: Predicted,
    /// The record's identifier (text) fields as sent, when the schema has such columns.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identifiers: BTreeMap<String, String>,
}

/// `BatchResponse.predictions`: the API generates the `BatchPrediction` schema of the served
/// model's task.
fn batch_predictions_schema() -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("BatchPrediction"))
        .description(Some(
            "One prediction per record, in the order of the request.",
        ))
        .into()
}

/// Predict one record.
///
/// The body is one record with the raw dataset's field names (see the `Record` schema).
#[utoipa::path(
    post,
    path = "/v1/predict",
    tag = "predict",
    request_body(content = ref("#/components/schemas/Record"), content_type = "application/json"),
    responses(
        (status = 200, description = "The predicted class and every class's probability, or the predicted number", body = ref("#/components/schemas/Prediction")),
        (status = 400, description = "Malformed JSON, or the body is not an object", body = ErrorBody),
        (status = 413, description = "Body larger than API_MAX_BODY_BYTES", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown, of the wrong type, out of range or an unknown category; `field` names it", body = ErrorBody),
    )
)]
pub async fn predict(
    State(state): State<AppState>,
    JsonBody(record): JsonBody,
) -> Result<Json<Prediction>, ApiError> {
    let served = state.models.current();
    let row = validate(&served, record, "body")?;
    let BatchPrediction {
        predicted,
        identifiers,
    } = predict_rows(&state, &served, &[row])
        .pop()
        .expect("one prediction per row");
    Ok(Json(Prediction {
        target: served.model.feature_schema().target.clone(),
        predicted,
        identifiers,
        model: ModelRef::from(&*served),
    }))
}

/// Predict many records in one request.
///
/// All or nothing: if any record is invalid, none is predicted and `errors` lists each invalid
/// record with its index and field.
#[utoipa::path(
    post,
    path = "/v1/predict/batch",
    tag = "predict",
    request_body(content = ref("#/components/schemas/BatchRequest"), content_type = "application/json"),
    responses(
        (status = 200, description = "One prediction per record, in order", body = BatchResponse),
        (status = 400, description = "Malformed JSON, or not `{\"records\": [...]}`", body = ErrorBody),
        (status = 413, description = "Body larger than API_MAX_BODY_BYTES", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid records, or more than API_MAX_BATCH of them", body = ErrorBody),
    )
)]
pub async fn predict_batch(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<BatchResponse>, ApiError> {
    let served = state.models.current();
    let records = batch_records(body, state.max_batch)?;
    let mut rows = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for (index, record) in records.into_iter().enumerate() {
        match validate(&served, record, &format!("records[{index}]")) {
            Ok(row) => rows.push(row),
            Err(err) => errors.push(err.in_batch(index)),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidBatch {
            total: rows.len() + errors.len(),
            errors,
        });
    }
    Ok(Json(BatchResponse {
        target: served.model.feature_schema().target.clone(),
        predictions: predict_rows(&state, &served, &rows),
        model: ModelRef::from(&*served),
    }))
}

/// The `records` of a batch request: `{"records": [...]}` with 1 to `max_batch` of them.
fn batch_records(body: Value, max_batch: usize) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::Shape {
            field: "body".to_owned(),
            expected: "an object with a `records` array",
        });
    };
    let Some(Value::Array(records)) = body.remove("records") else {
        return Err(ApiError::Shape {
            field: "records".to_owned(),
            expected: "an array of record objects",
        });
    };
    if records.is_empty() || records.len() > max_batch {
        return Err(ApiError::BatchSize {
            got: records.len(),
            max: max_batch,
        });
    }
    Ok(records)
}

/// Checks one record, named `name` in errors: a JSON object whose keys are columns of the model's
/// schema, every feature present and valid. Returns the row `Model::outputs` takes.
fn validate(
    served: &ServedModel,
    record: Value,
    name: &str,
) -> Result<Vec<schema::Value>, ApiError> {
    let Value::Object(record) = record else {
        return Err(ApiError::Shape {
            field: name.to_owned(),
            expected: "a JSON object of field values",
        });
    };
    if let Some(unknown) = record
        .keys()
        .find(|key| served.model.schema().column(key).is_none())
    {
        return Err(ApiError::UnknownField {
            field: unknown.clone(),
            inputs: served
                .model
                .feature_schema()
                .fields
                .iter()
                .map(|column| column.name.clone())
                .collect(),
        });
    }
    served
        .model
        .preprocessor
        .parse_record(&record)
        .map_err(ApiError::InvalidRecord)
}

/// Predicts validated rows with one matrix operation, in order, and counts each prediction.
fn predict_rows(
    state: &AppState,
    served: &ServedModel,
    rows: &[Vec<schema::Value>],
) -> Vec<BatchPrediction> {
    let outputs = served.model.outputs(&rows.concat());
    rows.iter()
        .zip(outputs.rows())
        .map(|(row, outputs)| {
            let prediction = served.model.prediction(row, &outputs.to_vec());
            state.metrics.predicted(&prediction.outcome);
            BatchPrediction {
                predicted: predicted(served, prediction.outcome),
                identifiers: prediction.identifiers,
            }
        })
        .collect()
}

/// The answer for `outcome`, which `served` predicted: a regression's number carries its unit.
fn predicted(served: &ServedModel, outcome: Outcome) -> Predicted {
    match outcome {
        Outcome::Class {
            class,
            probabilities,
        } => Predicted::Class {
            prediction: class,
            probabilities,
        },
        Outcome::Value { value } => Predicted::Value {
            prediction: value,
            unit: served.unit().map(str::to_owned),
        },
    }
}
