//! How every binary of the project reads its settings{% if api %}, batch steps and servers alike{% endif %}:
//! command-line flag > environment variable > `config/.env` > built-in default.
//!
//! Each binary declares its settings with clap (`#[arg(long, env = "KEY", value_name = "KEY",
//! default_value = ..., value_parser = ...)]`), so a flag and its variable go through the same
//! parser and a bad value is refused with the same message, naming the variable and the expected
//! form. [`load`] puts `config/.env` under the environment and parses; the `parse_*` functions are
//! the kinds of value several binaries share.
//!
//! It depends on neither the core library nor a web framework{% if api %}: the servers use it
//! without building either{% endif %}.

pub mod logging;

pub use logging::{LogFormat, LogSettings};

use clap::{Args, Command, CommandFactory, FromArgMatches};
use std::collections::HashMap;
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

/// The `after_help` of every binary: where the settings come from.
pub const PRECEDENCE: &str = "Every flag can also be set by the environment variable shown, or in config/.env. Flags win over the environment, which wins over config/.env; an empty value means the default.";

/// Loads `env_file` (if it exists) into the environment, then parses the command line into `C`.
///
/// The `.env` file is loaded without overriding variables that are already set, before the flags
/// are parsed, so clap sees one merged view. On a bad flag or setting, or `--help`, clap prints
/// the message and exits (status 2 for errors). A `.env` file that cannot be parsed is returned
/// as an error.
pub fn load<C: CommandFactory + FromArgMatches>(env_file: &Path) -> anyhow::Result<C> {
    load_env_file(env_file)?;
    Ok(try_parse_from(std::env::args_os()).unwrap_or_else(|err| err.exit()))
}

/// Parses `args` (the program name first) into `C` with the environment as it is; an empty
/// variable means the default.
pub fn try_parse_from<C, I, T>(args: I) -> Result<C, clap::Error>
where
    C: CommandFactory + FromArgMatches,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = ignore_empty_env(C::command());
    let matches = command.try_get_matches_from_mut(args)?;
    C::from_arg_matches(&matches).map_err(|err| err.format(&mut command))
}

/// Loads `KEY=value` lines into the environment; variables already set win.
pub fn load_env_file(path: &Path) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    dotenvy::from_path(path)
        .map_err(|err| anyhow::anyhow!("cannot read settings file {}: {err}", path.display()))
}

/// `NAME=` (empty) means "use the default", as config/.env.example documents; clap would instead
/// parse the empty string, so such variables are detached from their flag.
pub fn ignore_empty_env(command: Command) -> Command {
    command.mut_args(|arg| match arg.get_env() {
        Some(name) if std::env::var_os(name).is_some_and(|value| value.is_empty()) => arg.env(None),
        _ => arg,
    })
}

/// The built-in defaults of the settings group `A`, whatever the environment says.
pub fn defaults<A: Args + FromArgMatches>() -> A {
    let command = A::augment_args(Command::new("defaults")).mut_args(|arg| arg.env(None));
    let matches = command
        .try_get_matches_from(["defaults"])
        .expect("valid defaults");
    A::from_arg_matches(&matches).expect("every setting has a default")
}

/// Every variable `command` reads (`env = "..."`), in declaration order.
pub fn env_names(command: &Command) -> Vec<String> {
    command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

/// Checks a settings file such as `config/.env.example` against `command`: every variable the
/// command reads has a `NAME=` line, and every value the file gives is accepted.
pub fn check_env_file(command: Command, text: &str) -> Result<(), String> {
    let values: HashMap<String, String> = dotenvy::from_read_iter(text.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|err| format!("the file does not parse: {err}"))?;
    let missing: Vec<String> = env_names(&command)
        .into_iter()
        .filter(|name| !values.contains_key(name))
        .collect();
    if !missing.is_empty() {
        return Err(format!("the file does not document {}", missing.join(", ")));
    }
    // The file's values become the defaults, so parsing nothing runs each through its parser.
    let command = command.mut_args(|arg| {
        let value = arg
            .get_env()
            .and_then(|name| values.get(name.to_str()?))
            .filter(|value| !value.is_empty())
            .cloned();
        match value {
            Some(value) => arg.env(None).default_value(value),
            None => arg.env(None),
        }
    });
    let name = command.get_name().to_owned();
    command
        .try_get_matches_from([name])
        .map(drop)
        .map_err(|err| err.to_string())
}

/// An address to listen on, such as `127.0.0.1` or `0.0.0.0` (a name would need a DNS lookup).
pub fn parse_ip(value: &str) -> Result<IpAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1, 0.0.0.0 or ::1".to_owned())
}

/// A TCP port to listen on; 0 (an arbitrary free port) is refused, as clients must know the port.
pub fn parse_port(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("expected a TCP port number from 1 to 65535".to_owned()),
    }
}

