//! The slow tier's DVC test (`cargo test --test dvc -- --ignored`): a project generated from the
//! research preset (DVC on) walks the README's DVC commands as printed, with the real DVC
//! (tests/dvc/install.sh puts it in target/dvc-venv): `dvc repro` from clean, metrics, a remote and
//! `dvc push`. Then a second `dvc repro` skips every stage, a schema change re-runs the pipeline, and
//! `dvc pull` restores the data layers after they are deleted.

use std::path::Path;

use template_tests::{block_after, generate_ok, path_with, repo_root, user_shell_ok, venv_bin};

const STAGES: [&str; 5] = ["data", "train", "evaluate", "predict", "reports"];

/// Runs a shell command the way a user types it, with DVC on PATH and a git identity; returns its
/// stdout and stderr together (DVC reports progress on both).
fn shell(dir: &Path, command: &str) -> String {
    let path = path_with(&venv_bin("dvc", "dvc"));
    let output = user_shell_ok(dir, command, Some(&path));
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The stages a `dvc repro` ran.
fn ran(output: &str) -> Vec<&'static str> {
    STAGES
        .into_iter()
        .filter(|stage| output.contains(&format!("Running stage '{stage}'")))
        .collect()
}

#[test]
#[ignore = "slow: builds a generated project and runs its pipeline under DVC (tests/dvc/install.sh)"]
fn the_dvc_pipeline_reproduces_skips_and_restores_through_a_remote() {
    let values_file = repo_root().join("examples/research.toml");
    let project = generate_ok(
        "dvc-project",
        &["--values-file".into(), values_file.display().to_string()],
    );
    let dir = &project.dir;

    // The README's commands, as printed.
    let block = block_after(&dir.join("README.md"), "## DVC", "sh");
    let mut walked = String::new();
    for command in block.lines().filter(|line| !line.trim().is_empty()) {
        walked += &shell(dir, command);
    }
    assert_eq!(ran(&walked), STAGES, "the first dvc repro runs every stage");
    assert!(
        walked.contains("metrics.accuracy") && walked.contains("reports/metrics.json"),
        "dvc metrics show lists the held-out metrics:\n{walked}"
    );
    let lock = std::fs::read_to_string(dir.join("dvc.lock")).expect("dvc.lock");
    for stage in STAGES {
        assert!(lock.contains(&format!("  {stage}:")), "{stage} in dvc.lock");
    }
    let storage = dir.parent().expect("parent").join("dvc-storage");
    assert!(
        std::fs::read_dir(&storage).is_ok_and(|mut entries| entries.next().is_some()),
        "dvc push stored the outputs in {}",
        storage.display()
    );

    let again = shell(dir, "dvc repro");
    assert!(ran(&again).is_empty(), "nothing changed:\n{again}");
    for stage in STAGES {
        assert!(
            again.contains(&format!("Stage '{stage}' didn't change, skipping")),
            "{again}"
        );
    }

    // A schema change invalidates the layers, and with them everything downstream.
    let schema = dir.join("config/schema.toml");
    let text = std::fs::read_to_string(&schema).expect("schema");
    std::fs::write(
        &schema,
        text.replace(
            "description = \"Body mass.\"",
            "description = \"Body mass, weighed on site.\"",
        ),
    )
    .expect("write schema");
    let changed = shell(dir, "dvc repro");
    assert_eq!(ran(&changed), STAGES, "{changed}");
    shell(dir, "dvc push");

    // Deleted layers come back from the remote, byte for byte as dvc.lock recorded them.
    let gold_manifest = dir.join("src/datasets/gold/manifest.json");
    let before = std::fs::read(&gold_manifest).expect("gold manifest");
    shell(
        dir,
        "rm -rf src/datasets/bronze src/datasets/silver src/datasets/gold",
    );
    shell(dir, "dvc pull");
    assert_eq!(std::fs::read(&gold_manifest).expect("restored"), before);
    let status = shell(dir, "dvc status");
    assert!(status.contains("up to date"), "{status}");
    let dag = shell(dir, "dvc dag");
    assert!(STAGES.iter().all(|stage| dag.contains(stage)), "{dag}");

    // docs/src/dvc.md's commands: an experiment with another algorithm re-runs from training on.
    let experiment = shell(dir, "dvc exp run -S train.algorithm=decision_tree");
    assert_eq!(ran(&experiment), &STAGES[1..], "{experiment}");
    let params = shell(dir, "dvc params diff");
    assert!(
        params.contains("train.algorithm") && params.contains("decision_tree"),
        "{params}"
    );
    let metrics = shell(dir, "dvc metrics diff");
    assert!(metrics.contains("metrics.accuracy"), "{metrics}");
    let forced = shell(dir, "dvc repro --force data");
    assert_eq!(
        ran(&forced),
        ["data"],
        "--force re-runs the stage named: {forced}"
    );
}
