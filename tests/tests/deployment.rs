//! Slow tier: the Kubernetes overlays of generated projects, rendered as `deploy.sh` renders them
//! (`kubectl kustomize`, from the linters' virtualenv or the machine), hold what production needs:
//! registry-qualified images in prod, NetworkPolicies that name their clients, the admin token from
//! an optional Secret (never the ConfigMap), the part-of/instance labels on every pod template, and
//! the pipeline as a suspended CronJob running the steps in order on the pipeline image.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use template_tests::{generate_ok, repo_root, run};
use yaml_rust2::{Yaml, YamlLoader};

fn generate_preset(name: &str) -> template_tests::Generated {
    let values_file = repo_root().join("examples").join(format!("{name}.toml"));
    generate_ok(
        &format!("{name}-project"),
        &["--values-file".into(), values_file.display().to_string()],
    )
}

/// PATH with the linters' virtualenv first (it holds kubectl, see tests/lint/requirements.txt).
fn path_with_linters() -> String {
    let venv: PathBuf = repo_root().join("target").join("lint-venv").join("bin");
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a program in `dir` with kubectl on PATH and no cluster configured (so `deploy.sh
/// --dry-run` prints the manifests rather than diffing against whatever cluster is configured).
fn output(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", path_with_linters())
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn stdout_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = output(dir, program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn render(dir: &Path, overlay: &str) -> Vec<Yaml> {
    let text = stdout_ok(
        dir,
        "kubectl",
        &["kustomize", &format!("infrastructure/overlays/{overlay}")],
    );
    YamlLoader::load_from_str(&text).expect("rendered YAML parses")
}

fn of_kind<'a>(docs: &'a [Yaml], kind: &str) -> Vec<&'a Yaml> {
    docs.iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .collect()
}

fn named<'a>(docs: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    of_kind(docs, kind)
        .into_iter()
        .find(|d| d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn list(yaml: &Yaml) -> &[Yaml] {
    yaml.as_vec().map(Vec::as_slice).unwrap_or(&[])
}

fn check_overlay(dir: &Path, project: &str, overlay: &str, web_ui: bool) {
    let docs = render(dir, overlay);
    let components: &[&str] = if web_ui { &["api", "ui"] } else { &["api"] };

    // Labels and scheduling on every pod template.
    for component in components {
        let deployment = named(&docs, "Deployment", &format!("{project}-{component}"));
        let template = &deployment["spec"]["template"];
        let labels = &template["metadata"]["labels"];
        assert_eq!(
            labels["app.kubernetes.io/part-of"].as_str(),
            Some(project),
            "{overlay} {component}: part-of label on the pod template"
        );
        assert_eq!(
            labels["app.kubernetes.io/instance"].as_str(),
            Some(format!("{project}-{overlay}").as_str()),
            "{overlay} {component}: instance label on the pod template"
        );
        let spec = &template["spec"];
        assert!(
            !list(&spec["topologySpreadConstraints"]).is_empty(),
            "{overlay} {component}: topologySpreadConstraints"
        );
        let container = &spec["containers"][0];
        assert!(
            !container["startupProbe"].is_badvalue(),
            "{overlay} {component}: startupProbe"
        );
        // (2) prod pulls from a registry: the first path segment of the image is a host.
        let image = container["image"].as_str().expect("image");
        if overlay == "prod" {
            let host = image.split('/').next().expect("segment");
            assert!(
                image.contains('/') && host.contains('.'),
                "prod image {image} names no registry"
            );
        }
    }

    // The pipeline: a suspended CronJob whose pods run the steps in order, on the project's
    // pipeline image (from the registry in prod), with the same labels.
    let cronjob = named(&docs, "CronJob", &format!("{project}-pipeline"));
    assert_eq!(
        cronjob["spec"]["suspend"].as_bool(),
        Some(true),
        "{overlay}"
    );
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/instance"].as_str(),
        Some(format!("{project}-{overlay}").as_str()),
        "{overlay} pipeline: instance label on the pod template"
    );
    let steps: Vec<&Yaml> = list(&pod["spec"]["initContainers"])
        .iter()
        .chain(list(&pod["spec"]["containers"]))
        .collect();
    let commands: Vec<&str> = steps
        .iter()
        .map(|step| step["command"][0].as_str().expect("command"))
        .collect();
    assert_eq!(
        commands,
        [
            "/app/bin/make_dataset",
            "/app/bin/train_model",
            "/app/bin/test_model",
            "/app/bin/promote_model"
        ],
        "{overlay}: the pipeline's steps, in order"
    );
    for step in steps {
        let image = step["image"].as_str().expect("image");
        assert!(
            image.contains(&format!("{project}-pipeline:")),
            "{overlay}: {image}"
        );
        if overlay == "prod" {
            assert!(image.contains('.'), "prod image {image} names no registry");
        }
    }

    for component in components {
        let deployment = named(&docs, "Deployment", &format!("{project}-{component}"));
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/scrape"]
                .as_str(),
            Some("true"),
            "{overlay}: the {component} pods are scraped"
        );
    }
    let api = named(&docs, "Deployment", &format!("{project}-api"));
    let template = &api["spec"]["template"];

    // (6) The admin token comes from an optional Secret, never from the ConfigMap.
    let env_from = list(&template["spec"]["containers"][0]["envFrom"]);
    let secret_ref = env_from
        .iter()
        .map(|e| &e["secretRef"])
        .find(|s| !s.is_badvalue())
        .expect("the API reads a Secret");
    assert_eq!(
        secret_ref["name"].as_str(),
        Some(format!("{project}-api-secrets").as_str())
    );
    assert_eq!(secret_ref["optional"].as_bool(), Some(true));
    for config_map in of_kind(&docs, "ConfigMap") {
        let keys = config_map["data"].as_hash().expect("data");
        for key in keys.keys() {
            let key = key.as_str().expect("key");
            assert!(!key.contains("TOKEN"), "{key} in a ConfigMap");
        }
    }

    // (5) Every ingress rule of every NetworkPolicy names its sources.
    for policy in of_kind(&docs, "NetworkPolicy") {
        for rule in list(&policy["spec"]["ingress"]) {
            assert!(
                !list(&rule["from"]).is_empty(),
                "{overlay}: {:?} has an ingress rule open to every pod",
                policy["metadata"]["name"]
            );
        }
    }
    let api_policy = named(&docs, "NetworkPolicy", &format!("{project}-api"));
    let sources: Vec<&Yaml> = list(&api_policy["spec"]["ingress"])
        .iter()
        .flat_map(|rule| list(&rule["from"]))
        .collect();
    assert!(
        sources.iter().any(
            |s| s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
                == Some("monitoring")
        ),
        "{overlay}: the monitoring namespace reaches the API"
    );
    let from_ingress_controller = sources.iter().any(|s| {
        s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str()
            == Some("ingress-nginx")
    });
    if web_ui {
        assert!(
            sources.iter().any(
                |s| s["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str()
                    == Some(format!("{project}-ui").as_str())
            ),
            "{overlay}: the UI reaches the API"
        );
        assert!(!from_ingress_controller, "{overlay}: the API is internal");
    } else {
        assert!(
            from_ingress_controller,
            "{overlay}: the API's Ingress reaches it"
        );
    }
    // One Ingress publishes the project: the UI, or the API without one; in prod with TLS from
    // cert-manager (3).
    let published = if web_ui { "ui" } else { "api" };
    let ingresses = of_kind(&docs, "Ingress");
    assert_eq!(ingresses.len(), 1, "{overlay}: one Ingress");
    let ingress = named(&docs, "Ingress", &format!("{project}-{published}"));
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"].as_str(),
        Some(format!("{project}-{published}").as_str()),
        "{overlay}: the Ingress routes to the {published} Service"
    );
    if overlay == "prod" {
        assert!(
            ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
                .as_str()
                .is_some(),
            "prod Ingress: no cert-manager issuer"
        );
        assert_eq!(
            ingress["spec"]["tls"][0]["secretName"].as_str(),
            Some(format!("{project}-tls").as_str()),
            "prod Ingress: TLS"
        );
    }
}