/// A count, size or number of seconds above zero; `_` separators are allowed (`1_048_576`).
/// Use with clap as `value_parser = parse_positive::<usize>`.
pub fn parse_positive<T: FromStr + PartialOrd + From<u8>>(value: &str) -> Result<T, String> {
    match value.trim().replace('_', "").parse::<T>() {
        Ok(n) if n > T::from(0) => Ok(n),
        _ => Err("expected a positive whole number".to_owned()),
    }
}

/// A whole number from zero up, such as a seed; `_` separators are allowed.
pub fn parse_non_negative<T: FromStr + PartialOrd + From<u8>>(value: &str) -> Result<T, String> {
    match value.trim().replace('_', "").parse::<T>() {
        Ok(n) if n >= T::from(0) => Ok(n),
        _ => Err("expected a whole number from 0 up".to_owned()),
    }
}

/// A share strictly between 0 and 1, such as the test fraction.
pub fn parse_fraction(value: &str) -> Result<f64, String> {
    parse_number(
        value,
        |x| x > 0.0 && x < 1.0,
        "a number strictly between 0 and 1",
    )
}

/// A number from 0 to 1 inclusive, such as a metric threshold.
pub fn parse_unit_interval(value: &str) -> Result<f64, String> {
    parse_number(value, |x| (0.0..=1.0).contains(&x), "a number from 0 to 1")
}

/// A finite number from 0 up, such as a penalty strength.
pub fn parse_non_negative_number(value: &str) -> Result<f64, String> {
    parse_number(value, |x| x.is_finite() && x >= 0.0, "a number from 0 up")
}

fn parse_number(value: &str, valid: fn(f64) -> bool, expected: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(x) if valid(x) => Ok(x),
        _ => Err(format!("expected {expected}")),
    }
}

/// A model name, which becomes part of a directory name: letters, digits, `-` or `_`.
pub fn parse_model_name(value: &str) -> Result<String, String> {
    parse_word(value, false).ok_or_else(|| "expected letters, digits, `-` or `_`".to_owned())
}

/// A model version: letters, digits, `.`, `-` or `_`, not starting with `.`.
pub fn parse_model_version(value: &str) -> Result<String, String> {
    parse_word(value, true).ok_or_else(|| {
        "expected letters, digits, `.`, `-` or `_`, not starting with `.`".to_owned()
    })
}

fn parse_word(value: &str, allow_dot: bool) -> Option<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && !value.starts_with('.')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (allow_dot && c == '.'));
    ok.then(|| value.to_owned())
}

