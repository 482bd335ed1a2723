//! The OpenAPI document. Routes and response types are described by utoipa's derive macros; the
//! request record is generated at run time from the served model's feature schema, so the docs
//! always show the real field names, kinds, categories and ranges, even after a reload.

use crate::error::{BatchItemError, ErrorBody};
use crate::model::{Reloaded, ServedModel};
use crate::routes::{
    self, BatchResponse, FieldInfo, HeldOutMetrics, ModelInfo, ModelRef, Prediction, Status,
};
use utoipa::OpenApi;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};

use {{crate_name}}::data::schema::ColumnKind;

#[derive(OpenApi)]
#[openapi(
    info(description = "Predictions from the promoted model. Errors are JSON: `error` (a code), `message` and, when one field is at fault, `field`."),
    paths(
        routes::predict,
        routes::predict_batch,
        routes::model_info,
        routes::health,
        routes::ready,
        routes::metrics,
        routes::reload,
    ),
    components(schemas(
        Prediction,
        BatchResponse,
        ModelRef,
        ModelInfo,
        FieldInfo,
        HeldOutMetrics,
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

/// The OpenAPI document for the currently served model.
pub fn document(served: &ServedModel) -> utoipa::openapi::OpenApi {
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
            ArrayBuilder::new().items(Ref::from_schema_name("Record")),
        )
        .required("records")
        .build();
    components
        .schemas
        .insert("BatchRequest".to_owned(), RefOr::T(Schema::Object(batch)));
    components.security_schemes.insert(
        "admin_token".to_owned(),
        RefOr::T(SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer))),
    );
    doc
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
            "One record with the raw dataset's columns. Every field is required; a value may be `null` or a missing-value text ({missing}) and is then imputed as in training. Other columns of the dataset (such as `{}`) are accepted and ignored; unknown fields are refused.",
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
        let property = match &column.kind {
            ColumnKind::Numeric { min, max } => ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Number, Type::Null]))
                .minimum(*min)
                .maximum(*max)
                .description(description),
            ColumnKind::Categorical { categories } => ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .enum_values(Some(
                    categories
                        .iter()
                        .map(|c| serde_json::Value::from(c.as_str()))
                        .chain([serde_json::Value::Null]),
                ))
                .description(description),
            ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
        };
        record = record
            .property(&column.name, property)
            .required(&column.name);
    }
    for (_, column) in served.model.schema().text_columns() {
        let property = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([
                Type::String,
                Type::Number,
                Type::Null,
            ]))
            .description(Some(format!(
                "{} Optional; echoed in `identifiers`.",
                column.description
            )));
        record = record.property(&column.name, property);
    }
    Schema::Object(record.build())
}
