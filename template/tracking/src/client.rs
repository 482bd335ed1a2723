//! [`MlflowClient`]: one method per REST call, blocking, over ureq.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;
use ureq::Agent;

use crate::settings::parse_tracking_uri;
use crate::types::*;

/// The tracking and registry API, below the server's root.
const API: &str = "/api/2.0/mlflow";
/// The artifact proxy (`mlflow server --serve-artifacts`, the default since MLflow 2.0).
const ARTIFACTS: &str = "/api/2.0/mlflow-artifacts/artifacts";

/// The MLflow error code of a request about something that does not exist.
pub const RESOURCE_DOES_NOT_EXIST: &str = "RESOURCE_DOES_NOT_EXIST";
/// The MLflow error code of a request creating something that exists already.
pub const RESOURCE_ALREADY_EXISTS: &str = "RESOURCE_ALREADY_EXISTS";

/// A request that failed. Every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{uri}` is not an MLflow tracking URI: {message}")]
    InvalidUri { uri: String, message: String },
    /// No answer: connection refused, unknown host, timeout, TLS failure.
    #[error("unreachable: {message}")]
    Unreachable { message: String },
    /// MLflow refused the request and said why.
    #[error("{endpoint}: {code}: {message}")]
    Api {
        endpoint: String,
        status: u16,
        code: String,
        message: String,
    },
    /// An error status without MLflow's error body: another server, or a proxy in front of it.
    #[error("{endpoint}: HTTP {status} without an MLflow error{}", auth_hint(*status))]
    NotMlflow { endpoint: String, status: u16 },
    /// A success status with a body that is not the expected JSON.
    #[error("{endpoint}: unexpected answer ({message})")]
    BadResponse { endpoint: String, message: String },
    #[error(
        "artifact location {uri} is not served through the tracking server (expected mlflow-artifacts:/...): run the server with --serve-artifacts"
    )]
    NotProxied { uri: String },
}

fn auth_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (the server wants credentials, which this client does not send)",
        _ => " (is this an MLflow tracking server?)",
    }
}

impl Error {
    /// MLflow's error code (such as [`RESOURCE_DOES_NOT_EXIST`]) when the server refused the request.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A client of one MLflow tracking server: experiments, runs, artifacts and the model registry.
#[derive(Debug, Clone)]
pub struct MlflowClient {
    /// `http(s)://host[:port][/prefix]`, without a trailing `/`.
    base: String,
    agent: Agent,
}

impl MlflowClient {
    /// A client of the server at `tracking_uri` (`http(s)://...`). Nothing is sent yet.
    pub fn new(tracking_uri: &str) -> Result<Self, Error> {
        let base = parse_tracking_uri(tracking_uri).map_err(|message| Error::InvalidUri {
            uri: tracking_uri.to_owned(),
            message,
        })?;
        let agent = Agent::config_builder()
            // Error statuses carry MLflow's error body, which says what went wrong.
            .http_status_as_error(false)
            // A server that is down or unroutable fails a pipeline step in seconds, not minutes.
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Self { base, agent })
    }

    /// The server's URL, as given (without a trailing `/`).
    pub fn tracking_uri(&self) -> &str {
        &self.base
    }

