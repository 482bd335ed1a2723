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

/// A registered model's version named by an alias, as MLflow writes it: `models:/<name>@<alias>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUri {
    pub name: String,
    pub alias: String,
}

impl std::fmt::Display for ModelUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "models:/{}@{}", self.name, self.alias)
    }
}

/// A `models:/<name>@<alias>` URI (see [`parse_alias`] for the alias).
pub fn parse_model_uri(value: &str) -> Result<ModelUri, String> {
    let expected = || {
        "expected models:/<registered model>@<alias>, such as models:/penguins@champion".to_owned()
    };
    let (name, alias) = value
        .trim()
        .strip_prefix("models:/")
        .and_then(|rest| rest.rsplit_once('@'))
        .ok_or_else(expected)?;
    if name.is_empty() || name.contains(['/', '@']) || name.contains(char::is_whitespace) {
        return Err(expected());
    }
    let alias =
        parse_alias(alias).map_err(|message| format!("{}; the alias: {message}", expected()))?;
    Ok(ModelUri {
        name: name.to_owned(),
        alias,
    })
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

    #[test]
    fn model_uris_name_a_registered_model_and_an_alias() {
        let uri = parse_model_uri(" models:/penguins-api@champion ").unwrap();
        assert_eq!(
            (uri.name.as_str(), uri.alias.as_str()),
            ("penguins-api", "champion")
        );
        assert_eq!(uri.to_string(), "models:/penguins-api@champion");
        for bad in [
            "",
            "penguins@champion",
            "models:/penguins",
            "models:/penguins/3",
            "models:/@champion",
            "models:/a/b@champion",
            "runs:/abc/model",
        ] {
            let err = parse_model_uri(bad).unwrap_err();
            assert!(
                err.starts_with("expected models:/<registered model>@<alias>"),
                "{bad}: {err}"
            );
        }
        let err = parse_model_uri("models:/penguins@latest").unwrap_err();
        assert!(err.contains("MLflow reserves"), "{err}");
    }
}
