//! The fast tier: generation without a TTY for every preset and a pairwise covering set of option
//! values, each checked for its exact file set, complete rendering and pruning, parseable config
//! files and a workspace cargo understands; bad input; reproducibility.

use std::process::Command;

use template_tests::checks::check_project;
use template_tests::{
    CARGO_GENERATE_VERSION, DVC_OUTPUT_FOLDERS, ENGINES, Options, PRESETS, SUB_TEMPLATE, TRACKING,
    assert_same_tree, files, generate, generate_ok, pairwise_covering_set, preset, repo_root,
};

fn stderr_and_stdout(generated: &template_tests::Generated) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&generated.output.stderr),
        String::from_utf8_lossy(&generated.output.stdout)
    )
}

/// `cargo metadata` resolves the generated workspace (members, path and registry dependencies).
fn assert_cargo_metadata(dir: &std::path::Path) {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1"])
        .current_dir(dir)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo metadata in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_tested_cargo_generate_is_installed() {
    let output = template_tests::cargo_generate()
        .arg("--version")
        .output()
        .expect("cargo-generate runs");
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        version.contains(CARGO_GENERATE_VERSION),
        "expected cargo-generate {CARGO_GENERATE_VERSION}, found {version}"
    );
}

#[test]
fn every_preset_generates_from_its_values_file() {
    for name in PRESETS {
        let values_file = repo_root().join("examples").join(format!("{name}.toml"));
        let generated = generate_ok(
            "preset-project",
            &["--values-file".into(), values_file.display().to_string()],
        );
        check_project(&generated.dir, &preset(name));
        assert_cargo_metadata(&generated.dir);
    }
}

#[test]
fn a_pairwise_covering_set_of_options_generates_with_defines() {
    let option_sets = pairwise_covering_set();
    assert!(
        option_sets.len() < 30,
        "the covering set stays small: {}",
        option_sets.len()
    );
    for options in option_sets {
        let generated = generate_ok("pairwise-project", &options.defines());
        check_project(&generated.dir, &options);
        assert_cargo_metadata(&generated.dir);
    }
}

#[test]
fn the_defaults_are_the_full_preset() {
    let generated = generate_ok("default-project", &[]);
    assert_eq!(preset("full"), Options::defaults());
    check_project(&generated.dir, &Options::defaults());
}

#[test]
fn names_that_cannot_work_are_refused_before_anything_is_written() {
    let cases = [
        ("1st-model", "starts with a digit"),
        ("test", "is reserved"),
        ("std", "is reserved"),
        ("core", "is reserved"),
        ("match", "is reserved"),
        ("serde", "is reserved"),
        ("parquet", "is reserved"),
        (
            "a-project-name-of-more-than-forty-characters",
            "use at most 40",
        ),
    ];
    for (name, message) in cases {
        let generated = generate(name, &[]);
        assert!(!generated.output.status.success(), "{name} was accepted");
        let output = stderr_and_stdout(&generated);
        assert!(
            output.contains(message),
            "{name}: expected {message:?} in:\n{output}"
        );
        assert!(
            !generated.dir.exists(),
            "{name}: {} was left behind",
            generated.dir.display()
        );
    }
}

