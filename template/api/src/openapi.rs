//! The OpenAPI document and the docs: `GET /openapi.json`, the Swagger UI at `/docs/`, and `/`
//! redirecting there. Routes and response types are described by utoipa's derive macros; the
//! request record and the task-dependent answers (`Prediction`, `BatchPrediction`,
//! `HeldOutMetrics`) are generated at run time from the served model, so the docs always show the
//! real field names, kinds, categories and ranges, and a class or a number as the model predicts,
//! even after a reload.

use crate::model::ServedModel;
use crate::routes::admin::{self, Reloaded};
use crate::routes::model;
use crate::routes::operations::{self, Status};
use crate::routes::predict::{self, BatchResponse};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa_swagger_ui::SwaggerUi;

use {{crate_name}}::schema::ColumnKind;
use {{crate_name}}::schema::target::Task;
use {{crate_name}}_service::wire::BatchItemError;
use {{crate_name}}_service::wire::ErrorBody;
use {{crate_name}}_service::wire::FieldInfo;
use {{crate_name}}_service::wire::ModelInfo;
use {{crate_name}}_service::wire::ModelRef;
use {{crate_name}}_service::wire::TaskKind;

#[derive(OpenApi)]
#[openapi(
    info(description = "Predictions from the promoted model. Errors are JSON: `error` (a code), `message` and, when one field is at fault, `field`."),
    paths(
        predict::predict,
        predict::predict_batch,
        model::model_info,
        operations::health,
        operations::ready,
        operations::metrics,
        admin::reload,
    ),
    components(schemas(
        BatchResponse,
        ModelRef,
        ModelInfo,
        TaskKind,
        FieldInfo,
        Status,
        Reloaded,
        ErrorBody,
        BatchItemError
    )),
    tags(
        (name = "predict", description = "Predictions"),
        (name = "model", description = "The served model"),
        (name = "operations", description = "Health, readiness, metrics and reload"),
    )
)]
struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/docs/") }))
        .route("/openapi.json", get(openapi_json))
        // The docs page fetches /openapi.json, which always describes the current model.
        .merge(SwaggerUi::new("/docs").config(utoipa_swagger_ui::Config::from("/openapi.json")))
}

async fn openapi_json(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(document(&state.models.current(), state.max_batch))
}

/// The OpenAPI document for the currently served model; a batch holds 1 to `max_batch` records.
fn document(served: &ServedModel, max_batch: usize) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.title = format!("{} model API", served.name());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Record".to_owned(), RefOr::T(record_schema(served)));
    let batch = ObjectBuilder::new()
        .description(Some("Records to predict, answered in the same order."))
        .property(
            "records",
            ArrayBuilder::new()
                .items(Ref::from_schema_name("Record"))
                .min_items(Some(1))
                .max_items(Some(max_batch)),
        )
        .required("records")
        .build();
    components
        .schemas
        .insert("BatchRequest".to_owned(), RefOr::T(Schema::Object(batch)));
    let target = &served.model.feature_schema().target;
    let prediction = ObjectBuilder::new()
        .description(Some("The prediction for one record."))
        .property(
            "target",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([target.as_str()]))
                .description(Some("The column that is predicted.")),
        )
        .required("target");
    let prediction = outcome_properties(prediction, served)
        .property("model", Ref::from_schema_name("ModelRef"))
        .required("model");
    let batch_item = ObjectBuilder::new().description(Some("One prediction of a batch."));
    for (name, schema) in [
        ("Prediction", prediction),
        ("BatchPrediction", outcome_properties(batch_item, served)),
        ("HeldOutMetrics", held_out_metrics_schema(served)),
    ] {
        components
            .schemas
            .insert(name.to_owned(), RefOr::T(Schema::Object(schema.build())));
    }
    // Every request body the API declares is required: a request without one is answered 415.
    for item in doc.paths.paths.values_mut() {
        for operation in [&mut item.post, &mut item.put].into_iter().flatten() {
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                body.required = Some(Required::True);
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        "admin_token".to_owned(),
        RefOr::T(SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer))),
    );
    doc
}

