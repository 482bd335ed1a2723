//! Settings of the API server.
//!
//! Precedence: command-line flag > environment variable > `config/.env` > built-in default; the
//! loading and the parsers shared with every binary are in `{{crate_name}}_settings`.

use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

// One import per line: the crate name in the path makes a long list wrap differently per project.
{%- if mlflow %}
use {{crate_name}}::config::TrackingServer;
{%- endif %}
use {{crate_name}}::storage::Folder;
use {{crate_name}}::storage::parse_folder;
use {{crate_name}}_settings::LogSettings;
use {{crate_name}}_settings::PRECEDENCE;
use {{crate_name}}_settings::parse_ip;
use {{crate_name}}_settings::parse_non_negative;
use {{crate_name}}_settings::parse_port;
use {{crate_name}}_settings::parse_positive;
{%- if mlflow %}
use {{crate_name}}_tracking::ModelUri;
use {{crate_name}}_tracking::settings::parse_model_uri;
{%- endif %}

/// Serves the promoted model over HTTP: predictions, metadata, health, metrics and API docs.
#[derive(Debug, Clone, Parser)]
#[command(version, after_help = PRECEDENCE)]
pub struct Config {
    /// Address of the interface to listen on (0.0.0.0 for every interface).
    #[arg(long, env = "API_HOST", value_name = "API_HOST", default_value = "127.0.0.1", value_parser = parse_ip)]
    pub host: IpAddr,

    /// TCP port to listen on.
    #[arg(long, env = "API_PORT", value_name = "API_PORT", default_value_t = 8080, value_parser = parse_port)]
    pub port: u16,

    /// The promoted model directory (or a directory whose `current/` subdirectory is the model): a
    /// path, or an s3://, gs:// or az:// URL (feature `cloud`).
    #[arg(
        long,
        env = "API_MODEL_DIR",
        value_name = "API_MODEL_DIR",
        default_value = "api/models",
        value_parser = parse_folder
    )]
    pub model_dir: Folder,
{%- if mlflow %}

    /// Serve the version that an alias of MLflow's model registry points at, downloaded from the
    /// server MLFLOW_TRACKING_URI, instead of API_MODEL_DIR: models:/<registered model>@<alias>
    #[arg(
        long,
        env = "API_MODEL_URI",
        value_name = "API_MODEL_URI",
        requires = "tracking_uri",
        value_parser = parse_model_uri
    )]
    pub model_uri: Option<ModelUri>,

    /// Seconds between two checks of API_MODEL_URI's alias; a version it moved to is downloaded
    /// and served. 0: only on POST /v1/admin/reload or SIGHUP.
    #[arg(long, env = "API_MODEL_POLL_SECS", value_name = "API_MODEL_POLL_SECS", default_value_t = 30, value_parser = parse_non_negative::<u64>)]
    pub model_poll_secs: u64,

    #[command(flatten)]
    pub tracking: TrackingServer,
{%- endif %}

    /// Maximum number of records in one POST /v1/predict/batch request.
    #[arg(long, env = "API_MAX_BATCH", value_name = "API_MAX_BATCH", default_value_t = 1000, value_parser = parse_positive::<usize>)]
    pub max_batch: usize,

    /// Maximum size of a request body in bytes; larger requests get 413.
    #[arg(long, env = "API_MAX_BODY_BYTES", value_name = "API_MAX_BODY_BYTES", default_value_t = 1_048_576, value_parser = parse_positive::<usize>)]
    pub max_body_bytes: usize,

    /// Seconds a request may take before it is answered with 408.
    #[arg(long, env = "API_REQUEST_TIMEOUT_SECS", value_name = "API_REQUEST_TIMEOUT_SECS", default_value_t = 10, value_parser = parse_positive::<usize>)]
    pub request_timeout_secs: usize,

    /// Seconds the server keeps serving after SIGTERM while /ready answers 503, so that load
    /// balancers stop sending traffic before it stops accepting connections; 0 stops at once.
    #[arg(long, env = "API_DRAIN_SECS", value_name = "API_DRAIN_SECS", default_value_t = 5, value_parser = parse_non_negative::<u64>)]
    pub drain_secs: u64,

    /// Browser origins allowed to call the API (CORS): comma-separated `http(s)://host[:port]`, or
    /// `*` for any. Empty: no CORS headers, so only same-origin pages and non-browser clients.
    #[arg(long, env = "API_CORS_ORIGINS", value_name = "API_CORS_ORIGINS", default_value = "", value_parser = parse_origins)]
    pub cors_origins: CorsOrigins,

    /// Bearer token that authorises POST /v1/admin/reload. Unset: the endpoint is disabled.
    #[arg(
        long,
        env = "API_ADMIN_TOKEN",
        value_name = "API_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    #[command(flatten)]
    pub log: LogSettings,

    /// Check the /health of the server configured by API_HOST and API_PORT, then exit 0 if it is
    /// healthy, 1 if not. For container health checks (the runtime image has no curl).
    #[arg(long)]
    pub healthcheck: bool,
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No CORS headers at all.
    None,
    /// `Access-Control-Allow-Origin: *`.
    Any,
    /// Exactly these origins.
    List(Vec<String>),
}

