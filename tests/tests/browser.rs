//! The slow tier's browser test (`cargo test --test browser -- --ignored`): a project generated
//! from the full preset trains and promotes a model, its API and web UI run on free loopback
//! ports, and headless Chromium fills in the form the way a person would. The page must show the
//! species the API predicts for the same record, a probability bar per class and the model
//! version, and must show a field error for an out-of-range value, both from the page's own
//! validation and from the API's. Then the project switches to the README's regression example,
//! and the page must show the number the API predicts, with its unit.
//!
//! Chromium is driven over WebDriver (Debian's chromium and chromium-driver, installed by
//! tests/browser/install.sh): `Browser` below is a thin typed layer of the WebDriver calls the test
//! makes, over ureq. Screenshots are kept in target/browser/.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use template_tests::{generate_ok, repo_root, run, shared_target_dir};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The name of the generated project: its own, so that no other test of the shared target
/// directory overwrites its api and ui binaries while they are being started.
const PROJECT: &str = "browser-project";

/// A penguin whose measurements are far from the form's pre-filled typical values, so the test
/// sees its own input go through rather than the defaults.
const RECORD: [(&str, &str); 6] = [
    ("island", "Biscoe"),
    ("bill_length_mm", "47.5"),
    ("bill_depth_mm", "14.8"),
    ("flipper_length_mm", "217"),
    ("body_mass_g", "5200"),
    ("sex", "male"),
];

/// The same penguin for the regression example, which predicts its body mass from its species.
const REGRESSION_RECORD: [(&str, &str); 6] = [
    ("species", "Gentoo"),
    ("island", "Biscoe"),
    ("bill_length_mm", "47.5"),
    ("bill_depth_mm", "14.8"),
    ("flipper_length_mm", "217"),
    ("sex", "male"),
];

