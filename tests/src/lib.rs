//! Harness for the template's test suite: option sets, generation through the cargo-generate
//! binary (the command our users run), and the file set each option set must produce.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub mod checks;

/// The cargo-generate release the template is tested with (the newest that builds on rustc 1.95).
pub const CARGO_GENERATE_VERSION: &str = "0.23.14";

pub const LICENSES: [&str; 5] = [
    "Apache-2.0",
    "BSD-3-Clause",
    "MIT",
    "MIT OR Apache-2.0",
    "Proprietary",
];
pub const CI_SYSTEMS: [&str; 3] = ["github", "gitlab", "none"];
pub const TRACKING: [&str; 2] = ["mlflow", "none"];
pub const ENGINES: [&str; 2] = ["ballista", "native"];

/// One answer to every template option (template/cargo-generate.toml; README.md lists them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub license: &'static str,
    pub api: bool,
    pub ui: bool,
    pub docker: bool,
    pub ci: &'static str,
    pub infrastructure: bool,
    pub docs: bool,
    pub notebooks: bool,
    pub tracking: &'static str,
    pub dvc: bool,
    pub engine: &'static str,
}

impl Options {
    /// The defaults of template/cargo-generate.toml.
    pub fn defaults() -> Self {
        Options {
            license: "MIT OR Apache-2.0",
            api: true,
            ui: true,
            docker: true,
            ci: "github",
            infrastructure: true,
            docs: true,
            notebooks: true,
            tracking: "mlflow",
            dvc: true,
            engine: "native",
        }
    }

    /// The web UI, the images and the manifests all need the API.
    pub fn is_valid(&self) -> bool {
        self.api || !(self.ui || self.docker || self.infrastructure)
    }

    /// The options as `-d name=value` arguments. Without the API, `ui`, `docker` and
    /// `infrastructure` are not asked; cargo-generate then passes their `-d` values on as text,
    /// which hooks/pre.rhai reads (so scripts that spell out `-d docker=false` keep working).
    pub fn defines(&self) -> Vec<String> {
        self.values()
            .into_iter()
            .flat_map(|(name, value)| ["-d".to_string(), format!("{name}={value}")])
            .collect()
    }

