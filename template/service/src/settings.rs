//! Settings of a server binary: command-line flag > environment variable > `config/.env` >
//! built-in default.
//!
//! Each server declares its own settings with clap (flag, variable name, default); this module
//! loads them in that order and parses the kinds of value both servers share, so a bad value is
//! reported in the same words whichever server it was given to.

use clap::{Command, CommandFactory, FromArgMatches};
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

/// Loads `env_file` (if it exists) into the environment, then parses the command line into `C`.
///
/// The `.env` file is loaded without overriding variables that are already set, before the flags
/// are parsed, so clap sees one merged view. On a bad flag or setting, or `--help`, clap prints
/// the message and exits (status 2 for errors). A `.env` file that cannot be parsed is returned
/// as an error.
pub fn load<C: CommandFactory + FromArgMatches>(env_file: &Path) -> anyhow::Result<C> {
    load_env_file(env_file)?;
    let matches = ignore_empty_env(C::command()).get_matches();
    Ok(C::from_arg_matches(&matches).unwrap_or_else(|err| err.exit()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    #[test]
    fn ips_ports_and_positive_numbers() {
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
    }

    #[test]
    fn the_env_file_fills_in_unset_variables_and_empty_means_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        // Names no other test or tool uses: the environment is shared by the whole process.
        std::fs::write(&file, "SERVICE_TEST_PORT=9000\nSERVICE_TEST_HOST=\n").unwrap();
        load_env_file(&file).unwrap();
        assert_eq!(std::env::var("SERVICE_TEST_PORT").as_deref(), Ok("9000"));

        let command = Command::new("server")
            .arg(
                Arg::new("port")
                    .long("port")
                    .env("SERVICE_TEST_PORT")
                    .default_value("1")
                    .value_parser(parse_port),
            )
            .arg(
                Arg::new("host")
                    .long("host")
                    .env("SERVICE_TEST_HOST")
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
        std::fs::write(&broken, "SERVICE_TEST_BROKEN='unterminated\n").unwrap();
        let err = load_env_file(&broken).unwrap_err().to_string();
        assert!(err.starts_with("cannot read settings file "), "{err}");
    }
}
