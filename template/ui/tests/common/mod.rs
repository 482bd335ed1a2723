//! Fake model APIs on a loopback port: they answer like the real one for the penguins schema (the
//! species classifier) and for its regression example (the body mass), so the UI is tested without
//! a trained model.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::net::SocketAddr;

use {{crate_name}}_service::testing::free_port;

async fn model() -> Json<Value> {
    Json(json!({
        "name": "penguins",
        "version": "1.2.3",
        "target": "species",
        "task": "classification",
        "classes": ["Adelie", "Chinstrap", "Gentoo"],
        "fields": [
            {"name": "island", "kind": "categorical", "categories": ["Biscoe", "Dream", "Torgersen"],
             "description": "Island where the penguin was observed.", "default": "Biscoe"},
            {"name": "bill_length_mm", "kind": "numeric", "min": 20.0, "max": 80.0, "unit": "mm",
             "description": "Length of the culmen.", "default": 44.45},
            {"name": "body_mass_g", "kind": "numeric", "min": 2000.0, "max": 7000.0, "unit": "g",
             "description": "Body mass.", "default": 4050.0}
        ]
    }))
}

/// Refuses the island `Atlantis` the way the API does; fails with 500 for a mass of `5555`.
async fn predict(Json(record): Json<Value>) -> (StatusCode, Json<Value>) {
    if record["island"] == "Atlantis" {
        let error = json!({
            "error": "unknown_category",
            "field": "island",
            "message": "field `island`: unknown category `Atlantis` (allowed: Biscoe, Dream, Torgersen)"
        });
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(error));
    }
    if record["body_mass_g"] == 5555.0 {
        let error = json!({"error": "internal_server_error", "message": "internal error"});
        return (StatusCode::INTERNAL_SERVER_ERROR, Json(error));
    }
    assert_eq!(
        record["bill_length_mm"],
        json!(47.5),
        "the UI sends a numeric field as a JSON number"
    );
    assert_eq!(record["island"], "Biscoe", "and other text as typed");
    let answer = json!({
        "target": "species",
        "prediction": "Gentoo",
        "probabilities": {"Adelie": 0.02, "Chinstrap": 0.03, "Gentoo": 0.95},
        "model": {"name": "penguins", "version": "1.2.3", "checksum": "abc"}
    });
    (StatusCode::OK, Json(answer))
}

async fn regression_model() -> Json<Value> {
    Json(json!({
        "name": "penguins-body-mass",
        "version": "2.0.0",
        "target": "body_mass_g",
        "task": "regression",
        "classes": [],
        "unit": "g",
        "fields": [
            {"name": "species", "kind": "categorical", "categories": ["Adelie", "Chinstrap", "Gentoo"],
             "description": "Penguin species.", "default": "Adelie"},
            {"name": "island", "kind": "categorical", "categories": ["Biscoe", "Dream", "Torgersen"],
             "description": "Island where the penguin was observed.", "default": "Biscoe"},
            {"name": "bill_length_mm", "kind": "numeric", "min": 20.0, "max": 80.0, "unit": "mm",
             "description": "Length of the culmen.", "default": 44.45}
        ]
    }))
}

/// Answers a body mass in grams, unrounded as the real API does.
async fn predict_body_mass(Json(record): Json<Value>) -> Json<Value> {
    assert_eq!(
        record["species"], "Gentoo",
        "the UI sends the record as typed"
    );
    assert_eq!(record["bill_length_mm"], json!(47.5));
    Json(json!({
        "target": "body_mass_g",
        "prediction": 5257.457999526166,
        "unit": "g",
        "model": {"name": "penguins-body-mass", "version": "2.0.0", "checksum": "def"}
    }))
}

/// Starts the fake species classifier API on a free port of the current runtime and returns its
/// base URL.
pub async fn fake_api() -> String {
    serve(
        Router::new()
            .route("/v1/model", get(model))
            .route("/v1/predict", post(predict)),
    )
    .await
}

/// Starts the fake body mass regression API, like [`fake_api`].
pub async fn fake_regression_api() -> String {
    serve(
        Router::new()
            .route("/v1/model", get(regression_model))
            .route("/v1/predict", post(predict_body_mass)),
    )
    .await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A base URL where nothing listens.
pub fn closed_api() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// The form body a browser sends for a Gentoo.
pub const GENTOO_FORM: &str = "island=Biscoe&bill_length_mm=47.5&body_mass_g=5200";

/// The form body a browser sends for a Gentoo to the regression.
pub const GENTOO_MASS_FORM: &str = "species=Gentoo&island=Biscoe&bill_length_mm=47.5";