    /// The option values as (name, value) pairs.
    fn values(&self) -> [(&'static str, String); 11] {
        [
            ("license", self.license.to_string()),
            ("api", self.api.to_string()),
            ("ui", self.ui.to_string()),
            ("docker", self.docker.to_string()),
            ("ci", self.ci.to_string()),
            ("infrastructure", self.infrastructure.to_string()),
            ("docs", self.docs.to_string()),
            ("notebooks", self.notebooks.to_string()),
            ("tracking", self.tracking.to_string()),
            ("dvc", self.dvc.to_string()),
            ("engine", self.engine.to_string()),
        ]
    }

    /// Every valid combination of option values.
    pub fn all_valid() -> Vec<Options> {
        let bools = [false, true];
        let mut all = Vec::new();
        for license in LICENSES {
            for api in bools {
                for ui in bools {
                    for docker in bools {
                        for ci in CI_SYSTEMS {
                            for infrastructure in bools {
                                for docs in bools {
                                    for notebooks in bools {
                                        for tracking in TRACKING {
                                            for dvc in bools {
                                                for engine in ENGINES {
                                                    let options = Options {
                                                        license,
                                                        api,
                                                        ui,
                                                        docker,
                                                        ci,
                                                        infrastructure,
                                                        docs,
                                                        notebooks,
                                                        tracking,
                                                        dvc,
                                                        engine,
                                                    };
                                                    if options.is_valid() {
                                                        all.push(options);
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        all
    }
}

/// The preset values files in examples/, by name.
pub const PRESETS: [&str; 4] = ["full", "minimal", "research", "service"];

/// Reads a preset from examples/<name>.toml.
pub fn preset(name: &str) -> Options {
    let path = repo_root().join("examples").join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let values = table["values"].as_table().expect("a [values] table");
    let flag = |name: &str| {
        values[name]
            .as_bool()
            .unwrap_or_else(|| panic!("{name} is a bool"))
    };
    // A preset may leave a choice at its default.
    let choice = |name: &str, choices: &[&'static str], default: &'static str| -> &'static str {
        match values.get(name).and_then(|v| v.as_str()) {
            Some(value) => choices
                .iter()
                .copied()
                .find(|c| *c == value)
                .unwrap_or_else(|| panic!("{name} = {value}")),
            None => default,
        }
    };
    let defaults = Options::defaults();
    Options {
        license: choice("license", &LICENSES, defaults.license),
        api: flag("api"),
        ui: flag("ui"),
        docker: flag("docker"),
        ci: choice("ci", &CI_SYSTEMS, defaults.ci),
        infrastructure: flag("infrastructure"),
        docs: flag("docs"),
        notebooks: flag("notebooks"),
        tracking: choice("tracking", &TRACKING, defaults.tracking),
        dvc: flag("dvc"),
        engine: choice("engine", &ENGINES, defaults.engine),
    }
}

/// A small set of valid option sets in which every pair of values of two options that can occur
/// together occurs at least once (greedy covering; deterministic).
pub fn pairwise_covering_set() -> Vec<Options> {
    fn pairs(options: &Options) -> BTreeSet<(String, String)> {
        let values = options.values();
        let mut pairs = BTreeSet::new();
        for (i, (a_name, a_value)) in values.iter().enumerate() {
            for (b_name, b_value) in &values[i + 1..] {
                pairs.insert((format!("{a_name}={a_value}"), format!("{b_name}={b_value}")));
            }
        }
        pairs
    }
    let candidates = Options::all_valid();
    let mut uncovered: BTreeSet<_> = candidates.iter().flat_map(pairs).collect();
    let mut chosen = Vec::new();
    while !uncovered.is_empty() {
        let best = candidates
            .iter()
            .max_by_key(|c| pairs(c).intersection(&uncovered).count())
            .expect("candidates");
        for pair in pairs(best) {
            uncovered.remove(&pair);
        }
        chosen.push(best.clone());
    }
    chosen
}

/// The root of the template repository.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repo")
        .to_path_buf()
}

/// The cargo-generate binary: `$CARGO_GENERATE`, else `cargo-generate` on PATH.
pub fn cargo_generate() -> Command {
    let program = std::env::var("CARGO_GENERATE").unwrap_or_else(|_| "cargo-generate".to_string());
    let mut command = Command::new(program);
    command
        .arg("generate")
        .env("RUST_BACKTRACE", "0")
        .env("CARGO_GENERATE_LOG", "error");
    command
}

/// The subfolder holding the template, the one entry of the root cargo-generate.toml's
/// `sub_templates`: `cargo generate --git <repo> template` names it and skips the question.
pub const SUB_TEMPLATE: &str = "template";

/// The question cargo-generate asks first when the root cargo-generate.toml routes to `template/`.
pub const SUB_TEMPLATE_QUESTION: &str = "Which sub-template should be expanded?";

/// A copy of the parts of this repository that cargo-generate reads (the root cargo-generate.toml,
/// template/, hooks/), made once per test process: `--path <repo>` would copy the whole checkout,
/// target/ included, every time. Like `--git <repo>`, `--path` on it goes through the root
/// configuration's `sub_templates`: `--silent` takes `template`, a terminal is asked.
pub fn template_source() -> &'static Path {
    static SOURCE: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let staging = tempfile::tempdir().expect("temp dir");
            for part in ["cargo-generate.toml", SUB_TEMPLATE, "hooks"] {
                let status = Command::new("cp")
                    .arg("-R")
                    .arg(repo_root().join(part))
                    .arg(staging.path())
                    .status()
                    .expect("cp runs");
                assert!(status.success(), "copying {part}");
            }
            staging
        })
        .path()
}

/// A generated project in its own temporary directory.
pub struct Generated {
    pub dir: PathBuf,
    pub output: Output,
    _parent: TempDir,
}

/// Runs `cargo generate --path <template source> --name <name> --silent` with extra arguments, without a TTY,
/// into a fresh temporary directory. The project directory may not exist if generation failed.
pub fn generate(name: &str, args: &[String]) -> Generated {
    let parent = tempfile::tempdir().expect("temp dir");
    let output = cargo_generate()
        .arg("--path")
        .arg(template_source())
        .args(["--name", name, "--silent", "--vcs", "none", "--destination"])
        .arg(parent.path())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cargo-generate runs (install it: cargo install cargo-generate --version 0.23.14 --locked)");
    Generated {
        dir: parent.path().join(name),
        output,
        _parent: parent,
    }
}

/// Generates a project and panics with cargo-generate's output if that fails.
pub fn generate_ok(name: &str, args: &[String]) -> Generated {
    let generated = generate(name, args);
    assert!(
        generated.output.status.success(),
        "cargo generate {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&generated.output.stdout),
        String::from_utf8_lossy(&generated.output.stderr)
    );
    generated
}

/// Every file below `dir`, as '/'-separated paths relative to it.
pub fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("below root");
                out.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Panics unless the trees below `a` and `b` hold the same files with the same bytes.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let paths = files(a);
    assert_eq!(
        paths,
        files(b),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for path in paths {
        let left = std::fs::read(a.join(&path)).expect("read");
        let right = std::fs::read(b.join(&path)).expect("read");
        assert!(
            left == right,
            "{path} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Whether a template path is kept for `options`: the spec hooks/post.rhai must meet, written
/// independently of it.
fn kept(path: &str, options: &Options) -> bool {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    let web_ui = options.api && options.ui;
    let mut keep = true;
    if under("api")
        || under("service")
        || under("src/scripts/promote_model.rs")
        || under("deployment/scripts/smoke_test.sh")
        || under("docs/src/serving.md")
        || under("docs/src/deployment.md")
    {
        keep &= options.api;
    }
    if under("ui") || under("deployment/docker/ui") || under("infrastructure/base/ui") {
        keep &= web_ui;
    }
    if under("infrastructure/base/api/ingress.yaml") {
        keep &= !web_ui;
    }
    if under("deployment/docker")
        || under(".dockerignore")
        || under(".github/workflows/release.yml")
    {
        keep &= options.docker;
    }
    if under("deployment/scripts/deploy.sh") {
        keep &= options.docker || options.infrastructure;
    }
    if under("infrastructure") {
        keep &= options.infrastructure;
    }
    if under(".github") {
        keep &= options.ci == "github";
    }
    if under(".gitlab-ci.yml") || under("deployment/pipelines/gitlab") {
        keep &= options.ci == "gitlab";
    }
    if under("docs") {
        keep &= options.docs;
    }
    if under("src/notebooks") || under("docs/src/notebooks.md") {
        keep &= options.notebooks;
    }
    if under("tracking") || under("src/tracking.rs") || under("docs/src/tracking.md") {
        keep &= options.tracking == "mlflow";
    }
    if under("cluster")
        || under("deployment/docker/ballista")
        || under("infrastructure/base/ballista")
    {
        keep &= options.engine == "ballista";
    }
    if [
        "dvc.yaml",
        "params.yaml",
        ".dvc",
        ".dvcignore",
        "docs/src/dvc.md",
    ]
    .iter()
    .any(|path| under(path))
    {
        keep &= options.dvc;
    }
    if DVC_OUTPUT_FOLDERS
        .iter()
        .any(|folder| path == format!("{folder}/.gitkeep"))
    {
        keep &= !options.dvc;
    }
    keep
}

/// Folders that DVC declares as outputs (dvc.yaml): with DVC they hold no `.gitkeep`, since an
/// output may not contain files git tracks.
pub const DVC_OUTPUT_FOLDERS: [&str; 4] = [
    "src/datasets/bronze",
    "src/datasets/silver",
    "src/datasets/gold",
    "reports/figures",
];

/// The exact file set a project generated with `options` must have.
pub fn expected_files(options: &Options) -> BTreeSet<String> {
    let template = repo_root().join("template");
    let mut expected: BTreeSet<String> = files(&template)
        .into_iter()
        .filter(|path| {
            path != "cargo-generate.toml"
                && !path.starts_with("licenses/")
                && !path.starts_with("locks/")
        })
        .filter(|path| kept(path, options))
        .collect();
    // One of locks/ becomes the project's lock file.
    expected.insert("Cargo.lock".to_owned());
    let licence_files: &[&str] = match options.license {
        "MIT OR Apache-2.0" => &["LICENSE-MIT", "LICENSE-APACHE"],
        "Proprietary" => &[],
        _ => &["LICENSE"],
    };
    expected.extend(licence_files.iter().map(|f| f.to_string()));
    expected
}

/// The CARGO_TARGET_DIR every generated project of the slow tier shares, so that dependencies
/// compile once.
pub fn shared_target_dir() -> PathBuf {
    repo_root().join("target").join("generated")
}

/// Points a command's cargo builds at the shared target dir, without debug info or incremental
/// state: the slow tier builds several presets into one dir, and those two make up most of its
/// size on disk (12 GB against a few), which a CI disk may not have.
pub fn with_shared_build(command: &mut Command) -> &mut Command {
    command
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_PROFILE_TEST_DEBUG", "0")
}

/// Runs a command in a generated project (shared target dir, the linters' virtualenv) and panics
/// with its output when it fails.
pub fn run(dir: &Path, program: &str, args: &[&str]) {
    let started = std::time::Instant::now();
    let output = with_shared_build(&mut Command::new(program))
        .args(args)
        .current_dir(dir)
        .env("LINT_VENV", repo_root().join("target").join("lint-venv"))
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    eprintln!(
        "{program} {} ({:.0} s)",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "{program} {args:?} failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first block fenced with ```<language> after `heading` in a Markdown file: the commands or
/// output a README or docs page shows there.
pub fn block_after(markdown: &Path, heading: &str, language: &str) -> String {
    let text =
        std::fs::read_to_string(markdown).unwrap_or_else(|e| panic!("{}: {e}", markdown.display()));
    text.split_once(heading)
        .and_then(|(_, section)| section.split_once(&format!("```{language}\n")))
        .and_then(|(_, rest)| rest.split_once("```"))
        .unwrap_or_else(|| {
            panic!(
                "{} shows a {language} block after {heading}",
                markdown.display()
            )
        })
        .0
        .to_owned()
}

/// A tool virtualenv's `bin` folder (`target/<name>-venv/bin`), checked to hold `program`.
pub fn venv_bin(name: &str, program: &str) -> PathBuf {
    let bin = repo_root().join(format!("target/{name}-venv/bin"));
    assert!(
        bin.join(program).is_file(),
        "{} is missing: run `bash tests/{name}/install.sh` first",
        bin.join(program).display()
    );
    bin
}

/// PATH with `bin` first, as in an activated virtualenv.
pub fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a shell command in a generated project as a user types it (`bash -euo pipefail`), with the
/// shared target dir, a git identity and `path` as PATH when given.
pub fn user_shell(dir: &Path, command: &str, path: Option<&str>) -> Output {
    let mut bash = Command::new("bash");
    if let Some(path) = path {
        bash.env("PATH", path);
    }
    with_shared_build(&mut bash)
        .args(["-euo", "pipefail", "-c", command])
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Slow Tier")
        .env("GIT_AUTHOR_EMAIL", "slow-tier@example.com")
        .env("GIT_COMMITTER_NAME", "Slow Tier")
        .env("GIT_COMMITTER_EMAIL", "slow-tier@example.com")
        .env_remove("RUST_LOG")
        .output()
        .expect("bash runs")
}

/// [`user_shell`], which must succeed.
pub fn user_shell_ok(dir: &Path, command: &str, path: Option<&str>) -> Output {
    let output = user_shell(dir, command, path);
    assert!(
        output.status.success(),
        "`{command}` failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A `make` target left running in the background (a server), its output in `<dir>/<target>.log`,
/// stopped with its whole process group (make, cargo or Python, and the server) when dropped, even
/// if the test fails.
pub struct Background {
    child: std::process::Child,
    log: PathBuf,
}

impl Background {
    /// Starts `make <target>` in `dir` with the shared target dir and `envs` on top.
    pub fn start(dir: &Path, target: &str, envs: &[(&str, &str)]) -> Self {
        use std::os::unix::process::CommandExt;
        let log = dir.join(format!("{target}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = with_shared_build(&mut Command::new("make"))
            .arg(target)
            .current_dir(dir)
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("make {target} starts: {e}"));
        Self { child, log }
    }

    /// What the target printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether `make` is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}
