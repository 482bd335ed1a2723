//! Fake model APIs on a loopback port: they answer with the API's own wire types for the penguins
//! schema (the species classifier) and for its regression example (the body mass), so the UI is
//! tested without a trained model. They check nothing themselves: each keeps the records it was
//! sent, for the test to compare with what it expects.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use {{crate_name}}_service::testing::free_port;
use {{crate_name}}_service::wire::ErrorBody;
use {{crate_name}}_service::wire::FieldInfo;
use {{crate_name}}_service::wire::HeldOutMetrics;
use {{crate_name}}_service::wire::ModelInfo;
use {{crate_name}}_service::wire::ModelRef;
use {{crate_name}}_service::wire::Predicted;
use {{crate_name}}_service::wire::Prediction;
use {{crate_name}}_service::wire::TaskKind;

/// A running fake API.
pub struct FakeApi {
    /// Its base URL.
    pub url: String,
    received: Received,
}

/// The `POST /v1/predict` requests, in order: each body and its `x-request-id` header.
type Received = Arc<Mutex<Vec<(Value, Option<String>)>>>;

impl FakeApi {
    /// The records the UI asked to predict, in order.
    pub fn received(&self) -> Vec<Value> {
        let received = self.received.lock().unwrap();
        received.iter().map(|(record, _)| record.clone()).collect()
    }

    /// The `x-request-id` of each prediction request, in order.
    pub fn request_ids(&self) -> Vec<Option<String>> {
        let received = self.received.lock().unwrap();
        received.iter().map(|(_, id)| id.clone()).collect()
    }
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .map(str::to_owned)
}

fn categorical(name: &str, categories: &[&str], description: &str) -> FieldInfo {
    FieldInfo {
        name: name.to_owned(),
        kind: "categorical".to_owned(),
        categories: Some(categories.iter().map(|c| (*c).to_owned()).collect()),
        min: None,
        max: None,
        unit: None,
        description: description.to_owned(),
        default: json!(categories[0]),
    }
}

fn numeric(
    name: &str,
    (min, max): (f64, f64),
    unit: &str,
    description: &str,
    default: f64,
) -> FieldInfo {
    FieldInfo {
        name: name.to_owned(),
        kind: "numeric".to_owned(),
        categories: None,
        min: Some(min),
        max: Some(max),
        unit: Some(unit.to_owned()),
        description: description.to_owned(),
        default: json!(default),
    }
}

const ISLANDS: [&str; 3] = ["Biscoe", "Dream", "Torgersen"];
const SPECIES: [&str; 3] = ["Adelie", "Chinstrap", "Gentoo"];

fn model_ref(name: &str, version: &str) -> ModelRef {
    ModelRef {
        name: name.to_owned(),
        version: version.to_owned(),
        checksum: "abc".to_owned(),
    }
}

/// The species classifier's `GET /v1/model`.
fn classifier() -> ModelInfo {
    ModelInfo {
        name: "penguins".to_owned(),
        version: "1.2.3".to_owned(),
        algorithm: "logistic_regression".to_owned(),
        checksum: "abc".to_owned(),
        created_at: "2025-01-01T00:00:00Z".to_owned(),
        loaded_at: 0,
        target: "species".to_owned(),
        task: TaskKind::Classification,
        classes: SPECIES.map(str::to_owned).to_vec(),
        unit: None,
        fields: vec![
            categorical("island", &ISLANDS, "Island where the penguin was observed."),
            numeric(
                "bill_length_mm",
                (20.0, 80.0),
                "mm",
                "Length of the culmen.",
                44.45,
            ),
            numeric("body_mass_g", (2000.0, 7000.0), "g", "Body mass.", 4050.0),
        ],
        identifiers: Vec::new(),
        missing_values: vec!["NA".to_owned()],
        metrics: HeldOutMetrics::Classification {
            accuracy: 0.97,
            macro_f1: 0.96,
            test_rows: 69,
        },
        training_data_sha256: "def".to_owned(),
        git_commit: None,
    }
}