/// A CSV delimiter: one ASCII character (not `"` or a line break), or the word `tab`.
pub fn parse_delimiter(value: &str) -> Result<u8, String> {
    if value.eq_ignore_ascii_case("tab") || value == "\\t" {
        return Ok(b'\t');
    }
    match value.as_bytes() {
        [byte] if byte.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r') => Ok(*byte),
        _ => Err("expected a single ASCII character, or `tab`".to_owned()),
    }
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A log filter (`RUST_LOG`): comma-separated directives, each a level, a target, or
/// `target=level`, such as `info` or `warn,my_crate=debug`.
pub fn parse_log_filter(value: &str) -> Result<String, String> {
    let level = |word: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word));
    let target = |word: &str| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
    };
    let value = value.trim();
    let valid = !value.is_empty()
        && value
            .split(',')
            .map(str::trim)
            .all(|directive| match directive.split_once('=') {
                Some((name, lvl)) => target(name) && level(lvl),
                None => level(directive) || target(directive),
            });
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "expected a log filter: a level ({}), or `target=level` directives such as `warn,my_crate=debug`",
            LEVELS.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    #[test]
    fn ips_ports_and_whole_numbers() {
        assert_eq!(parse_ip(" ::1 ").unwrap().to_string(), "::1");
        assert_eq!(parse_ip("0.0.0.0").unwrap().to_string(), "0.0.0.0");
        assert!(
            parse_ip("localhost")
                .unwrap_err()
                .contains("expected an IP address")
        );
        assert_eq!(parse_port(" 8080"), Ok(8080));
        for bad in ["0", "65536", "http", ""] {
            assert!(
                parse_port(bad).unwrap_err().contains("expected a TCP port"),
                "{bad}"
            );
        }
        assert_eq!(parse_positive::<usize>("1_048_576"), Ok(1_048_576));
        assert_eq!(parse_positive::<u64>(" 5 "), Ok(5));
        for bad in ["0", "-1", "soon", "1.5", ""] {
            let err = parse_positive::<u64>(bad).unwrap_err();
            assert_eq!(err, "expected a positive whole number", "{bad}");
        }
        assert_eq!(parse_non_negative::<u64>("0"), Ok(0));
        assert_eq!(parse_non_negative::<u64>("42"), Ok(42));
        for bad in ["-1", "4.2", "seed", ""] {
            assert!(parse_non_negative::<u64>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fractions_intervals_and_non_negative_numbers() {
        assert_eq!(parse_fraction("0.2"), Ok(0.2));
        for bad in ["0", "1", "1.5", "-0.1", "NaN", "half"] {
            let err = parse_fraction(bad).unwrap_err();
            assert_eq!(err, "expected a number strictly between 0 and 1", "{bad}");
        }
        assert_eq!(parse_unit_interval("0"), Ok(0.0));
        assert_eq!(parse_unit_interval("1"), Ok(1.0));
        for bad in ["5", "-0.5", "NaN", ""] {
            let err = parse_unit_interval(bad).unwrap_err();
            assert_eq!(err, "expected a number from 0 to 1", "{bad}");
        }
        assert_eq!(parse_non_negative_number("0"), Ok(0.0));
        for bad in ["-1", "inf", "NaN", "x"] {
            assert!(parse_non_negative_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_versions_delimiters_and_log_filters() {
        assert_eq!(
            parse_model_name("penguins_v2-a").as_deref(),
            Ok("penguins_v2-a")
        );
        for bad in ["../x", "a.b", "a b", "", ".hidden", "a/b"] {
            assert!(parse_model_name(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_model_version("1.2.0-rc1").as_deref(), Ok("1.2.0-rc1"));
        for bad in ["..", ".1", "1/2", ""] {
            assert!(parse_model_version(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_delimiter(";"), Ok(b';'));
        assert_eq!(parse_delimiter("TAB"), Ok(b'\t'));
        for bad in ["", ";;", "\"", "é"] {
            assert!(parse_delimiter(bad).is_err(), "{bad}");
        }
        for good in [
            "info",
            "WARN",
            "warn,my_crate=debug",
            "tower_http=trace",
            "a::b",
        ] {
            assert!(parse_log_filter(good).is_ok(), "{good}");
        }
        for bad in ["", "info,=debug", "my_crate=loud", "a b", "[span]=debug"] {
            assert!(
                parse_log_filter(bad).unwrap_err().contains("a log filter"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_env_file_fills_in_unset_variables_and_empty_means_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        // Names no other test or tool uses: the environment is shared by the whole process.
        std::fs::write(&file, "SETTINGS_TEST_PORT=9000\nSETTINGS_TEST_HOST=\n").unwrap();
        load_env_file(&file).unwrap();
        assert_eq!(std::env::var("SETTINGS_TEST_PORT").as_deref(), Ok("9000"));

        let command = Command::new("server")
            .arg(
                Arg::new("port")
                    .long("port")
                    .env("SETTINGS_TEST_PORT")
                    .default_value("1")
                    .value_parser(parse_port),
            )
            .arg(
                Arg::new("host")
                    .long("host")
                    .env("SETTINGS_TEST_HOST")
                    .default_value("127.0.0.1")
                    .value_parser(parse_ip),
            );
        let matches = ignore_empty_env(command)
            .try_get_matches_from(["server"])
            .unwrap();
        assert_eq!(matches.get_one::<u16>("port"), Some(&9000));
        assert_eq!(
            matches.get_one::<IpAddr>("host").unwrap().to_string(),
            "127.0.0.1"
        );
    }

    #[test]
    fn a_missing_env_file_is_fine_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_env_file(&dir.path().join("absent.env")).is_ok());
        let broken = dir.path().join(".env");
        std::fs::write(&broken, "SETTINGS_TEST_BROKEN='unterminated\n").unwrap();
        let err = load_env_file(&broken).unwrap_err().to_string();
        assert!(err.starts_with("cannot read settings file "), "{err}");
    }

    #[test]
    fn a_settings_file_must_document_and_accept_every_variable() {
        let command = || {
            Command::new("server").arg(
                Arg::new("port")
                    .long("port")
                    .env("SETTINGS_TEST_EXAMPLE_PORT")
                    .default_value("1")
                    .value_parser(parse_port),
            )
        };
        assert_eq!(
            check_env_file(command(), "SETTINGS_TEST_EXAMPLE_PORT=\n"),
            Ok(())
        );
        assert_eq!(
            check_env_file(command(), "SETTINGS_TEST_EXAMPLE_PORT=80\n"),
            Ok(())
        );
        let err = check_env_file(command(), "# nothing\n").unwrap_err();
        assert!(
            err.contains("does not document SETTINGS_TEST_EXAMPLE_PORT"),
            "{err}"
        );
        let err = check_env_file(command(), "SETTINGS_TEST_EXAMPLE_PORT=0\n").unwrap_err();
        assert!(err.contains("expected a TCP port"), "{err}");
        assert_eq!(env_names(&command()), ["SETTINGS_TEST_EXAMPLE_PORT"]);
    }
}
