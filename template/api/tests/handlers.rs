//! In-process tests of every route and error case: requests go straight into the router with
//! `tower::ServiceExt::oneshot`, no socket involved.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use clap::Parser;
use common::{ADELIE, GENTOO, HEAVY_GENTOO, LIGHT_ADELIE, save_model, save_regression_model};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

use {{crate_name}}_api::app::app;
use {{crate_name}}_api::config::Config;
use {{crate_name}}_api::model::{ModelSource, ModelStore};
use {{crate_name}}_api::state::AppState;

/// A served model in its own directory, with the settings given as flags.
struct Server {
    app: Router,
    state: AppState,
    dir: tempfile::TempDir,
}

/// The species classifier, served with `flags`.
fn server(flags: &[&str]) -> Server {
    serve(save_model, flags)
}

/// The body mass regression, served.
fn regression_server() -> Server {
    serve(save_regression_model, &[])
}

fn serve(save: fn(&Path, &str), flags: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    save(dir.path(), "1.0.0");
    let mut args = vec!["api"];
    args.extend_from_slice(flags);
    let config = Config::try_parse_from(args).unwrap();
    let state = AppState::new(
        &config,
        ModelStore::open(ModelSource::Dir(dir.path().to_owned())).unwrap(),
    );
    Server {
        app: app(&config, state.clone()),
        state,
        dir,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|err| panic!("{err}: {}", self.text))
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, path: &str) -> Reply {
    send(app, Request::get(path).body(Body::empty()).unwrap()).await
}

async fn post_json(app: &Router, path: &str, body: &str) -> Reply {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    send(app, request).await
}

/// A batch request body holding `records`.
fn batch(records: &[&str]) -> String {
    ["{\"records\": [", &records.join(", "), "]}"].concat()
}

/// The keys of a JSON object, sorted.
fn sorted_keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// A record with one field replaced (or removed, for `None`).
fn gentoo_with(field: &str, value: Option<Value>) -> String {
    let mut record: Value = serde_json::from_str(GENTOO).unwrap();
    match value {
        Some(value) => record[field] = value,
        None => {
            record.as_object_mut().unwrap().remove(field);
        }
    }
    record.to_string()
}

#[tokio::test]
async fn predict_returns_the_class_its_probabilities_and_the_model() {
    let s = server(&[]);
    let reply = post_json(&s.app, "/v1/predict", GENTOO).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["prediction"], "Gentoo");
    assert_eq!(body["target"], "species");
    assert_eq!(body["model"]["version"], "1.0.0");
    assert_eq!(body["model"]["checksum"].as_str().unwrap().len(), 64);
    let probabilities = body["probabilities"].as_object().unwrap();
    assert_eq!(
        probabilities.keys().collect::<Vec<_>>(),
        ["Adelie", "Chinstrap", "Gentoo"]
    );
    let sum: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    assert!(body.get("unit").is_none(), "{body}");

    let adelie = post_json(&s.app, "/v1/predict", ADELIE).await.json();
    assert_eq!(adelie["prediction"], "Adelie");
}

