//! The request-body extractor: JSON in, the API's own errors out.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

/// A JSON request body, parsed but not yet checked against the model: handlers give the shape
/// errors, which name where in the request a record sits.
///
/// Refused with 415 unless the content type is JSON (`application/json` or `*/*+json`), 413 above
/// API_MAX_BODY_BYTES, and 400 when it does not parse, naming the field whose value could not be
/// read (such as `NaN` or `1e999`), when there is one.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = match Bytes::from_request(request, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::BodyTooLarge);
            }
            Err(rejection) => return Err(ApiError::UnreadableBody(rejection.body_text())),
        };
        serde_json::from_slice(&bytes).map(Self).map_err(|err| {
            let field = field_before(&bytes, err.line(), err.column());
            let near = field
                .as_deref()
                .map(|field| format!(" (in field `{field}`)"))
                .unwrap_or_default();
            ApiError::MalformedJson {
                message: format!("{err}{near}"),
                field,
            }
        })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// The object key written last before a position (1-based line and column) in a JSON text.
fn field_before(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = (line_start + column).min(text.len());
    let before = text.get(..end)?;
    let colon = before.rfind(':')?;
    let key = before[..colon].trim_end().strip_suffix('"')?;
    let start = key.rfind('"')?;
    Some(key[start + 1..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_before_finds_the_key_of_an_unparsable_value() {
        let body = br#"{"island": "Dream", "bill_length_mm": NaN}"#;
        let err = serde_json::from_slice::<Value>(body).unwrap_err();
        assert_eq!(
            field_before(body, err.line(), err.column()).as_deref(),
            Some("bill_length_mm")
        );
        let body = b"{\n  \"a\": 1,\n  \"body_mass_g\": 1e999\n}";
        let err = serde_json::from_slice::<Value>(body).unwrap_err();
        assert_eq!(
            field_before(body, err.line(), err.column()).as_deref(),
            Some("body_mass_g")
        );
        assert_eq!(field_before(b"[1, 2", 1, 5), None);
    }

    #[test]
    fn json_is_recognised_by_its_media_type() {
        let headers = |value: &'static str| {
            HeaderMap::from_iter([(header::CONTENT_TYPE, value.parse().unwrap())])
        };
        for json in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
        ] {
            assert!(is_json(&headers(json)), "{json}");
        }
        assert!(!is_json(&headers("text/plain")));
        assert!(!is_json(&HeaderMap::new()));
    }
}