/// Without the API, the options that need it (`ui`, `docker`, `infrastructure`) are not asked. Left
/// out, they are off and a one-line note says so; given as false (`-d` passes text, a values file a
/// boolean) they are accepted; given as true they contradict `api=false` and are refused with one
/// sentence.
#[test]
fn without_the_api_the_options_that_need_it_are_off_or_refused() {
    let generated = generate_ok("no-api", &["-d".into(), "api=false".into()]);
    let output = stderr_and_stdout(&generated);
    assert!(
        output.contains("Note: ui, docker and infrastructure need the model API, so with api=false they are off."),
        "no note:\n{output}"
    );
    let no_api = Options {
        api: false,
        ui: false,
        docker: false,
        infrastructure: false,
        ..Options::defaults()
    };
    check_project(&generated.dir, &no_api);
    let accepted = generate_ok("no-api", &no_api.defines());
    check_project(&accepted.dir, &no_api);
    // Only some of them spelled out: the others are still turned off, with the note.
    let partly = generate_ok(
        "no-api",
        &[
            "-d".into(),
            "api=false".into(),
            "-d".into(),
            "docker=false".into(),
        ],
    );
    check_project(&partly.dir, &no_api);
    assert!(
        stderr_and_stdout(&partly).contains("Note: ui and infrastructure need the model API"),
        "{}",
        stderr_and_stdout(&partly)
    );

    let values_file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(values_file.path(), "[values]\napi = false\ndocker = true\n")
        .expect("write values file");
    let values_file = values_file.path().display().to_string();
    let cases = [
        (
            vec!["-d", "api=false", "-d", "ui=true"],
            "ui=true needs the model API: set api=true",
        ),
        (
            vec!["-d", "api=false", "-d", "docker=true"],
            "docker=true needs the model API: set api=true",
        ),
        (
            vec!["-d", "api=false", "-d", "infrastructure=true"],
            "infrastructure=true needs the model API: set api=true",
        ),
        (
            vec!["--values-file", &values_file],
            "docker=true needs the model API: set api=true",
        ),
    ];
    for (args, message) in cases {
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let generated = generate("combination", &args);
        assert!(!generated.output.status.success(), "{args:?} was accepted");
        let output = stderr_and_stdout(&generated);
        assert!(
            output.contains(message),
            "{args:?}: expected {message:?} in:\n{output}"
        );
        // cargo-generate 0.23 creates the destination before pre hooks run: it must stay empty.
        if generated.dir.exists() {
            assert!(
                files(&generated.dir).is_empty(),
                "{args:?}: files were written"
            );
        }
    }
}

#[test]
fn generating_twice_gives_identical_trees() {
    let first = generate_ok("twice", &Options::defaults().defines());
    let second = generate_ok("twice", &Options::defaults().defines());
    assert_same_tree(&first.dir, &second.dir);
}

#[test]
fn licence_choices_give_their_texts() {
    let mit = generate_ok("licensed", &["-d".into(), "license=MIT".into()]);
    let text = std::fs::read_to_string(mit.dir.join("LICENSE")).expect("LICENSE");
    assert!(
        text.starts_with("MIT License\n\nCopyright (c) 20"),
        "{text}"
    );
    let manifest = std::fs::read_to_string(mit.dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("license = \"MIT\""));

    let proprietary = generate_ok("closed", &["-d".into(), "license=Proprietary".into()]);
    let manifest = std::fs::read_to_string(proprietary.dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest.contains("publish = false") && !manifest.contains("license ="),
        "{manifest}"
    );
}

#[test]
fn the_readme_names_only_make_targets_that_exist() {
    for name in PRESETS {
        let values_file = repo_root().join("examples").join(format!("{name}.toml"));
        let generated = generate_ok(
            "readme-project",
            &["--values-file".into(), values_file.display().to_string()],
        );
        let makefile = std::fs::read_to_string(generated.dir.join("Makefile")).expect("Makefile");
        let targets: Vec<&str> = makefile
            .lines()
            .filter(|line| line.contains(" ## "))
            .filter_map(|line| line.split_once(':').map(|(target, _)| target))
            .collect();
        let readme = std::fs::read_to_string(generated.dir.join("README.md")).expect("README.md");
        for rest in readme.split("make ").skip(1) {
            // Variables given on the command line (`make FEATURES=cloud all`) come before the target.
            let word = rest
                .split(' ')
                .find(|word| !word.contains('='))
                .unwrap_or_default();
            let target: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !target.is_empty() {
                assert!(
                    targets.contains(&target.as_str()),
                    "{name}: README names `make {target}`, not in {targets:?}"
                );
            }
        }
        for target in &targets {
            assert!(
                readme.contains(&format!("make {target}")),
                "{name}: README does not document `make {target}`"
            );
        }
    }
}

/// A git repository holding what cargo-generate reads of this one (the root cargo-generate.toml,
/// template/, hooks/), committed, for `cargo generate --git file://...`.
fn git_repository() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("temp dir");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    let status = Command::new("cp")
        .arg("-R")
        .arg(format!("{}/.", template_tests::template_source().display()))
        .arg(repo.path())
        .status()
        .expect("cp runs");
    assert!(status.success());
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A", "-f"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "-m",
        "template",
    ]);
    repo
}