#[tokio::test]
async fn missing_values_are_imputed_and_dataset_columns_ignored() {
    let s = server(&[]);
    for (field, value) in [
        ("sex", json!(null)),
        ("sex", json!("NA")),
        ("body_mass_g", json!(null)),
        ("body_mass_g", json!("NA")),
        ("island", json!("biscoe")),
    ] {
        let reply = post_json(
            &s.app,
            "/v1/predict",
            &gentoo_with(field, Some(value.clone())),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{field}={value}: {}",
            reply.text
        );
    }
    // The raw dataset's other columns (the target, `year`) may be sent along.
    let with_extras = gentoo_with("year", Some(json!(2008)));
    let reply = post_json(&s.app, "/v1/predict", &with_extras).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn invalid_records_get_a_4xx_naming_the_field() {
    let s = server(&[]);
    let nan = GENTOO.replace("47.5", "NaN");
    let huge = GENTOO.replace("5200", "1e999");
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        (gentoo_with("sex", None), 422, "missing_field", Some("sex")),
        (
            gentoo_with("bill_length_mm", Some(json!(true))),
            422,
            "wrong_type",
            Some("bill_length_mm"),
        ),
        (
            gentoo_with("island", Some(json!(3))),
            422,
            "wrong_type",
            Some("island"),
        ),
        // A numeric field takes a JSON number; text only as a missing-value token.
        (
            gentoo_with("bill_depth_mm", Some(json!("deep"))),
            422,
            "wrong_type",
            Some("bill_depth_mm"),
        ),
        (
            gentoo_with("bill_depth_mm", Some(json!("15.0"))),
            422,
            "wrong_type",
            Some("bill_depth_mm"),
        ),
        (
            gentoo_with("body_mass_g", Some(json!(90000))),
            422,
            "out_of_range",
            Some("body_mass_g"),
        ),
        (
            gentoo_with("island", Some(json!("Atlantis"))),
            422,
            "unknown_category",
            Some("island"),
        ),
        (
            gentoo_with("bill_lenght_mm", Some(json!(40))),
            422,
            "unknown_field",
            Some("bill_lenght_mm"),
        ),
        (nan, 400, "malformed_json", Some("bill_length_mm")),
        (huge, 400, "malformed_json", Some("body_mass_g")),
        (
            "{\"island\": ".to_owned(),
            400,
            "malformed_json",
            Some("island"),
        ),
        (
            "{\"island\" \"Dream\"}".to_owned(),
            400,
            "malformed_json",
            None,
        ),
        ("[1, 2]".to_owned(), 400, "wrong_shape", Some("body")),
        ("".to_owned(), 400, "malformed_json", None),
    ];
    for (body, status, error, field) in cases {
        let reply = post_json(&s.app, "/v1/predict", &body).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        let json = reply.json();
        assert_eq!(json["error"], error, "{body}: {json}");
        assert_eq!(json["field"].as_str(), field, "{body}: {json}");
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn wrong_content_type_and_oversized_bodies_are_refused() {
    let s = server(&["--max-body-bytes", "512"]);
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = Request::post("/v1/predict");
        if let Some(value) = content_type {
            request = request.header(header::CONTENT_TYPE, value);
        }
        let reply = send(&s.app, request.body(Body::from(GENTOO)).unwrap()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(reply.json()["error"], "unsupported_media_type");
    }
    let ok = Request::post("/v1/predict")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(GENTOO))
        .unwrap();
    assert_eq!(send(&s.app, ok).await.status, StatusCode::OK);

    let padded = format!("{}{}", GENTOO, " ".repeat(600));
    let reply = post_json(&s.app, "/v1/predict", &padded).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.json()["error"], "body_too_large");
}