/// `deploy.sh --dry-run` with a registry, a tag and the git-ignored secrets file: the Secret is
/// generated in the namespace and the API's secretRef follows its hashed name.
fn check_deploy_dry_run(dir: &Path, project: &str) {
    let refused = output(dir, "deployment/scripts/deploy.sh", &["prod", "--dry-run"]);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "deploy.sh prod with the placeholder registry must refuse"
    );
    let secrets = dir.join("infrastructure/overlays/prod/api-secrets.env");
    std::fs::write(&secrets, "API_ADMIN_TOKEN=not-a-real-token\n").expect("write secrets");
    let text = stdout_ok(
        dir,
        "deployment/scripts/deploy.sh",
        &[
            "prod",
            "--dry-run",
            "--registry",
            "registry.example.org/acme",
            "--tag",
            "1.2.3",
        ],
    );
    std::fs::remove_file(&secrets).expect("remove secrets");
    let docs = YamlLoader::load_from_str(&text).expect("deploy.sh prints YAML");
    let secret = of_kind(&docs, "Secret")
        .into_iter()
        .next()
        .expect("a generated Secret");
    let secret_name = secret["metadata"]["name"].as_str().expect("name");
    assert!(secret_name.starts_with(&format!("{project}-api-secrets-")));
    assert_eq!(secret["metadata"]["namespace"].as_str(), Some(project));
    let api = named(&docs, "Deployment", &format!("{project}-api"));
    let container = &api["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"].as_str(),
        Some(format!("registry.example.org/acme/{project}-api:1.2.3").as_str())
    );
    assert!(
        list(&container["envFrom"])
            .iter()
            .any(|e| e["secretRef"]["name"].as_str() == Some(secret_name)),
        "the API's secretRef follows the generated Secret"
    );
    let cronjob = named(&docs, "CronJob", &format!("{project}-pipeline"));
    let step = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        step["image"].as_str(),
        Some(format!("registry.example.org/acme/{project}-pipeline:1.2.3").as_str()),
        "deploy.sh sets the pipeline's image too"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("infrastructure/overlays"))
        .expect("overlays")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".deploy."))
        .collect();
    assert!(leftovers.is_empty(), "deploy.sh left {leftovers:?} behind");
}

