//! Checks every generated project must pass, whatever its options. Each check lists every problem
//! it finds, so one failing run shows all that needs fixing.

use std::path::Path;

use crate::{Options, expected_files, files};

/// Asserts the exact file set, complete rendering, parseable config files and complete pruning.
pub fn check_project(dir: &Path, options: &Options) {
    assert_file_set(dir, options);
    let mut problems = Vec::new();
    for path in files(dir) {
        let Ok(text) = std::fs::read_to_string(dir.join(&path)) else {
            continue;
        };
        problems.extend(unrendered_liquid(&path, &text));
        problems.extend(parse_error(&path, &text));
        problems.extend(pruned_references(&path, &text, options));
    }
    assert!(problems.is_empty(), "{options:?}\n{}", problems.join("\n"));
}

/// The generated files are exactly those the options call for.
pub fn assert_file_set(dir: &Path, options: &Options) {
    let actual = files(dir);
    let expected = expected_files(options);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "{options:?}\nmissing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
}

/// No Liquid tag survived: a Liquid error makes cargo-generate copy a file unrendered.
/// GitHub expressions `${{ ... }}` are the one legitimate use of double braces.
fn unrendered_liquid(path: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let without_github_expressions = line.replace("${{", "");
        if line.contains("{%") || line.contains("%}") || without_github_expressions.contains("{{") {
            problems.push(format!("{path}:{}: unrendered Liquid: {line}", number + 1));
        }
        if line.contains("liquid:") {
            problems.push(format!("{path}:{}: Liquid error text: {line}", number + 1));
        }
    }
    problems
}

/// Every TOML, YAML and JSON file parses.
fn parse_error(path: &str, text: &str) -> Option<String> {
    let extension = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let error = match extension {
        "toml" => text.parse::<toml::Table>().err()?.to_string(),
        "yml" | "yaml" => yaml_rust2::YamlLoader::load_from_str(text)
            .err()?
            .to_string(),
        "json" | "ipynb" => serde_json::from_str::<serde_json::Value>(text)
            .err()?
            .to_string(),
        _ => return None,
    };
    Some(format!("{path}: does not parse: {error}"))
}

/// Text that names a part of the project; none may remain once the part is pruned. A marker only
/// counts at the start of a word or path (so `/docs/`, the API's docs page, is not `docs/`).
fn pruned_markers(options: &Options) -> Vec<&'static str> {
    let mut markers = Vec::new();
    if !options.api {
        markers.extend([
            "api/",
            "API_",
            "make serve",
            "make promote",
            "promote_model",
        ]);
    }
    if !(options.api && options.ui) {
        markers.extend(["ui/", "UI_", "make ui"]);
    }
    if !options.docker {
        markers.extend([
            "deployment/docker",
            "Dockerfile",
            "docker compose",
            "make up",
            "docker-build",
        ]);
    }
    if options.ci != "github" {
        markers.extend([".github/", "GitHub Actions"]);
    }
    if options.ci != "gitlab" {
        markers.extend(["gitlab-ci", "GitLab CI", "pipelines/gitlab"]);
    }
    if !options.infrastructure {
        markers.extend(["infrastructure/", "kubectl", "kustomiz"]);
    }
    if !options.docs {
        markers.extend(["docs/", "mdbook", "mdBook", "make docs"]);
    }
    if !options.notebooks {
        markers.extend(["src/notebooks", ".ipynb", "notebook"]);
    }
    if options.tracking != "mlflow" {
        markers.extend(["mlflow", "MLflow", "MLFLOW_", "tracking/"]);
    }
    if !options.dvc {
        markers.extend(["dvc", "DVC", ".dvc/"]);
    }
    if options.engine != "ballista" {
        markers.extend(["Ballista", "BALLISTA_", "data-cluster", "cluster/"]);
    }
    markers
}

/// Whether `marker` occurs in `line` at the start of a word or path.
fn names(line: &str, marker: &str) -> bool {
    line.match_indices(marker).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/'))
    })
}

fn pruned_references(path: &str, text: &str, options: &Options) -> Vec<String> {
    let markers = pruned_markers(options);
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate() {
        for marker in markers.iter().filter(|marker| names(line, marker)) {
            problems.push(format!(
                "{path}:{}: names a pruned part ({marker:?}): {}",
                number + 1,
                line.trim()
            ));
        }
    }
    problems
}