/// Runs `cargo generate --git <repo> [subfolder] --name <name> --silent` with extra arguments into
/// a fresh temporary directory, and panics with cargo-generate's output if that fails.
fn generate_from_git(
    repo: &std::path::Path,
    subfolder: Option<&str>,
    name: &str,
    args: &[String],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let destination = tempfile::tempdir().expect("temp dir");
    let output = template_tests::cargo_generate()
        .arg("--git")
        .arg(format!("file://{}", repo.display()))
        .args(subfolder)
        .args(["--name", name, "--silent", "--vcs", "none", "--destination"])
        .arg(destination.path())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cargo-generate runs");
    assert!(
        output.status.success(),
        "--git with {subfolder:?} {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = destination.path().join(name);
    (destination, dir)
}

/// `cargo generate --git <repo> --silent` with no subfolder is routed by the root cargo-generate.toml
/// to template/ and gives the same tree, byte for byte, as naming the `template` subfolder and as
/// `--path`; with `-d` values and with a preset's `--values-file` too.
#[test]
fn generating_from_git_finds_the_template() {
    let repo = git_repository();
    let service = repo_root().join("examples/service.toml");
    let cases: [(Options, Vec<String>); 3] = [
        (Options::defaults(), vec![]),
        (
            Options {
                ui: false,
                ci: "gitlab",
                ..Options::defaults()
            },
            vec![
                "-d".into(),
                "ui=false".into(),
                "-d".into(),
                "ci=gitlab".into(),
            ],
        ),
        (
            preset("service"),
            vec!["--values-file".into(), service.display().to_string()],
        ),
    ];
    for (options, args) in cases {
        let (_routed, routed) = generate_from_git(repo.path(), None, "from-git", &args);
        check_project(&routed, &options);
        let (_named, named) = generate_from_git(repo.path(), Some(SUB_TEMPLATE), "from-git", &args);
        assert_same_tree(&routed, &named);
        let from_path = generate_ok("from-git", &args);
        assert_same_tree(&routed, &from_path.dir);
    }
}

/// The root cargo-generate.toml only routes to template/: cargo-generate 0.23 does not merge it with
/// template/cargo-generate.toml, so options, hooks or exclusions put there would silently be ignored.
#[test]
fn the_root_configuration_only_routes_to_the_template() {
    let read = |path: &str| -> toml::Table {
        let path = repo_root().join(path);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let root = read("cargo-generate.toml");
    let template = read("template/cargo-generate.toml");
    assert_eq!(
        root.keys().collect::<Vec<_>>(),
        ["template"],
        "the root cargo-generate.toml holds only [template]"
    );
    let routing = root["template"].as_table().expect("[template]");
    assert_eq!(
        routing.keys().collect::<Vec<_>>(),
        ["cargo_generate_version", "sub_templates"],
        "the root [template] holds only the version and the routing"
    );
    assert_eq!(
        routing["sub_templates"],
        toml::Value::Array(vec![SUB_TEMPLATE.into()])
    );
    let settings = template["template"]
        .as_table()
        .expect("template/ [template]");
    assert_eq!(
        routing["cargo_generate_version"], settings["cargo_generate_version"],
        "both files require the same cargo-generate (0.23 checks template/'s)"
    );
    assert!(
        !settings.contains_key("sub_templates"),
        "template/ is the template itself"
    );
    for table in ["placeholders", "hooks"] {
        assert!(template.contains_key(table), "template/ has [{table}]");
    }
}

/// The names hooks/check-name.rhai refuses include every crate the generated workspace depends on,
/// so a project can never be named like one of its own dependencies.
#[test]
fn reserved_names_cover_every_dependency() {
    let hook = std::fs::read_to_string(repo_root().join("hooks/check-name.rhai")).expect("hook");
    let list = hook
        .split("const RESERVED = [")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("RESERVED list");
    let reserved: std::collections::BTreeSet<String> = list
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .flat_map(|line| line.split(','))
        .map(|word| word.trim().trim_matches('"').to_string())
        .filter(|word| !word.is_empty())
        .collect();

    let options = Options {
        engine: "ballista",
        ..Options::defaults()
    };
    let generated = generate_ok("deps-probe", &options.defines());
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(&generated.dir)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let workspace_packages: Vec<String> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    for package in metadata["packages"].as_array().expect("packages") {
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let name = dependency["name"].as_str().expect("name");
            if workspace_packages.iter().any(|p| p == name) {
                continue;
            }
            let crate_name = name.replace('-', "_");
            assert!(
                reserved.contains(&crate_name),
                "hooks/check-name.rhai does not reserve the dependency {crate_name}"
            );
        }
    }
}

/// Data layers, models and reports are produced, not committed: their folders exist in a fresh
/// project (so a clone has them; with DVC, the pipeline creates those DVC declares as outputs) and
/// everything put in them is git-ignored.
#[test]
fn data_folders_exist_and_their_contents_are_ignored() {
    for dvc in [false, true] {
        check_data_folders(&Options {
            dvc,
            ..Options::defaults()
        });
    }
}

fn check_data_folders(options: &Options) {
    let generated = generate_ok(
        &format!("data-folders-dvc-{}", options.dvc),
        &options.defines(),
    );
    let dir = &generated.dir;
    let mut folders = vec!["src/models", "api/models"];
    let mut kept = folders.clone();
    for folder in DVC_OUTPUT_FOLDERS {
        folders.push(folder);
        if !options.dvc {
            kept.push(folder);
        }
    }
    for folder in &folders {
        assert_eq!(
            dir.join(folder).join(".gitkeep").is_file(),
            kept.contains(folder),
            "{folder}/.gitkeep (dvc={})",
            options.dvc
        );
        std::fs::create_dir_all(dir.join(folder)).expect("create folder");
        std::fs::write(
            dir.join(folder).join("output.csv"),
            "made by a pipeline step",
        )
        .expect("write");
    }
    std::fs::write(dir.join("config/.env"), "SECRET=1").expect("write");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs")
    };
    assert!(git(&["init", "-q"]).status.success());
    let status =
        String::from_utf8_lossy(&git(&["status", "--porcelain", "--untracked-files=all"]).stdout)
            .to_string();
    for folder in &folders {
        assert_eq!(
            status.contains(&format!("{folder}/.gitkeep")),
            kept.contains(folder),
            "{folder}/.gitkeep committable exactly when kept:\n{status}"
        );
        assert!(
            !status.contains(&format!("{folder}/output.csv")),
            "{folder} contents are not ignored"
        );
    }
    assert!(
        !status.contains("config/.env\n") && status.contains("config/.env.example"),
        "{status}"
    );
}