    /// The ID of the experiment named `name`, if there is one.
    pub fn experiment_id_by_name(&self, name: &str) -> Result<Option<String>, Error> {
        let found =
            self.get::<ExperimentResponse>("experiments/get-by-name", &[("experiment_name", name)]);
        match found {
            Ok(response) => Ok(Some(response.experiment.experiment_id)),
            Err(err) if err.code() == Some(RESOURCE_DOES_NOT_EXIST) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Creates the experiment `name` (artifacts in the server's default location); returns its ID.
    pub fn create_experiment(&self, name: &str) -> Result<String, Error> {
        self.post::<_, ExperimentId>("experiments/create", &CreateExperiment { name })
            .map(|created| created.experiment_id)
    }

    /// The ID of the experiment `name`, created if it does not exist yet.
    pub fn get_or_create_experiment(&self, name: &str) -> Result<String, Error> {
        if let Some(id) = self.experiment_id_by_name(name)? {
            return Ok(id);
        }
        match self.create_experiment(name) {
            // Another client created it in between.
            Err(err) if err.code() == Some(RESOURCE_ALREADY_EXISTS) => {
                self.experiment_id_by_name(name)?.ok_or(err)
            }
            created => created,
        }
    }

    /// Starts a run (status RUNNING) in an experiment; `start_time` in milliseconds since the epoch.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        start_time: i64,
        tags: &[Tag],
    ) -> Result<RunInfo, Error> {
        let request = CreateRun {
            experiment_id,
            run_name,
            start_time,
            tags,
        };
        self.post::<_, RunResponse>("runs/create", &request)
            .map(|response| response.run.info)
    }

    /// A run's identity, status and artifact location.
    pub fn get_run(&self, run_id: &str) -> Result<RunInfo, Error> {
        self.get::<RunResponse>("runs/get", &[("run_id", run_id)])
            .map(|response| response.run.info)
    }

    /// Logs metrics, params and tags to a run in one request (within MLflow's [`Batch`] limits).
    pub fn log_batch(&self, run_id: &str, batch: &Batch) -> Result<(), Error> {
        self.post::<_, Ignored>("runs/log-batch", &LogBatch { run_id, batch })
            .map(drop)
    }

    /// Sets a run's status and end time (milliseconds since the epoch).
    pub fn update_run(
        &self,
        run_id: &str,
        status: RunStatus,
        end_time: i64,
    ) -> Result<RunInfo, Error> {
        let request = UpdateRun {
            run_id,
            status,
            end_time,
        };
        self.post::<_, RunInfoResponse>("runs/update", &request)
            .map(|response| response.run_info)
    }

    /// Uploads `bytes` as the artifact `path` (`/`-separated) below `artifact_uri`, a run's
    /// artifact location, through the server's artifact proxy; an existing artifact is replaced.
    pub fn upload_artifact(
        &self,
        artifact_uri: &str,
        path: &str,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let url = self.artifact_url(artifact_uri, path)?;
        let endpoint = format!("PUT {path}");
        let response = self.agent.put(&url).send(bytes);
        read(&endpoint, response).map(drop)
    }

    /// Downloads the artifact `path` below `artifact_uri` (a run's artifact location, or a model
    /// version's download URI) through the server's artifact proxy.
    pub fn download_artifact(&self, artifact_uri: &str, path: &str) -> Result<Vec<u8>, Error> {
        let url = self.artifact_url(artifact_uri, path)?;
        let endpoint = format!("GET {path}");
        let response = self.agent.get(&url).call();
        read(&endpoint, response)
    }

    /// Creates the registered model `name` unless it exists.
    pub fn ensure_registered_model(&self, name: &str) -> Result<(), Error> {
        match self.post::<_, Ignored>("registered-models/create", &CreateRegisteredModel { name }) {
            Err(err) if err.code() == Some(RESOURCE_ALREADY_EXISTS) => Ok(()),
            created => created.map(drop),
        }
    }

    /// Registers a new version of `name` from `source`, an artifact location of the run `run_id`.
    pub fn create_model_version(
        &self,
        name: &str,
        source: &str,
        run_id: &str,
        tags: &[Tag],
    ) -> Result<ModelVersion, Error> {
        let request = CreateModelVersion {
            name,
            source,
            run_id,
            tags,
        };
        self.post::<_, ModelVersionResponse>("model-versions/create", &request)
            .map(|response| response.model_version)
    }

    /// The version of the registered model `name` that `alias` points at, if the alias is set.
    pub fn model_version_by_alias(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<ModelVersion>, Error> {
        // MLflow answers `registered-models/alias` for an unset alias as for a malformed request
        // (INVALID_PARAMETER_VALUE), so the alias is looked up in the registered model instead.
        let model =
            self.get::<RegisteredModelResponse>("registered-models/get", &[("name", name)])?;
        let Some(set) = model
            .registered_model
            .aliases
            .into_iter()
            .find(|set| set.alias == alias)
        else {
            return Ok(None);
        };
        self.get::<ModelVersionResponse>(
            "model-versions/get",
            &[("name", name), ("version", &set.version)],
        )
        .map(|response| Some(response.model_version))
    }

    /// Points `alias` of the registered model `name` at `version` (moving it if it is set).
    pub fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), Error> {
        let request = SetAlias {
            name,
            alias,
            version,
        };
        self.post::<_, Ignored>("registered-models/alias", &request)
            .map(drop)
    }

    /// Where the files of a model version can be downloaded from (see [`Self::download_artifact`]).
    pub fn model_version_download_uri(&self, name: &str, version: &str) -> Result<String, Error> {
        self.get::<DownloadUriResponse>(
            "model-versions/get-download-uri",
            &[("name", name), ("version", version)],
        )
        .map(|response| response.artifact_uri)
    }

    fn get<T: DeserializeOwned>(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<T, Error> {
        let mut request = self.agent.get(format!("{}{API}/{endpoint}", self.base));
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        let endpoint = format!("GET {endpoint}");
        decode(&endpoint, &read(&endpoint, request.call())?)
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = serde_json::to_vec(body)
            .expect("request bodies are plain structs of strings and numbers");
        let response = self
            .agent
            .post(format!("{}{API}/{endpoint}", self.base))
            .header("content-type", "application/json")
            .send(&body[..]);
        let endpoint = format!("POST {endpoint}");
        decode(&endpoint, &read(&endpoint, response)?)
    }

    fn artifact_url(&self, artifact_uri: &str, path: &str) -> Result<String, Error> {
        let root = proxied_root(artifact_uri)?;
        let encoded: Vec<String> = root
            .split('/')
            .chain(path.split('/'))
            .filter(|segment| !segment.is_empty())
            .map(encode_segment)
            .collect();
        Ok(format!("{}{ARTIFACTS}/{}", self.base, encoded.join("/")))
    }
}

/// The body of a successful answer; otherwise the error it stands for.
fn read(
    endpoint: &str,
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Vec<u8>, Error> {
    let unreachable = |err: ureq::Error| Error::Unreachable {
        message: err.to_string(),
    };
    let mut response = response.map_err(unreachable)?;
    let status = response.status().as_u16();
    // No size limit: an artifact is as large as the model it belongs to.
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map_err(unreachable)?;
    if response.status().is_success() {
        return Ok(body);
    }
    Err(match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(error) => Error::Api {
            endpoint: endpoint.to_owned(),
            status,
            code: error.error_code,
            // The first line says it; database errors append the SQL statement.
            message: error.message.lines().next().unwrap_or_default().to_owned(),
        },
        Err(_) => Error::NotMlflow {
            endpoint: endpoint.to_owned(),
            status,
        },
    })
}

fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|err| Error::BadResponse {
        endpoint: endpoint.to_owned(),
        message: err.to_string(),
    })
}

/// The path below the artifact proxy's root of an artifact location the tracking server serves,
/// as the server resolves it: `mlflow-artifacts:/<path>`, `mlflow-artifacts://<host>/<path>` or
/// `http(s)://<host>/.../api/2.0/mlflow-artifacts/artifacts/<path>`.
fn proxied_root(artifact_uri: &str) -> Result<&str, Error> {
    let not_proxied = || Error::NotProxied {
        uri: artifact_uri.to_owned(),
    };
    let path = if let Some(rest) = artifact_uri.strip_prefix("mlflow-artifacts:") {
        match rest.strip_prefix("//") {
            Some(authority_and_path) => authority_and_path
                .split_once('/')
                .map_or("", |(_, path)| path),
            None => rest,
        }
    } else if artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://") {
        let anchor = format!("{ARTIFACTS}/");
        artifact_uri
            .split_once(&anchor)
            .map(|(_, path)| path)
            .ok_or_else(not_proxied)?
    } else {
        return Err(not_proxied());
    };
    Ok(path.trim_matches('/'))
}

