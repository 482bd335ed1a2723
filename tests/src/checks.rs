//! Checks every generated project must pass, whatever its options.

use std::path::Path;

use crate::{Options, expected_files, files};

/// Asserts the exact file set, complete rendering, parseable config files and complete pruning.
pub fn check_project(dir: &Path, options: &Options) {
    assert_file_set(dir, options);
    for path in files(dir) {
        let full = dir.join(&path);
        let Ok(text) = std::fs::read_to_string(&full) else {
            continue;
        };
        assert_rendered(&path, &text);
        assert_parses(&path, &text);
        assert_no_pruned_references(&path, &text, options);
    }
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
fn assert_rendered(path: &str, text: &str) {
    for (number, line) in text.lines().enumerate() {
        let without_github_expressions = line.replace("${{", "");
        assert!(
            !line.contains("{%")
                && !line.contains("%}")
                && !without_github_expressions.contains("{{"),
            "{path}:{}: unrendered Liquid: {line}",
            number + 1
        );
        assert!(
            !line.contains("liquid:"),
            "{path}:{}: Liquid error text: {line}",
            number + 1
        );
    }
}

/// Every TOML, YAML and JSON file parses.
fn assert_parses(path: &str, text: &str) {
    let extension = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match extension {
        "toml" => {
            text.parse::<toml::Table>()
                .unwrap_or_else(|e| panic!("{path}: invalid TOML: {e}"));
        }
        "yml" | "yaml" => {
            yaml_rust2::YamlLoader::load_from_str(text)
                .unwrap_or_else(|e| panic!("{path}: invalid YAML: {e}"));
        }
        "json" | "ipynb" => {
            serde_json::from_str::<serde_json::Value>(text)
                .unwrap_or_else(|e| panic!("{path}: invalid JSON: {e}"));
        }
        _ => {}
    }
}

/// Text that names a part of the project; none may remain once the part is pruned.
fn pruned_markers(options: &Options) -> Vec<&'static str> {
    let mut markers = Vec::new();
    if !options.api {
        markers.extend(["api/", "-api", "make serve", "make promote"]);
    }
    if !(options.api && options.ui) {
        markers.extend(["ui/", "-ui", "make ui"]);
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
        markers.extend([".github", "GitHub Actions"]);
    }
    if options.ci != "gitlab" {
        markers.extend(["gitlab-ci", "GitLab CI"]);
    }
    if !options.infrastructure {
        markers.extend(["infrastructure/", "kubectl", "kustomize"]);
    }
    if !options.docs {
        markers.extend(["docs/", "mdbook", "make docs"]);
    }
    if !options.notebooks {
        markers.extend(["notebooks/", ".ipynb"]);
    }
    markers
}

fn assert_no_pruned_references(path: &str, text: &str, options: &Options) {
    for marker in pruned_markers(options) {
        if let Some(number) = text.lines().position(|line| line.contains(marker)) {
            panic!(
                "{path}:{}: refers to a pruned part ({marker:?}) with {options:?}",
                number + 1
            );
        }
    }
}