#[test]
#[ignore = "slow: builds a generated project and drives its web UI in headless Chromium"]
fn the_web_ui_shows_the_api_prediction_in_a_real_browser() {
    let started = Instant::now();
    for program in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: run tests/browser/install.sh (Debian packages chromium and chromium-driver)"
        );
    }
    let screenshots = repo_root().join("target").join("browser");
    std::fs::create_dir_all(&screenshots).expect("target/browser");

    let values_file = repo_root().join("examples").join("full.toml");
    let project = generate_ok(
        PROJECT,
        &["--values-file".into(), values_file.display().to_string()],
    );
    let dir = &project.dir;
    run(dir, "make", &["data", "train", "evaluate", "promote"]);
    run(dir, "cargo", &["build", "--workspace"]);
    let logs = tempfile::tempdir().expect("temp dir");
    let servers = Servers::start(dir, logs.path());
    let (api_addr, ui_addr) = (servers.api_addr, servers.ui_addr);

    // What the API itself says, for the page to agree with.
    let model = json_of(&http(api_addr, "GET", "/v1/model", None));
    let classes: Vec<String> = model["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| c.as_str().expect("class").to_owned())
        .collect();
    let version = model["version"].as_str().expect("version").to_owned();
    let fields = model["fields"].as_array().expect("fields");
    let record: BTreeMap<&str, &str> = RECORD.into_iter().collect();
    for field in fields {
        let name = field["name"].as_str().expect("field name");
        assert!(
            record.contains_key(name),
            "the model has a field {name} the test's record lacks"
        );
    }
    let body = typed_record(fields, &record);
    assert!(
        fields.iter().any(|field| {
            let default = &field["default"];
            let typed = &body[field["name"].as_str().expect("field name")];
            default
                .as_f64()
                .zip(typed.as_f64())
                .map_or(default != typed, |(d, t)| (d - t).abs() > 0.01)
        }),
        "the record differs from the form's pre-filled values, so the page must use what is typed"
    );
    let expected = json_of(&http(
        api_addr,
        "POST",
        "/v1/predict",
        Some(&body.to_string()),
    ));
    let expected_class = expected["prediction"].as_str().expect("prediction");
    eprintln!("the API predicts {expected_class} for {body}");

    let driver = ChromeDriver::start(logs.path());
    let browser = driver.session();
    browser.navigate(&format!("http://{ui_addr}/"));
    browser.find("#predict-form");
    let shown_version = browser.text(&browser.find("#model-version"));
    assert!(
        shown_version.contains(&version),
        "#model-version shows {shown_version:?}, not the API's version {version}"
    );

    fill_in(&browser, fields, &record);
    for field in fields {
        let name = field["name"].as_str().expect("field name");
        let control = browser.find(&format!("#field-{name}"));
        assert_eq!(
            browser.property(&control, "value"),
            json!(record[name]),
            "#field-{name} holds what was typed"
        );
    }
    browser.screenshot(&screenshots.join("form.png"));

    // Submitted: the result is the API's.
    browser.click(&browser.find("#predict-button"));
    let prediction = browser.wait_for("#result-prediction");
    let shown_class = browser.text(&prediction);
    assert_eq!(
        shown_class, expected_class,
        "the page shows the species the API predicts for the same record"
    );
    assert!(
        browser.find_all("#api-error").is_empty(),
        "no error banner with a prediction"
    );
    for class in &classes {
        let bar = browser
            .find_all(&format!("#prob-{}", id_fragment(class)))
            .pop()
            .unwrap_or_else(|| panic!("no probability bar for class {class}"));
        let shown: f64 = browser
            .attribute(&bar, "data-probability")
            .parse()
            .expect("data-probability is a number");
        let api = expected["probabilities"][class.as_str()]
            .as_f64()
            .unwrap_or(0.0);
        assert!(
            (shown - api).abs() < 1e-5,
            "the bar of {class} shows {shown}, the API says {api}"
        );
        assert!(
            browser.text(&bar).contains(class.as_str()),
            "the bar of {class} is labelled"
        );
    }
    let result = browser.text(&browser.find("#result"));
    assert!(
        result.contains(&version),
        "the result names the model version {version}: {result}"
    );
    browser.screenshot(&screenshots.join("result.png"));

    // An out-of-range value: the page's own validation stops it and says why.
    let (name, max) = fields
        .iter()
        .find_map(|field| Some((field["name"].as_str()?, field["max"].as_f64()?)))
        .expect("a numeric field with a maximum");
    let too_large = format!("{}", (max * 10.0).max(max + 1000.0));
    let input = browser.find(&format!("#field-{name}"));
    browser.clear(&input);
    browser.send_keys(&input, &too_large);
    browser.click(&browser.find("#predict-button"));
    let error = browser.text(&browser.find(&format!("#error-{name}")));
    assert!(
        error.contains("at most"),
        "#error-{name} explains the maximum, but shows {error:?}"
    );
    assert_eq!(
        browser.attribute(&input, "aria-invalid"),
        "true",
        "#field-{name} is marked invalid"
    );
    browser.screenshot(&screenshots.join("rejected.png"));

    // The same value sent past the page's script: the API refuses it and the page says so.
    browser.execute("document.getElementById('predict-form').submit();");
    let banner = browser.text(&browser.wait_for("#api-error"));
    assert!(
        banner.contains(name),
        "the banner names the field {name}: {banner:?}"
    );
    let error = browser.text(&browser.find(&format!("#error-{name}")));
    assert!(
        !error.is_empty(),
        "#error-{name} shows the API's reason after a server-side rejection"
    );
    assert!(
        browser.find_all("#result").is_empty(),
        "no result for rejected input"
    );
    let kept = browser.find(&format!("#field-{name}"));
    assert_eq!(
        browser.property(&kept, "value"),
        json!(too_large),
        "the rejected value is kept in the form for correction"
    );
    browser.screenshot(&screenshots.join("rejected-by-api.png"));

    // The README's regression example, served: the page shows the number the API predicts.
    drop(servers);
    let env_file = dir.join("config/.env");
    let mut settings = std::fs::read_to_string(&env_file).unwrap_or_default();
    settings.push_str("\nDATA_SCHEMA=config/examples/penguins-body-mass.toml\n");
    std::fs::write(&env_file, settings).expect("write config/.env");
    run(dir, "make", &["data", "train", "evaluate", "promote"]);
    let servers = Servers::start(dir, logs.path());
    let model = json_of(&http(servers.api_addr, "GET", "/v1/model", None));
    assert_eq!(model["task"], "regression", "{model}");
    let record: BTreeMap<&str, &str> = REGRESSION_RECORD.into_iter().collect();
    let fields = model["fields"].as_array().expect("fields");
    let body = typed_record(fields, &record);
    let expected = json_of(&http(
        servers.api_addr,
        "POST",
        "/v1/predict",
        Some(&body.to_string()),
    ));
    let grams = expected["prediction"]
        .as_f64()
        .expect("a numeric prediction");
    browser.navigate(&format!("http://{}/", servers.ui_addr));
    fill_in(&browser, fields, &record);
    browser.click(&browser.find("#predict-button"));
    let shown = browser.text(&browser.wait_for("#result-prediction"));
    let digits = shown
        .trim()
        .strip_suffix(" g")
        .unwrap_or_else(|| panic!("the prediction {shown:?} is shown with its unit"));
    let number: f64 = digits
        .parse()
        .unwrap_or_else(|_| panic!("the page shows a number, not {shown:?}"));
    // The API's number, rounded to the decimals shown.
    let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    assert!(
        (number - grams).abs() <= 0.5 * 10f64.powi(-decimals) + 1e-9,
        "the page shows {shown}, the API predicts {grams}"
    );
    assert!(
        browser.find_all("[data-probability]").is_empty(),
        "no probability bars for a regression"
    );
    browser.screenshot(&screenshots.join("regression.png"));

    eprintln!(
        "browser test passed in {:.0} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshots.display()
    );
}