/// Percent-encodes one path segment (RFC 3986: everything but the unreserved characters).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    #[test]
    fn artifact_locations_map_to_the_proxy() {
        let client = MlflowClient::new("http://127.0.0.1:5000/").unwrap();
        assert_eq!(client.tracking_uri(), "http://127.0.0.1:5000");
        let url = |uri: &str, path: &str| client.artifact_url(uri, path).unwrap();
        let expected = "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/SHA256SUMS";
        for uri in [
            "mlflow-artifacts:/1/abc/artifacts",
            "mlflow-artifacts://mlflow.internal:5000/1/abc/artifacts/",
            "http://mlflow.internal/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ] {
            assert_eq!(url(uri, "model/SHA256SUMS"), expected, "{uri}");
        }
        assert_eq!(
            url("mlflow-artifacts:/1/abc/artifacts", "my model/a&b.json"),
            "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/my%20model/a%26b.json"
        );
        for uri in [
            "s3://bucket/1/abc/artifacts",
            "/var/mlruns/1/abc",
            "https://example.org/files/x",
        ] {
            let err = client.artifact_url(uri, "model.json").unwrap_err();
            assert!(matches!(err, Error::NotProxied { .. }), "{uri}: {err}");
        }
    }

    #[test]
    fn a_server_that_is_down_is_unreachable() {
        // A port that was just free: nothing listens on it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = MlflowClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let err = client.get_or_create_experiment("demo").unwrap_err();
        assert!(matches!(err, Error::Unreachable { .. }), "{err}");
        let message = err.to_string();
        assert!(message.starts_with("unreachable: "), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    /// Serves one canned answer per connection, in order, and returns each request's first line.
    fn serve(answers: Vec<(u16, &'static str)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for (status, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if head.is_empty() {
                        head = line.trim_end().to_owned();
                    }
                }
                let mut body_in = vec![0; length];
                reader.read_exact(&mut body_in).unwrap();
                requests.push(head);
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
            requests
        });
        (url, handle)
    }

    #[test]
    fn an_experiment_created_meanwhile_is_looked_up_again() {
        let missing =
            r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment"}"#;
        let exists = r#"{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "Experiment(name=a b&c) already exists.\n[SQL: INSERT ...]"}"#;
        let found = r#"{"experiment": {"experiment_id": "7", "name": "a b&c"}}"#;
        let (url, server) = serve(vec![(404, missing), (400, exists), (200, found)]);
        let client = MlflowClient::new(&url).unwrap();
        assert_eq!(client.get_or_create_experiment("a b&c").unwrap(), "7");
        let requests = server.join().unwrap();
        assert_eq!(
            requests,
            [
                "GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b%26c HTTP/1.1",
                "POST /api/2.0/mlflow/experiments/create HTTP/1.1",
                "GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=a%20b%26c HTTP/1.1",
            ]
        );
    }

    #[test]
    fn refusals_keep_mlflow_s_code_and_first_line() {
        let refused = r#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "Changing param values is not allowed.\nmore"}"#;
        let (url, server) = serve(vec![
            (400, refused),
            (404, "<html>Not Found</html>"),
            (401, "You are not authenticated."),
            (200, "<html>a web page</html>"),
        ]);
        let client = MlflowClient::new(&url).unwrap();
        let err = client.log_batch("r", &Batch::default()).unwrap_err();
        assert_eq!(err.code(), Some("INVALID_PARAMETER_VALUE"));
        assert_eq!(
            err.to_string(),
            "POST runs/log-batch: INVALID_PARAMETER_VALUE: Changing param values is not allowed."
        );
        let err = client.get_run("r").unwrap_err();
        assert_eq!(
            err.to_string(),
            "GET runs/get: HTTP 404 without an MLflow error (is this an MLflow tracking server?)"
        );
        assert_eq!(err.code(), None);
        let err = client.ensure_registered_model("m").unwrap_err();
        assert!(err.to_string().contains("wants credentials"), "{err}");
        let err = client.model_version_download_uri("m", "1").unwrap_err();
        assert!(matches!(err, Error::BadResponse { .. }), "{err}");
        server.join().unwrap();
    }

    #[test]
    fn an_alias_is_looked_up_in_the_registered_model() {
        let model = r#"{"registered_model": {"name": "m", "aliases": [{"alias": "champion", "version": "3"}]}}"#;
        let version = r#"{"model_version": {"name": "m", "version": "3", "source": "mlflow-artifacts:/1/r/artifacts/model", "run_id": "r", "aliases": ["champion"]}}"#;
        let (url, server) = serve(vec![(200, model), (200, version), (200, model)]);
        let client = MlflowClient::new(&url).unwrap();
        let found = client
            .model_version_by_alias("m", "champion")
            .unwrap()
            .unwrap();
        assert_eq!((found.version.as_str(), found.run_id.as_str()), ("3", "r"));
        assert_eq!(
            client.model_version_by_alias("m", "challenger").unwrap(),
            None
        );
        assert_eq!(
            server.join().unwrap(),
            [
                "GET /api/2.0/mlflow/registered-models/get?name=m HTTP/1.1",
                "GET /api/2.0/mlflow/model-versions/get?name=m&version=3 HTTP/1.1",
                "GET /api/2.0/mlflow/registered-models/get?name=m HTTP/1.1",
            ]
        );
    }
}