#[test]
#[ignore = "slow: renders the Kubernetes overlays of the full preset"]
fn full_preset_overlays_are_production_ready() {
    let project = generate_preset("full");
    for overlay in ["dev", "prod"] {
        check_overlay(&project.dir, "full-project", overlay, true);
    }
    check_deploy_dry_run(&project.dir, "full-project");
}

#[test]
#[ignore = "slow: renders the Kubernetes overlays of the service preset (API without UI)"]
fn service_preset_overlays_are_production_ready() {
    let project = generate_preset("service");
    for overlay in ["dev", "prod"] {
        check_overlay(&project.dir, "service-project", overlay, false);
    }
    check_deploy_dry_run(&project.dir, "service-project");
}

/// With the Ballista engine: a scheduler (one replica, its Service) and executors on the project's
/// Ballista image, the datasets volume (ReadWriteMany) mounted by the executors and by every pipeline
/// step, whose first step runs silver on the scheduler, and NetworkPolicies that let only the
/// pipeline and the executors reach the scheduler.
fn check_ballista_overlay(dir: &Path, project: &str, overlay: &str) {
    let docs = render(dir, overlay);
    let claim = format!("{project}-datasets");
    let pvc = named(&docs, "PersistentVolumeClaim", &claim);
    assert_eq!(
        list(&pvc["spec"]["accessModes"]),
        [Yaml::from_str("ReadWriteMany")]
    );
    let mounts_claim = |pod: &Yaml| {
        list(&pod["spec"]["volumes"]).iter().any(|volume| {
            volume["persistentVolumeClaim"]["claimName"].as_str() == Some(claim.as_str())
        })
    };

    let scheduler_name = format!("{project}-ballista-scheduler");
    let scheduler = named(&docs, "Deployment", &scheduler_name);
    assert_eq!(scheduler["spec"]["replicas"].as_i64(), Some(1), "{overlay}");
    assert_eq!(
        named(&docs, "Service", &scheduler_name)["spec"]["ports"][0]["port"].as_i64(),
        Some(50050)
    );
    let executor = named(&docs, "Deployment", &format!("{project}-ballista-executor"));
    assert!(
        mounts_claim(&executor["spec"]["template"]),
        "{overlay}: executors mount {claim}"
    );
    for deployment in [scheduler, executor] {
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let image = container["image"].as_str().expect("image");
        assert!(
            image.contains(&format!("{project}-ballista:")),
            "{overlay}: {image}"
        );
        if overlay == "prod" {
            assert!(image.contains('.'), "prod image {image} names no registry");
        }
    }

    let cronjob = named(&docs, "CronJob", &format!("{project}-pipeline"));
    let pod = &cronjob["spec"]["jobTemplate"]["spec"]["template"];
    assert!(mounts_claim(pod), "{overlay}: the pipeline mounts {claim}");
    assert_eq!(
        pod["spec"]["initContainers"][0]["command"][0].as_str(),
        Some("/app/bin/make_dataset_cluster"),
        "{overlay}: the first step runs silver on the cluster"
    );
    let config = of_kind(&docs, "ConfigMap")
        .into_iter()
        .find(|map| {
            map["metadata"]["name"]
                .as_str()
                .is_some_and(|name| name.starts_with(&format!("{project}-pipeline-config")))
        })
        .expect("the pipeline's ConfigMap");
    assert_eq!(
        config["data"]["BALLISTA_SCHEDULER"].as_str(),
        Some(format!("df://{scheduler_name}:50050").as_str())
    );
    assert_eq!(
        config["data"]["DATASETS_DIR"].as_str(),
        Some("/data/datasets")
    );

    let policy = named(&docs, "NetworkPolicy", &scheduler_name);
    let clients: Vec<&str> = list(&policy["spec"]["ingress"][0]["from"])
        .iter()
        .filter_map(|peer| peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str())
        .collect();
    assert_eq!(
        clients,
        [
            format!("{project}-pipeline"),
            format!("{project}-ballista-executor")
        ],
        "{overlay}: who reaches the scheduler"
    );
    let pipeline_policy = named(&docs, "NetworkPolicy", &format!("{project}-pipeline"));
    assert!(
        list(&pipeline_policy["spec"]["egress"]).iter().any(|rule| {
            rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].as_str()
                == Some(scheduler_name.as_str())
        }),
        "{overlay}: the pipeline reaches the scheduler"
    );
}

#[test]
#[ignore = "slow: renders and lints the Kubernetes overlays of the full preset with the Ballista engine"]
fn ballista_overlays_run_silver_on_the_cluster() {
    let project = generate_ok(
        "ballista-project",
        &[
            "--values-file".into(),
            repo_root().join("examples/full.toml").display().to_string(),
            "-d".into(),
            "engine=ballista".into(),
        ],
    );
    for overlay in ["dev", "prod"] {
        check_ballista_overlay(&project.dir, "ballista-project", overlay);
    }
    // kubernetes-validate --strict, checkov, hadolint on the Ballista image, and the rest.
    run(
        &repo_root(),
        "bash",
        &[
            "tests/lint/run-linters.sh",
            &project.dir.display().to_string(),
        ],
    );
}