/// The record as the API takes it: numbers for numeric fields, strings otherwise.
fn typed_record(fields: &[Value], record: &BTreeMap<&str, &str>) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|field| {
                let name = field["name"].as_str().expect("field name");
                let text = record
                    .get(name)
                    .unwrap_or_else(|| panic!("the model has a field {name} the record lacks"));
                let value = if field["kind"] == "numeric" {
                    json!(text.parse::<f64>().expect("a number"))
                } else {
                    json!(text)
                };
                (name.to_owned(), value)
            })
            .collect(),
    )
}

/// Fills in the form the way a person would: typing numbers, picking categories.
fn fill_in(browser: &Browser, fields: &[Value], record: &BTreeMap<&str, &str>) {
    for field in fields {
        let name = field["name"].as_str().expect("field name");
        let value = record[name];
        if field["kind"] == "numeric" {
            let input = browser.find(&format!("#field-{name}"));
            browser.clear(&input);
            browser.send_keys(&input, value);
        } else {
            let option = browser.find(&format!("#field-{name} option[value=\"{value}\"]"));
            browser.click(&option);
        }
    }
}

/// The API and the UI in front of it, on free loopback ports; stopped when dropped.
struct Servers {
    api_addr: SocketAddr,
    ui_addr: SocketAddr,
    _api: Server,
    _ui: Server,
}

impl Servers {
    fn start(dir: &Path, logs: &Path) -> Servers {
        let bin = shared_target_dir().join("debug");
        let api_addr = free_addr();
        let mut api = Server::start(
            "api",
            Command::new(bin.join(format!("{PROJECT}-api")))
                .current_dir(dir)
                .env("API_HOST", "127.0.0.1")
                .env("API_PORT", api_addr.port().to_string())
                .env("API_MODEL_DIR", dir.join("api").join("models")),
            logs,
        );
        api.wait_for(api_addr, "/ready");
        let ui_addr = free_addr();
        let mut ui = Server::start(
            "ui",
            Command::new(bin.join(format!("{PROJECT}-ui")))
                .current_dir(dir)
                .env("UI_HOST", "127.0.0.1")
                .env("UI_PORT", ui_addr.port().to_string())
                .env("UI_API_URL", format!("http://{api_addr}")),
            logs,
        );
        ui.wait_for(ui_addr, "/health");
        api.wait_for(api_addr, "/health");
        Servers {
            api_addr,
            ui_addr,
            _api: api,
            _ui: ui,
        }
    }
}