/// Each set of workspace members the options give gets a lock file of exactly its dependencies, at
/// the versions this suite tested: `--locked` (as the Makefile builds) accepts it unchanged
/// (tests/refresh-lockfile.sh rewrites template/locks/).
#[test]
fn every_combination_gets_a_current_lock_file() {
    for api in [false, true] {
        let uis: &[bool] = if api { &[false, true] } else { &[false] };
        for &ui in uis {
            for tracking in TRACKING {
                for engine in ENGINES {
                    let options = Options {
                        api,
                        ui,
                        docker: api,
                        infrastructure: api,
                        tracking,
                        engine,
                        ..Options::defaults()
                    };
                    let generated = generate_ok("zebra-model", &options.defines());
                    let output = Command::new("cargo")
                        .args(["metadata", "--format-version", "1", "--locked"])
                        .current_dir(&generated.dir)
                        .output()
                        .expect("cargo runs");
                    assert!(
                        output.status.success(),
                        "template/locks/ is stale for {options:?}: run tests/refresh-lockfile.sh\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        }
    }
}

/// Generated code names the crate (`use my_model::...`), so its line lengths depend on the project
/// name: short and long names, sorting first and last among imports, all give rustfmt-clean code.
#[test]
fn generated_code_is_formatted_whatever_the_name_length() {
    for name in ["ab", "zebra", "a-forty-character-project-name-for-tests"] {
        assert!(name.len() <= 40, "the longest name check-name.rhai accepts");
        let generated = generate_ok(name, &Options::defaults().defines());
        let output = Command::new("cargo")
            .args(["fmt", "--all", "--check"])
            .current_dir(&generated.dir)
            .output()
            .expect("cargo fmt runs");
        assert!(
            output.status.success(),
            "{name}: generated code is not rustfmt-clean:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
