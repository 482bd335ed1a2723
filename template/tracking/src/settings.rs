//! The values MLflow accepts, as clap value parsers: a bad setting is refused at start-up, in the
//! same words as every other setting, instead of by the server halfway through a step.

/// The URL of an MLflow tracking server: `http://` or `https://`, a host, an optional port and
/// path prefix. Returned without a trailing `/`.
pub fn parse_tracking_uri(value: &str) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.contains(char::is_whitespace) => {
            Ok(value.to_owned())
        }
        _ => Err(
            "expected the http(s):// URL of an MLflow tracking server, such as http://127.0.0.1:5000"
                .to_owned(),
        ),
    }
}

/// An experiment name: 1 to 500 characters (MLflow's limit).
pub fn parse_experiment_name(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 500 {
        return Err("expected a name of 1 to 500 characters".to_owned());
    }
    Ok(value.to_owned())
}

/// A registered model's alias: letters, digits, `_` or `-`, at most 255 of them, and neither
/// `latest` nor `v<number>`, which MLflow reserves.
pub fn parse_alias(value: &str) -> Result<String, String> {
    let value = value.trim();
    let word = !value.is_empty()
        && value.len() <= 255
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let reserved = value.eq_ignore_ascii_case("latest")
        || value
            .strip_prefix(['v', 'V'])
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if word && !reserved {
        Ok(value.to_owned())
    } else {
        Err("expected letters, digits, `_` or `-`, other than `latest` and `v<number>` (MLflow reserves those)".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_uris() {
        assert_eq!(
            parse_tracking_uri(" http://127.0.0.1:5000/ ").as_deref(),
            Ok("http://127.0.0.1:5000")
        );
        assert_eq!(
            parse_tracking_uri("https://mlflow.example.org/team").as_deref(),
            Ok("https://mlflow.example.org/team")
        );
        for bad in [
            "",
            "127.0.0.1:5000",
            "file:./mlruns",
            "databricks",
            "http://",
            "http:///x",
            "http://a b",
        ] {
            let err = parse_tracking_uri(bad).unwrap_err();
            assert!(
                err.contains("http(s):// URL of an MLflow tracking server"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn experiment_names_and_aliases() {
        assert_eq!(
            parse_experiment_name(" /Users/me/penguins ").as_deref(),
            Ok("/Users/me/penguins")
        );
        assert!(parse_experiment_name(" ").is_err());
        assert!(parse_experiment_name(&"x".repeat(501)).is_err());
        for good in ["champion", "challenger-2", "prod_eu", "v1a", "version1"] {
            assert_eq!(parse_alias(good).as_deref(), Ok(good));
        }
        for bad in ["", "latest", "LATEST", "v1", "V20", "a b", "a.b", "ünicode"] {
            assert!(
                parse_alias(bad).unwrap_err().contains("MLflow reserves"),
                "{bad}"
            );
        }
    }
}