/// Adds what the served model predicts for one record (`wire::Predicted`) and the echoed
/// identifiers to `object`: a class with every class's probability, or a number with its unit.
fn outcome_properties(object: ObjectBuilder, served: &ServedModel) -> ObjectBuilder {
    let object = match served.model.metadata.task() {
        Task::Classification { classes } => {
            let mut probabilities = ObjectBuilder::new()
                .description(Some("Probability of every class; they sum to 1."))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for class in classes {
                probabilities = probabilities.property(class, probability()).required(class);
            }
            object
                .property(
                    "prediction",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(classes.iter().map(String::as_str)))
                        .description(Some("The most probable class.")),
                )
                .required("prediction")
                .property("probabilities", probabilities)
                .required("probabilities")
        }
        Task::Regression { unit } => {
            let in_unit = unit
                .as_deref()
                .map(|unit| format!(", in {unit}"))
                .unwrap_or_default();
            let object = object
                .property(
                    "prediction",
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .description(Some(format!(
                            "The predicted {}{in_unit}.",
                            served.model.feature_schema().target
                        ))),
                )
                .required("prediction");
            match unit {
                Some(unit) => object
                    .property(
                        "unit",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .enum_values(Some([unit.as_str()]))
                            .description(Some("The unit of `prediction`.")),
                    )
                    .required("unit"),
                None => object,
            }
        }
    };
    object.property(
        "identifiers",
        ObjectBuilder::new()
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(
                "The record's identifier (text) fields as sent; present when it carries any.",
            )),
    )
}

/// The held-out metrics the served model's task is measured by, all required.
fn held_out_metrics_schema(served: &ServedModel) -> ObjectBuilder {
    let number = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .description(Some(description))
    };
    let metrics: Vec<(&str, ObjectBuilder)> = match served.model.metadata.task() {
        Task::Classification { .. } => vec![
            (
                "accuracy",
                probability().description(Some("Share of the rows predicted right.")),
            ),
            (
                "macro_f1",
                probability().description(Some("F1 score averaged over the classes.")),
            ),
        ],
        Task::Regression { .. } => vec![
            (
                "r2",
                number("Coefficient of determination: 1 is perfect, 0 no better than the mean.")
                    .maximum(Some(1.0)),
            ),
            (
                "rmse",
                number("Root mean squared error, in the target's unit.").minimum(Some(0.0)),
            ),
            (
                "mae",
                number("Mean absolute error, in the target's unit.").minimum(Some(0.0)),
            ),
        ],
    };
    let rows = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0.0))
        .description(Some("Rows of the held-out test split."));
    let mut object = ObjectBuilder::new().description(Some(
        "Held-out quality of the model, measured at training time.",
    ));
    for (name, schema) in metrics.into_iter().chain([("test_rows", rows)]) {
        object = object.property(name, schema).required(name);
    }
    object
}

/// A number from 0 to 1.
fn probability() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.0))
        .maximum(Some(1.0))
}

/// One input record: a property per feature of the model, all required, and one per identifier
/// (text) column, optional and echoed in the answer.
fn record_schema(served: &ServedModel) -> Schema {
    let features = served.model.feature_schema();
    let missing = features
        .missing_values
        .iter()
        .map(|token| format!("`{token}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut record = ObjectBuilder::new()
        .description(Some(format!(
            "One record with the raw dataset's columns. Every model input is required; a value may be `null` or a missing-value text ({missing}) and is then imputed as in training. The dataset's other columns (such as `{}`) may be sent and are ignored, except identifiers, which are echoed; any other field is refused.",
            features.target
        )))
        .examples([serde_json::Value::Object(served.example.clone())]);
    for column in &features.fields {
        let unit = column
            .unit
            .as_deref()
            .map(|u| format!(" Unit: {u}."))
            .unwrap_or_default();
        let description = Some(format!("{}{unit}", column.description));
        let tokens = features
            .missing_values
            .iter()
            .map(|token| serde_json::Value::from(token.as_str()));
        let property: Schema = match &column.kind {
            // A JSON number in range, or unknown: null or a missing-value text.
            ColumnKind::Numeric { min, max } => AnyOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::Number)
                        .minimum(*min)
                        .maximum(*max),
                )
                .item(
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                        .enum_values(Some(tokens.chain([serde_json::Value::Null]))),
                )
                .description(description)
                .into(),
            ColumnKind::Categorical { categories } => ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .enum_values(Some(
                    categories
                        .iter()
                        .map(|c| serde_json::Value::from(c.as_str()))
                        .chain(tokens)
                        .chain([serde_json::Value::Null]),
                ))
                .description(description.map(|d| format!("{d} Matched case-insensitively.")))
                .into(),
            ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
        };
        record = record
            .property(&column.name, property)
            .required(&column.name);
    }
    let schema = served.model.schema();
    let inputs: Vec<&str> = features.fields.iter().map(|c| c.name.as_str()).collect();
    for column in schema
        .columns
        .iter()
        .filter(|c| !inputs.contains(&c.name.as_str()))
    {
        let property = if column.kind == ColumnKind::Text {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([
                    Type::String,
                    Type::Number,
                    Type::Null,
                ]))
                .description(Some(format!(
                    "{} Optional; echoed in `identifiers`.",
                    column.description
                )))
        } else {
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some(format!(
                    "{} Optional, not a model input: accepted with any value and ignored.",
                    column.description
                )))
        };
        record = record.property(&column.name, property);
    }
    Schema::Object(
        record
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build(),
    )
}
