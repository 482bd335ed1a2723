//! The slow tier (`cargo test -- --ignored`): generated projects build, pass their own lints and
//! tests, and run their pipeline end to end. All of them share one CARGO_TARGET_DIR so the
//! dependencies compile once.

use std::path::{Path, PathBuf};
use std::process::Command;

use template_tests::{PRESETS, generate_ok, repo_root};

fn shared_target_dir() -> PathBuf {
    repo_root().join("target").join("generated")
}

/// Runs a command in a generated project and panics with its output when it fails.
fn run(dir: &Path, program: &str, args: &[&str]) {
    let started = std::time::Instant::now();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target_dir())
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

fn generate_preset(name: &str) -> template_tests::Generated {
    let values_file = repo_root().join("examples").join(format!("{name}.toml"));
    generate_ok(
        &format!("{name}-project"),
        &["--values-file".into(), values_file.display().to_string()],
    )
}

fn build_lint_and_test(preset: &str) {
    let project = generate_preset(preset);
    let dir = &project.dir;
    run(dir, "cargo", &["build", "--workspace", "--all-targets"]);
    run(
        dir,
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    run(dir, "cargo", &["fmt", "--all", "--check"]);
    run(dir, "cargo", &["test", "--workspace"]);
    run(dir, "make", &["all"]);
    run(dir, "make", &["test"]);
}

#[test]
#[ignore = "slow: builds generated projects"]
fn the_full_preset_builds_lints_tests_and_runs() {
    build_lint_and_test("full");
}

#[test]
#[ignore = "slow: builds generated projects"]
fn the_minimal_preset_builds_lints_tests_and_runs() {
    build_lint_and_test("minimal");
}

#[test]
#[ignore = "slow: needs the linters of tests/lint/install.sh"]
fn every_preset_passes_the_linters_of_its_parts() {
    for preset in PRESETS {
        let project = generate_preset(preset);
        run(
            &repo_root(),
            "bash",
            &[
                "tests/lint/run-linters.sh",
                &project.dir.display().to_string(),
            ],
        );
    }
}
