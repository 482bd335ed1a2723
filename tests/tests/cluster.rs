//! The slow tier's Ballista test (`cargo test --test cluster -- --ignored`): a project generated from
//! the research preset (engine=ballista) runs the README's `make data-cluster` as printed, with a
//! scheduler and an executor in-process; its layers must be byte for byte those `make data` writes.
//! `make test` then runs the project's differential test (both engines on a dirty file), and a
//! scheduler that is not there, or not a URL, is one error line.

use std::path::Path;

use template_tests::{block_after, generate_ok, repo_root, user_shell, user_shell_ok};

const LAYER_FILES: [&str; 4] = [
    "silver/data.parquet",
    "silver/quarantine.csv",
    "gold/train.parquet",
    "gold/test.parquet",
];

fn layer_files(dir: &Path) -> Vec<Vec<u8>> {
    LAYER_FILES
        .iter()
        .map(|file| std::fs::read(dir.join("src/datasets").join(file)).expect(file))
        .collect()
}

#[test]
#[ignore = "slow: builds DataFusion and Ballista in a generated project and runs silver on them"]
fn make_data_cluster_writes_the_layers_make_data_writes() {
    let values_file = repo_root().join("examples/research.toml");
    let project = generate_ok(
        "cluster-project",
        &["--values-file".into(), values_file.display().to_string()],
    );
    let dir = &project.dir;

    let block = block_after(
        &dir.join("README.md"),
        "## Silver on a Ballista cluster",
        "sh",
    );
    assert_eq!(
        block.trim(),
        "make data-cluster",
        "the README's command changed"
    );
    let output = user_shell_ok(dir, block.trim(), None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("bronze 344 rows -> silver 344 rows (0 quarantined, 0 duplicates)"),
        "{stdout}"
    );
    let on_cluster = layer_files(dir);
    user_shell_ok(dir, "make data", None);
    for (file, (cluster, native)) in LAYER_FILES
        .iter()
        .zip(on_cluster.iter().zip(layer_files(dir)))
    {
        assert!(
            *cluster == native,
            "{file} differs between make data-cluster and make data"
        );
    }

    for (scheduler, expected) in [
        ("df://127.0.0.1:1", "Connection refused"),
        ("ballista-scheduler", "expected df://host:port"),
    ] {
        let output = user_shell(
            dir,
            &format!("BALLISTA_SCHEDULER={scheduler} make data-cluster"),
            None,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let errors: Vec<_> = stderr
            .lines()
            .filter(|line| line.contains("error"))
            .collect();
        assert!(!output.status.success(), "{scheduler}: {stderr}");
        assert!(
            errors.iter().any(|line| line.contains(expected)) && !stderr.contains("panicked"),
            "{scheduler}: {stderr}"
        );
    }

    let output = user_shell_ok(dir, "make test", None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("test a_dirty_file_gives_the_same_layers ... ok"),
        "the differential test ran:\n{stdout}"
    );
}