/// A loopback address nothing listens on right now.
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// The page's id for a class: letters, digits, `-` and `_` kept, anything else `-`.
fn id_fragment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A server process, killed when this is dropped (also when the test panics). Its output goes to
/// a log file that failures print.
struct Server {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Server {
    fn start(name: &'static str, command: &mut Command, logs: &Path) -> Server {
        let log = logs.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        Server { name, child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until GET `path` answers 200, failing early if the process exits.
    fn wait_for(&mut self, addr: SocketAddr, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = try_http(addr, "GET", path, None)
                && response.status == 200
            {
                return;
            }
            let exited = self.child.try_wait().expect("try_wait").is_some();
            assert!(
                !exited && Instant::now() < deadline,
                "the {} did not answer 200 on {path} at {addr}{}:\n{}",
                self.name,
                if exited {
                    " (it exited)"
                } else {
                    " within 60 s"
                },
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} log ---\n{}", self.name, self.log());
        }
    }
}

/// chromedriver on a free loopback port, in its own process group so that stopping it also stops
/// any browser it left behind.
struct ChromeDriver {
    server: Server,
    addr: SocketAddr,
    profile: tempfile::TempDir,
}

impl ChromeDriver {
    fn start(logs: &Path) -> ChromeDriver {
        use std::os::unix::process::CommandExt;
        let addr = free_addr();
        let server = Server::start(
            "chromedriver",
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={}", addr.port()))
                .process_group(0),
            logs,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = try_http(addr, "GET", "/status", None)
                && serde_json::from_str::<Value>(&response.body)
                    .is_ok_and(|status| status["value"]["ready"] == true)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready within 30 s:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        ChromeDriver {
            server,
            addr,
            profile: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A new headless browser with a fresh profile.
    fn session(&self) -> Browser {
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,1100",
            &format!("--user-data-dir={}", self.profile.path().display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let response = http(
            self.addr,
            "POST",
            "/session",
            Some(&capabilities.to_string()),
        );
        let value = webdriver_value(&response, "POST /session", &self.server);
        let browser = Browser {
            addr: self.addr,
            session: value["sessionId"].as_str().expect("sessionId").to_owned(),
        };
        browser.command(
            "POST",
            "/timeouts",
            Some(json!({ "pageLoad": 30_000, "script": 10_000, "implicit": 0 })),
        );
        browser
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser process that outlived the session.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.server.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

/// The `value` of a WebDriver answer, or a panic with its error.
fn webdriver_value(response: &Response, what: &str, server: &Server) -> Value {
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("{what}: {e}: {}", response.body));
    assert!(
        response.status == 200,
        "{what} failed ({}): {} {}\n{}",
        response.status,
        body["value"]["error"],
        body["value"]["message"],
        server.log()
    );
    body["value"].clone()
}

/// A WebDriver session: one headless browser, closed when this is dropped.
struct Browser {
    addr: SocketAddr,
    session: String,
}

/// A WebDriver element reference.
struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("/session/{}{path}", self.session);
        let response = http(
            self.addr,
            method,
            &url,
            body.map(|b| b.to_string()).as_deref(),
        );
        let body: Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", response.body));
        assert!(
            response.status == 200,
            "WebDriver {method} {path} failed ({}): {} {}",
            response.status,
            body["value"]["error"],
            body["value"]["message"]
        );
        body["value"].clone()
    }

    fn navigate(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    fn find_all(&self, css: &str) -> Vec<Element> {
        self.command(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .as_array()
        .expect("a list of elements")
        .iter()
        .map(|e| Element(e[ELEMENT_KEY].as_str().expect("element id").to_owned()))
        .collect()
    }

    /// The only element `css` matches.
    fn find(&self, css: &str) -> Element {
        let mut found = self.find_all(css);
        assert_eq!(found.len(), 1, "{css} matches {} elements", found.len());
        found.pop().expect("one element")
    }

    /// The element `css` matches once it exists (after a form submission loads a new page).
    fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(element) = self.find_all(css).pop() {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "{css} did not appear within 30 s; the page shows:\n{}",
                self.execute("return document.body ? document.body.innerText : '';")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn clear(&self, element: &Element) {
        self.command(
            "POST",
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        );
    }

    fn send_keys(&self, element: &Element, text: &str) {
        self.command(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, element: &Element) {
        self.command(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        );
    }

    /// The rendered text of an element.
    fn text(&self, element: &Element) -> String {
        let value = self.command("GET", &format!("/element/{}/text", element.0), None);
        value.as_str().expect("text").to_owned()
    }

    /// An HTML attribute as written in the page (or as a script changed it); "" if absent.
    fn attribute(&self, element: &Element, name: &str) -> String {
        let path = format!("/element/{}/attribute/{name}", element.0);
        self.command("GET", &path, None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A DOM property, such as an input's current `value`.
    fn property(&self, element: &Element, name: &str) -> Value {
        self.command(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        )
    }

    fn execute(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Saves a PNG of the viewport.
    fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "/screenshot", None);
        let png = BASE64
            .decode(encoded.as_str().expect("base64 text"))
            .expect("a base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("screenshot: {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = try_http(self.addr, "DELETE", &path, None);
    }
}

struct Response {
    status: u16,
    body: String,
}

fn json_of(response: &Response) -> Value {
    assert_eq!(response.status, 200, "{}", response.body);
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.body))
}

/// One HTTP/1.1 request over loopback, panicking on a transport error.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Response {
    try_http(addr, method, path, body)
        .unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

/// One HTTP request to a loopback server, with a JSON body when there is one: its status and its
/// body, whatever the status.
fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<Response, ureq::Error> {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    let agent = AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            // A 4xx or 5xx answer is a result to report, not a transport error.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into()
    });
    let url = format!("http://{addr}{path}");
    let response = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        (_, Some(body)) => agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body),
        (_, None) => agent.post(&url).send_empty(),
    }?;
    let status = response.status().as_u16();
    // Screenshots are larger than ureq's default limit of 10 MB at most sizes of window.
    let body = response
        .into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()?;
    Ok(Response { status, body })
}