impl Config {
    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs as u64)
    }

    /// How long to keep serving after a stop signal.
    pub fn drain_period(&self) -> Duration {
        Duration::from_secs(self.drain_secs)
    }
}

impl {{crate_name}}_service::Settings for Config {
    fn addr(&self) -> SocketAddr {
        self.addr()
    }

    fn healthcheck(&self) -> bool {
        self.healthcheck
    }

    fn log(&self) -> &LogSettings {
        &self.log
    }
}

fn parse_origins(value: &str) -> Result<CorsOrigins, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if value == "*" {
        return Ok(CorsOrigins::Any);
    }
    let origins: Vec<String> = value
        .split(',')
        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
        .filter(|origin| !origin.is_empty())
        .collect();
    for origin in &origins {
        let rest = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        let valid = rest.is_some_and(|host| {
            !host.is_empty()
                && !host.contains('/')
                && axum::http::HeaderValue::from_str(origin).is_ok()
        });
        if !valid {
            return Err(format!(
                "`{origin}` is not an origin: expected `*` or comma-separated origins such as https://example.org or http://localhost:3000"
            ));
        }
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    use {{crate_name}}_settings::check_env_file;

    #[test]
    fn env_example_documents_and_accepts_every_setting() {
        let example = include_str!("../../config/.env.example");
        check_env_file(Config::command(), example).unwrap();
    }

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        let mut argv = vec!["api"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv)
    }

    #[test]
    fn flags_are_parsed() {
        let config = parse(&[
            "--host",
            "0.0.0.0",
            "--port",
            "9000",
            "--max-batch",
            "5",
            "--cors-origins",
            "http://localhost:3000, https://example.org/",
        ])
        .unwrap();
        assert_eq!(config.addr().to_string(), "0.0.0.0:9000");
        assert_eq!(config.max_batch, 5);
        assert_eq!(
            config.cors_origins,
            CorsOrigins::List(vec![
                "http://localhost:3000".into(),
                "https://example.org".into()
            ])
        );
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_expected_form() {
        for (args, expected) in [
            (&["--port", "http"][..], "expected a TCP port"),
            (&["--port", "0"], "expected a TCP port"),
            (&["--host", "localhost"], "expected an IP address"),
            (&["--max-batch", "0"], "expected a positive whole number"),
            (
                &["--request-timeout-secs", "soon"],
                "expected a positive whole number",
            ),
            (&["--cors-origins", "example.org"], "is not an origin"),
        ] {
            let message = parse(args).unwrap_err().to_string();
            assert!(message.contains(expected), "{args:?}: {message}");
            let setting = args[0]
                .trim_start_matches("--")
                .replace('-', "_")
                .to_uppercase();
            assert!(message.contains(&format!("API_{setting}")), "{message}");
        }
    }

    #[test]
    fn cors_accepts_nothing_any_or_a_list() {
        assert_eq!(parse_origins(" ").unwrap(), CorsOrigins::None);
        assert_eq!(parse_origins("*").unwrap(), CorsOrigins::Any);
        assert!(parse_origins("ftp://example.org").is_err());
    }
}