#[tokio::test]
async fn batch_predicts_in_order_and_reports_every_invalid_record() {
    let s = server(&["--max-batch", "3"]);
    let body = batch(&[GENTOO, ADELIE]);
    let reply = post_json(&s.app, "/v1/predict/batch", &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let json = reply.json();
    let classes: Vec<&str> = json["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["prediction"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["Gentoo", "Adelie"]);
    assert_eq!(json["model"]["version"], "1.0.0");

    let bad = gentoo_with("island", Some(json!("Atlantis")));
    let body = batch(&[GENTOO, &bad, "7"]);
    let reply = post_json(&s.app, "/v1/predict/batch", &body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let json = reply.json();
    assert_eq!(json["error"], "invalid_records");
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{json}");
    assert_eq!(
        (errors[0]["index"].as_u64(), errors[0]["field"].as_str()),
        (Some(1), Some("island"))
    );
    assert_eq!(
        (errors[1]["index"].as_u64(), errors[1]["field"].as_str()),
        (Some(2), Some("records[2]"))
    );

    let four = batch(&[GENTOO; 4]);
    for (body, status, error) in [
        (four.as_str(), 422, "batch_size"),
        (r#"{"records": []}"#, 422, "batch_size"),
        (r#"{"records": {"a": 1} }"#, 400, "wrong_shape"),
        (r#"{"rows": []}"#, 400, "wrong_shape"),
        (r#"[]"#, 400, "wrong_shape"),
    ] {
        let reply = post_json(&s.app, "/v1/predict/batch", body).await;
        assert_eq!(reply.status.as_u16(), status, "{body}: {}", reply.text);
        assert_eq!(reply.json()["error"], error, "{body}");
    }
}

#[tokio::test]
async fn model_describes_the_fields_a_client_must_send() {
    let s = server(&[]);
    let reply = get(&s.app, "/v1/model").await;
    assert_eq!(reply.status, StatusCode::OK);
    let json = reply.json();
    assert_eq!(json["name"], "penguins");
    assert_eq!(json["version"], "1.0.0");
    assert_eq!(json["target"], "species");
    assert_eq!(json["task"], "classification");
    assert_eq!(json["classes"], json!(["Adelie", "Chinstrap", "Gentoo"]));
    assert!(json.get("unit").is_none(), "{json}");
    let fields = json["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "island",
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
            "sex"
        ]
    );
    assert_eq!(fields[0]["kind"], "categorical");
    assert_eq!(
        fields[0]["categories"],
        json!(["Biscoe", "Dream", "Torgersen"])
    );
    assert_eq!(fields[1]["kind"], "numeric");
    assert_eq!(
        (fields[1]["min"].as_f64(), fields[1]["max"].as_f64()),
        (Some(20.0), Some(80.0))
    );
    // Defaults are typical values the API accepts as they are.
    let defaults: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_owned(), f["default"].clone()))
        .collect();
    let reply = post_json(&s.app, "/v1/predict", &Value::Object(defaults).to_string()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        sorted_keys(&json["metrics"]),
        ["accuracy", "macro_f1", "test_rows"]
    );
    assert!(json["metrics"]["accuracy"].as_f64().unwrap() > 0.9);
}

#[tokio::test]
async fn a_regression_answers_a_number_with_its_unit() {
    let s = regression_server();
    let reply = post_json(&s.app, "/v1/predict", HEAVY_GENTOO).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["target"], "body_mass_g");
    let grams = body["prediction"].as_f64().expect("a JSON number");
    assert!((4500.0..6500.0).contains(&grams), "a male Gentoo: {body}");
    assert_eq!(body["unit"], "g");
    assert!(body.get("probabilities").is_none(), "{body}");
    assert_eq!(body["model"]["name"], "penguins-body-mass");

    let reply = post_json(
        &s.app,
        "/v1/predict/batch",
        &batch(&[HEAVY_GENTOO, LIGHT_ADELIE]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let json = reply.json();
    assert_eq!(json["target"], "body_mass_g");
    let predictions = json["predictions"].as_array().unwrap();
    let masses: Vec<f64> = predictions
        .iter()
        .map(|p| p["prediction"].as_f64().expect("a JSON number"))
        .collect();
    assert_eq!(masses[0], grams, "one path for one record or a batch");
    assert!(
        (2500.0..4000.0).contains(&masses[1]),
        "a female Adelie: {json}"
    );
    for item in predictions {
        assert_eq!(item["unit"], "g");
        assert!(item.get("probabilities").is_none(), "{item}");
    }
}

#[tokio::test]
async fn model_reports_a_regression_task_with_r2_rmse_and_mae() {
    let s = regression_server();
    let json = get(&s.app, "/v1/model").await.json();
    assert_eq!(json["task"], "regression");
    assert_eq!(json["target"], "body_mass_g");
    assert_eq!(json["unit"], "g");
    assert_eq!(json["classes"], json!([]));
    let fields: Vec<&str> = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "species",
            "island",
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "sex"
        ]
    );
    assert_eq!(
        sorted_keys(&json["metrics"]),
        ["mae", "r2", "rmse", "test_rows"]
    );
    let metrics = &json["metrics"];
    let metric = |name: &str| metrics[name].as_f64().unwrap();
    assert!(metric("r2") > 0.7, "{json}");
    assert!(
        0.0 < metric("mae") && metric("mae") <= metric("rmse") && metric("rmse") < 500.0,
        "{json}"
    );
    assert!(metrics["test_rows"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn openapi_describes_what_the_served_model_predicts() {
    let schemas = |doc: &Value| doc["components"]["schemas"].clone();

    let classifier = schemas(&get(&server(&[]).app, "/openapi.json").await.json());
    for name in ["Prediction", "BatchPrediction"] {
        let properties = &classifier[name]["properties"];
        assert_eq!(properties["prediction"]["type"], "string", "{name}");
        assert_eq!(
            properties["prediction"]["enum"],
            json!(["Adelie", "Chinstrap", "Gentoo"]),
            "{name}"
        );
        assert_eq!(
            properties["probabilities"]["required"],
            json!(["Adelie", "Chinstrap", "Gentoo"]),
            "{name}"
        );
        assert!(properties.get("unit").is_none(), "{name}");
    }
    assert_eq!(
        classifier["HeldOutMetrics"]["required"],
        json!(["accuracy", "macro_f1", "test_rows"])
    );

    let s = regression_server();
    let doc = get(&s.app, "/openapi.json").await.json();
    let regression = schemas(&doc);
    for name in ["Prediction", "BatchPrediction"] {
        let schema = &regression[name];
        assert_eq!(
            schema["properties"]["prediction"]["type"], "number",
            "{name}"
        );
        assert_eq!(schema["properties"]["unit"]["enum"], json!(["g"]), "{name}");
        assert!(
            schema["properties"].get("probabilities").is_none(),
            "{name}"
        );
        let required = if name == "Prediction" {
            json!(["target", "prediction", "unit", "model"])
        } else {
            json!(["prediction", "unit"])
        };
        assert_eq!(schema["required"], required, "{name}");
    }
    assert_eq!(
        regression["HeldOutMetrics"]["required"],
        json!(["r2", "rmse", "mae", "test_rows"])
    );
    // Every reference in the document resolves, the run-time schemas included.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(
            regression[name].is_object(),
            "#/components/schemas/{name} is missing"
        );
    }
    assert_eq!(
        doc["paths"]["/v1/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Prediction"
    );
    // The documented example is a valid request for the regression too.
    let example = regression["Record"]["examples"][0].to_string();
    let reply = post_json(&s.app, "/v1/predict", &example).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.json()["prediction"].is_f64());
}

#[tokio::test]
async fn health_and_readiness() {
    let s = server(&[]);
    let health = get(&s.app, "/health").await;
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let ready = get(&s.app, "/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["model"]["version"], "1.0.0");

    s.state.start_draining();
    let ready = get(&s.app, "/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "draining");
    assert_eq!(get(&s.app, "/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_predictions_and_the_model_version() {
    let s = server(&[]);
    post_json(&s.app, "/v1/predict", GENTOO).await;
    post_json(&s.app, "/v1/predict", "{").await;
    let reply = get(&s.app, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = reply.text;
    for expected in [
        r#"http_requests_total{method="POST",route="/v1/predict",status="200"}"#,
        r#"http_requests_total{method="POST",route="/v1/predict",status="400"}"#,
        r#"http_request_duration_seconds_bucket{method="POST",route="/v1/predict",le="0.001"}"#,
        // Up to the request timeout and beyond, not only to 1 s.
        r#"http_request_duration_seconds_bucket{method="POST",route="/v1/predict",le="10"}"#,
        r#"predictions_total{class="Gentoo"}"#,
        r#"model_info{name="penguins",version="1.0.0""#,
        concat!(
            r#"build_info{version=""#,
            env!("CARGO_PKG_VERSION"),
            r#""} 1"#
        ),
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_open_fds ",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[tokio::test]
async fn regression_predictions_are_counted_without_a_class() {
    let s = regression_server();
    let reply = post_json(&s.app, "/v1/predict", HEAVY_GENTOO).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let text = get(&s.app, "/metrics").await.text;
    assert!(
        text.lines()
            .any(|line| line.starts_with("predictions_total ")),
        "no unlabelled predictions_total in\n{text}"
    );
}

#[tokio::test]
async fn openapi_describes_the_record_with_the_real_feature_names() {
    let s = server(&[]);
    let reply = get(&s.app, "/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/v1/predict",
        "/v1/predict/batch",
        "/v1/model",
        "/health",
        "/ready",
        "/metrics",
        "/v1/admin/reload",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let record = &doc["components"]["schemas"]["Record"];
    assert_eq!(
        record["required"],
        json!([
            "island",
            "bill_length_mm",
            "bill_depth_mm",
            "flipper_length_mm",
            "body_mass_g",
            "sex"
        ])
    );
    // A number in range, or unknown: null or a missing-value text.
    let flipper = &record["properties"]["flipper_length_mm"]["anyOf"];
    assert_eq!(flipper[0]["maximum"].as_f64(), Some(250.0));
    assert_eq!(flipper[1]["enum"], json!(["", "NA", null]));
    assert_eq!(
        record["properties"]["island"]["enum"],
        json!(["Biscoe", "Dream", "Torgersen", "", "NA", null])
    );
    // The dataset's other columns may be sent; nothing else.
    assert!(record["properties"]["species"].is_object());
    assert_eq!(record["additionalProperties"], false);
    assert_eq!(
        doc["paths"]["/v1/predict"]["post"]["requestBody"]["required"],
        true
    );
    let records = &doc["components"]["schemas"]["BatchRequest"]["properties"]["records"];
    assert_eq!(
        (records["minItems"].as_u64(), records["maxItems"].as_u64()),
        (Some(1), Some(1000))
    );
    assert_eq!(
        doc["paths"]["/v1/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["$ref"],
        "#/components/schemas/Record"
    );
    // The documented example is itself a valid request.
    let example = record["examples"][0].to_string();
    assert_eq!(
        post_json(&s.app, "/v1/predict", &example).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn docs_page_is_served_from_embedded_files() {
    let s = server(&[]);
    let page = get(&s.app, "/docs/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(
        !page.text.contains("https://"),
        "the page must not load anything remotely"
    );
    let config = get(&s.app, "/docs/swagger-initializer.js").await;
    assert!(config.text.contains("/openapi.json"), "{}", config.text);
    let bundle = get(&s.app, "/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(
        bundle.text.len() > 100_000,
        "the Swagger UI bundle is embedded"
    );
    assert_eq!(
        get(&s.app, "/").await.status,
        StatusCode::TEMPORARY_REDIRECT
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let s = server(&[]);
    let reply = get(&s.app, "/v2/predict").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"], "not_found");

    let reply = get(&s.app, "/v1/predict").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"], "method_not_allowed");
    assert_eq!(reply.headers[header::ALLOW], "POST");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = server(&[]);
    let reply = get(&s.app, "/health").await;
    assert!(!reply.headers["x-request-id"].is_empty());
    let request = Request::get("/health")
        .header("x-request-id", "client-chosen-id")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(&s.app, request).await.headers["x-request-id"],
        "client-chosen-id"
    );
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/predict")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap()
    };
    let closed = server(&[]);
    let reply = send(&closed.app, preflight("http://localhost:3000")).await;
    assert!(
        !reply
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );

    let open = server(&["--cors-origins", "http://localhost:3000"]);
    let reply = send(&open.app, preflight("http://localhost:3000")).await;
    assert_eq!(
        reply.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:3000"
    );
    let reply = send(&open.app, preflight("http://evil.example")).await;
    assert!(
        !reply
            .headers
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    );
}

#[tokio::test]
async fn slow_requests_time_out_with_408() {
    /// A request body that never finishes arriving.
    struct Stalled;
    impl http_body::Body for Stalled {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }
    let s = server(&["--request-timeout-secs", "1"]);
    let request = Request::post("/v1/predict")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::new(Stalled))
        .unwrap();
    let reply = send(&s.app, request).await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(reply.json()["error"], "request_timeout");
}

async fn reload(app: &Router, token: Option<&str>) -> Reply {
    let mut request = Request::post("/v1/admin/reload");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn reload_needs_the_admin_token() {
    let disabled = server(&[]);
    let reply = reload(&disabled.app, Some("anything")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"], "admin_disabled");

    let s = server(&["--admin-token", "s3cret"]);
    for token in [None, Some("wrong"), Some("s3cret2")] {
        let reply = reload(&s.app, token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    }
}

#[tokio::test]
async fn reload_swaps_in_a_newly_promoted_model() {
    let s = server(&["--admin-token", "s3cret"]);
    save_model(s.dir.path(), "2.0.0");
    let reply = reload(&s.app, Some("s3cret")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let json = reply.json();
    assert_eq!(
        (json["previous_version"].as_str(), json["version"].as_str()),
        (Some("1.0.0"), Some("2.0.0"))
    );
    assert_eq!(get(&s.app, "/v1/model").await.json()["version"], "2.0.0");
    let prediction = post_json(&s.app, "/v1/predict", GENTOO).await.json();
    assert_eq!(prediction["model"]["version"], "2.0.0");
    let metrics = get(&s.app, "/metrics").await.text;
    assert!(
        metrics.contains(r#"model_info{name="penguins",version="2.0.0""#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_reload_can_switch_the_served_model_to_a_regression() {
    let s = server(&["--admin-token", "s3cret"]);
    save_regression_model(s.dir.path(), "2.0.0");
    let reply = reload(&s.app, Some("s3cret")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(get(&s.app, "/v1/model").await.json()["task"], "regression");
    let prediction = post_json(&s.app, "/v1/predict", HEAVY_GENTOO).await.json();
    assert!(prediction["prediction"].is_f64(), "{prediction}");
    let doc = get(&s.app, "/openapi.json").await.json();
    assert_eq!(
        doc["components"]["schemas"]["Prediction"]["properties"]["prediction"]["type"],
        "number"
    );
}

#[tokio::test]
async fn a_reload_that_fails_verification_keeps_the_old_model() {
    let s = server(&["--admin-token", "s3cret"]);
    save_model(s.dir.path(), "2.0.0");
    corrupt(&s.dir.path().join("model.json"));
    let reply = reload(&s.app, Some("s3cret")).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let json = reply.json();
    assert_eq!(json["error"], "reload_failed");
    assert!(
        json["message"].as_str().unwrap().contains("checksum"),
        "{json}"
    );
    assert_eq!(get(&s.app, "/v1/model").await.json()["version"], "1.0.0");
    assert_eq!(
        post_json(&s.app, "/v1/predict", GENTOO).await.status,
        StatusCode::OK
    );
}

/// Clients predict in a loop while the model is reloaded again and again; every answer must be a
/// success. Predictions must be seen completing while a reload request is being answered, else the
/// test would prove nothing, so it reloads until three reloads had such company.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predictions_never_fail_while_models_are_reloaded() {
    let s = server(&["--admin-token", "s3cret"]);
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (app, answered, stop) = (s.app.clone(), Arc::clone(&answered), Arc::clone(&stop));
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let reply = post_json(&app, "/v1/predict", GENTOO).await;
                    if reply.status != StatusCode::OK || reply.json()["prediction"] != "Gentoo" {
                        return Err(format!("{}: {}", reply.status, reply.text));
                    }
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut reloads, mut overlapped) = (0, 0);
    // A client that stopped has met a failure, reported below.
    while overlapped < 3 && Instant::now() < deadline && !clients.iter().any(|c| c.is_finished()) {
        reloads += 1;
        save_model(s.dir.path(), &format!("{}.0.0", reloads + 1));
        let before = answered.load(Ordering::SeqCst);
        let reply = reload(&s.app, Some("s3cret")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        if answered.load(Ordering::SeqCst) > before {
            overlapped += 1;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        if let Err(failure) = client.await.unwrap() {
            panic!("a prediction failed while models were reloaded: {failure}");
        }
    }
    assert!(
        overlapped == 3,
        "only {overlapped} of {reloads} reloads overlapped a prediction"
    );
    let served = get(&s.app, "/v1/model").await.json();
    assert_eq!(served["version"], format!("{}.0.0", reloads + 1));
}

#[test]
fn in_flight_requests_keep_the_model_they_started_with() {
    let dir = tempfile::tempdir().unwrap();
    save_model(dir.path(), "1.0.0");
    let store = ModelStore::open(ModelSource::Dir(dir.path().to_owned())).unwrap();
    let in_flight = store.current();
    save_model(dir.path(), "2.0.0");
    store.reload().unwrap();
    assert_eq!(in_flight.version(), "1.0.0");
    assert_eq!(store.current().version(), "2.0.0");
}

#[test]
fn a_missing_or_corrupt_model_is_refused_with_the_reason() {
    let empty = tempfile::tempdir().unwrap();
    let err = ModelStore::open(ModelSource::Dir(empty.path().to_owned()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is missing") && err.contains("make all promote"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    save_model(dir.path(), "1.0.0");
    corrupt(&dir.path().join("preprocessor.json"));
    let err = ModelStore::open(ModelSource::Dir(dir.path().to_owned()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("preprocessor.json") && err.contains("checksum"),
        "{err}"
    );
}

#[test]
fn a_model_promoted_into_current_is_found() {
    let dir = tempfile::tempdir().unwrap();
    save_model(&dir.path().join("current"), "1.0.0");
    let store = ModelStore::open(ModelSource::Dir(dir.path().to_owned())).unwrap();
    assert_eq!(store.current().dir, dir.path().join("current"));
}

/// Flips one byte, as disk corruption or a hand edit would.
fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}
