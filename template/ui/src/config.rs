//! Settings of the web UI.
//!
//! Precedence: command-line flag > environment variable > `config/.env` > built-in default; the
//! loading and the parsers shared with every binary are in `{{crate_name}}_settings`.

use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

// One import per line: the crate name in the path makes a long list wrap differently per project.
use {{crate_name}}_settings::LogSettings;
use {{crate_name}}_settings::PRECEDENCE;
use {{crate_name}}_settings::parse_ip;
use {{crate_name}}_settings::parse_port;
use {{crate_name}}_settings::parse_positive;

/// Serves a web page where people enter a record and see the model's prediction, through the API.
#[derive(Debug, Clone, Parser)]
#[command(version, after_help = PRECEDENCE)]
pub struct Config {
    /// Address of the interface to listen on (0.0.0.0 for every interface).
    #[arg(long, env = "UI_HOST", value_name = "UI_HOST", default_value = "127.0.0.1", value_parser = parse_ip)]
    pub host: IpAddr,

    /// TCP port to listen on.
    #[arg(long, env = "UI_PORT", value_name = "UI_PORT", default_value_t = 3000, value_parser = parse_port)]
    pub port: u16,

    /// Base URL of the model API. The page calls it from the server, so browsers need no CORS.
    #[arg(long, env = "UI_API_URL", value_name = "UI_API_URL", default_value = "http://127.0.0.1:8080", value_parser = parse_api_url)]
    pub api_url: String,

    /// Seconds to wait for the API before showing that it is unavailable.
    #[arg(long, env = "UI_API_TIMEOUT_SECS", value_name = "UI_API_TIMEOUT_SECS", default_value_t = 5, value_parser = parse_positive::<u64>)]
    pub api_timeout_secs: u64,

    #[command(flatten)]
    pub log: LogSettings,

    /// Check the /health of the UI configured by UI_HOST and UI_PORT, then exit 0 if it is
    /// healthy, 1 if not. For container health checks (the runtime image has no curl).
    #[arg(long)]
    pub healthcheck: bool,
}

impl Config {
    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// How long to wait for an API answer.
    pub fn api_timeout(&self) -> Duration {
        Duration::from_secs(self.api_timeout_secs)
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

/// A plain-http base URL without a trailing slash. (https would need a TLS stack in this binary;
/// the API is normally reached over a private network, with TLS terminated in front of the UI.)
fn parse_api_url(value: &str) -> Result<String, String> {
    let url = value.trim().trim_end_matches('/');
    let valid = url
        .strip_prefix("http://")
        .is_some_and(|rest| !rest.is_empty() && url.parse::<hyper::Uri>().is_ok());
    if valid {
        Ok(url.to_owned())
    } else {
        Err(
            "expected an http:// URL such as http://127.0.0.1:8080 (https is not supported)"
                .to_owned(),
        )
    }
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
        let mut argv = vec!["ui"];
        argv.extend_from_slice(args);
        Config::try_parse_from(argv)
    }

    #[test]
    fn flags_are_parsed() {
        let config = parse(&["--port", "3001", "--api-url", "http://api:8080/"]).unwrap();
        assert_eq!(config.addr().to_string(), "127.0.0.1:3001");
        assert_eq!(config.api_url, "http://api:8080");
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_expected_form() {
        for (args, setting, expected) in [
            (&["--port", "web"][..], "UI_PORT", "expected a TCP port"),
            (&["--host", "my host"], "UI_HOST", "expected an IP address"),
            (
                &["--api-url", "https://api"],
                "UI_API_URL",
                "https is not supported",
            ),
            (
                &["--api-url", "api:8080"],
                "UI_API_URL",
                "expected an http:// URL",
            ),
            (
                &["--api-timeout-secs", "0"],
                "UI_API_TIMEOUT_SECS",
                "positive whole number",
            ),
        ] {
            let message = parse(args).unwrap_err().to_string();
            assert!(
                message.contains(setting) && message.contains(expected),
                "{message}"
            );
        }
    }
}
