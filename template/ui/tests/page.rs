//! The UI's routes, in process, against a fake API on a loopback port.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{GENTOO_FORM, GENTOO_MASS_FORM, closed_api, fake_api, fake_regression_api};
use http_body_util::BodyExt;
use serde_json::json;
use std::time::Duration;
use tower::ServiceExt;

use {{crate_name}}_ui::client::ApiClient;
use {{crate_name}}_ui::routes::router;

fn ui(api_url: &str) -> Router {
    router(ApiClient::new(api_url, Duration::from_secs(2)))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

async fn submit(app: &Router, form: &str) -> (StatusCode, String) {
    let request = Request::post("/predict")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    let (status, _, html) = send(app, request).await;
    (status, html)
}

#[tokio::test]
async fn the_form_is_built_from_the_api_schema() {
    let app = ui(&fake_api().await.url);
    let (status, headers, html) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    for expected in [
        r#"<select id="field-island" name="island""#,
        r#"<option value="Biscoe" selected>Biscoe</option>"#,
        r#"<input id="field-bill_length_mm" name="bill_length_mm" type="number" step="any" min="20" max="80" data-unit="mm" value="44.45""#,
        r#"<label for="field-body_mass_g">Body mass (g)</label>"#,
        r#"id="predict-button""#,
        r#"id="model-version">Model <strong>penguins</strong> version <strong>1.2.3</strong>"#,
    ] {
        assert!(html.contains(expected), "missing {expected} in\n{html}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is loaded from elsewhere"
    );
}

#[tokio::test]
async fn metrics_count_the_page_requests_per_route() {
    let app = ui(&fake_api().await.url);
    send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    let (status, headers, text) =
        send(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    for expected in [
        r#"http_requests_total{method="GET",route="/",status="200"}"#,
        r#"http_request_duration_seconds_bucket{method="GET",route="/",le="0.1"}"#,
        "process_resident_memory_bytes ",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
}

#[tokio::test]
async fn the_page_request_id_reaches_the_api_and_comes_back() {
    let api = fake_api().await;
    let app = ui(&api.url);
    let request = Request::post("/predict")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-request-id", "page-42")
        .body(Body::from(GENTOO_FORM))
        .unwrap();
    let (status, headers, html) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(headers["x-request-id"], "page-42");
    assert_eq!(api.request_ids(), [Some("page-42".to_owned())]);

    // Without one, the UI makes an id, answers with it and sends it on.
    let request = Request::post("/predict")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(GENTOO_FORM))
        .unwrap();
    let (_, headers, _) = send(&app, request).await;
    let made = headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    assert_eq!(api.request_ids()[1].as_deref(), Some(made.as_str()));
}

#[tokio::test]
async fn a_submission_shows_the_species_probabilities_and_version() {
    let api = fake_api().await;
    let app = ui(&api.url);
    let (status, html) = submit(&app, GENTOO_FORM).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        api.received(),
        [json!({"island": "Biscoe", "bill_length_mm": 47.5, "body_mass_g": 5200.0})],
        "the UI sends a numeric field as a JSON number and other text as typed"
    );
    assert!(
        html.contains(r#"<strong id="result-prediction">Gentoo</strong>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"id="prob-Gentoo""#) && html.contains("width: 95.0%"),
        "{html}"
    );
    assert!(
        html.contains(r#"id="prob-Adelie""#) && html.contains("2.0%"),
        "{html}"
    );
    assert!(html.contains("Answered by model penguins version 1.2.3"));
    assert!(
        html.contains(r#"value="47.5""#),
        "the submitted values stay in the form"
    );
}

#[tokio::test]
async fn a_regression_submission_shows_the_number_with_its_unit_and_no_bars() {
    let api = fake_regression_api().await;
    let app = ui(&api.url);
    let (status, _, form) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains(r#"<select id="field-species" name="species""#),
        "{form}"
    );
    let (status, html) = submit(&app, GENTOO_MASS_FORM).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(
        api.received(),
        [json!({"species": "Gentoo", "island": "Biscoe", "bill_length_mm": 47.5})]
    );
    assert!(
        html.contains(
            r#"<h2>Predicted body_mass_g: <strong id="result-prediction">5257.46 g</strong></h2>"#
        ),
        "{html}"
    );
    assert!(
        !html.contains("data-probability") && !html.contains(r#"id="probabilities""#),
        "no probability bars for a number: {html}"
    );
    assert!(html.contains("Answered by model penguins-body-mass version 2.0.0"));
    assert!(
        html.contains(r#"<option value="Gentoo" selected>"#),
        "the submitted values stay in the form"
    );
}

#[tokio::test]
async fn an_input_the_api_refuses_is_shown_at_its_field() {
    let app = ui(&fake_api().await.url);
    let (status, html) = submit(&app, "island=Atlantis&bill_length_mm=47.5&body_mass_g=5200").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(r#"id="api-error""#) && html.contains("refused the input"),
        "{html}"
    );
    assert!(
        html.contains(r#"<span id="error-island" class="error" aria-live="polite">field `island`: unknown category `Atlantis`"#),
        "{html}"
    );
    assert!(!html.contains(r#"id="result""#));
}

#[tokio::test]
async fn an_api_failure_is_explained() {
    let app = ui(&fake_api().await.url);
    let (status, html) = submit(&app, "island=Biscoe&bill_length_mm=47.5&body_mass_g=5555").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        html.contains("No prediction") && html.contains("500"),
        "{html}"
    );
}

#[tokio::test]
async fn a_down_api_gives_a_clear_message_instead_of_the_form() {
    let url = closed_api();
    let app = ui(&url);
    for request in [
        Request::get("/").body(Body::empty()).unwrap(),
        Request::post("/predict")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(GENTOO_FORM))
            .unwrap(),
    ] {
        let (status, _, html) = send(&app, request).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(html.contains(r#"id="api-error""#), "{html}");
        assert!(
            html.contains(&format!("the model API at {url} is not reachable")),
            "{html}"
        );
        assert!(html.contains("UI_API_URL"));
        assert!(!html.contains(r#"id="predict-form""#));
    }
}

#[tokio::test]
async fn health_does_not_depend_on_the_api() {
    let app = ui(&closed_api());
    let (status, _, body) = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
}