/// The body mass regression's `GET /v1/model`.
fn regression() -> ModelInfo {
    ModelInfo {
        name: "penguins-body-mass".to_owned(),
        version: "2.0.0".to_owned(),
        target: "body_mass_g".to_owned(),
        task: TaskKind::Regression,
        classes: Vec::new(),
        unit: Some("g".to_owned()),
        fields: vec![
            categorical("species", &SPECIES, "Penguin species."),
            categorical("island", &ISLANDS, "Island where the penguin was observed."),
            numeric(
                "bill_length_mm",
                (20.0, 80.0),
                "mm",
                "Length of the culmen.",
                44.45,
            ),
        ],
        metrics: HeldOutMetrics::Regression {
            r2: 0.85,
            rmse: 310.0,
            mae: 250.0,
            test_rows: 69,
        },
        ..classifier()
    }
}

/// Refuses the island `Atlantis` the way the API does and fails with 500 for a mass of `5555`;
/// answers Gentoo otherwise.
async fn predict_species(
    State(received): State<Received>,
    headers: HeaderMap,
    Json(record): Json<Value>,
) -> Response {
    received
        .lock()
        .unwrap()
        .push((record.clone(), request_id(&headers)));
    if record["island"] == "Atlantis" {
        let error = ErrorBody {
            error: "unknown_category".to_owned(),
            message:
                "field `island`: unknown category `Atlantis` (allowed: Biscoe, Dream, Torgersen)"
                    .to_owned(),
            field: Some("island".to_owned()),
            errors: Vec::new(),
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(error)).into_response();
    }
    if record["body_mass_g"] == 5555.0 {
        let error = ErrorBody {
            error: "internal_server_error".to_owned(),
            message: "internal error".to_owned(),
            field: None,
            errors: Vec::new(),
        };
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(error)).into_response();
    }
    Json(Prediction {
        target: "species".to_owned(),
        predicted: Predicted::Class {
            prediction: "Gentoo".to_owned(),
            probabilities: [("Adelie", 0.02), ("Chinstrap", 0.03), ("Gentoo", 0.95)]
                .map(|(class, p)| (class.to_owned(), p))
                .into(),
        },
        identifiers: BTreeMap::new(),
        model: model_ref("penguins", "1.2.3"),
    })
    .into_response()
}

/// Answers a body mass in grams, unrounded as the real API does.
async fn predict_body_mass(
    State(received): State<Received>,
    headers: HeaderMap,
    Json(record): Json<Value>,
) -> Json<Prediction> {
    received
        .lock()
        .unwrap()
        .push((record, request_id(&headers)));
    Json(Prediction {
        target: "body_mass_g".to_owned(),
        predicted: Predicted::Value {
            prediction: 5257.457999526166,
            unit: Some("g".to_owned()),
        },
        identifiers: BTreeMap::new(),
        model: model_ref("penguins-body-mass", "2.0.0"),
    })
}

/// Starts the fake species classifier API on a free port of the current runtime.
pub async fn fake_api() -> FakeApi {
    serve(|received| {
        Router::new()
            .route("/v1/model", get(|| async { Json(classifier()) }))
            .route("/v1/predict", post(predict_species))
            .with_state(received)
    })
    .await
}

/// Starts the fake body mass regression API, like [`fake_api`].
pub async fn fake_regression_api() -> FakeApi {
    serve(|received| {
        Router::new()
            .route("/v1/model", get(|| async { Json(regression()) }))
            .route("/v1/predict", post(predict_body_mass))
            .with_state(received)
    })
    .await
}

async fn serve(app: impl FnOnce(Received) -> Router) -> FakeApi {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = app(Arc::clone(&received));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeApi {
        url: format!("http://{addr}"),
        received,
    }
}

/// A base URL where nothing listens.
pub fn closed_api() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// The form body a browser sends for a Gentoo.
pub const GENTOO_FORM: &str = "island=Biscoe&bill_length_mm=47.5&body_mass_g=5200";

/// The form body a browser sends for a Gentoo to the regression.
pub const GENTOO_MASS_FORM: &str = "species=Gentoo&island=Biscoe&bill_length_mm=47.5";
