//! Interactive generation in a pseudo-terminal, as a person runs it: the prompts come in order,
//! every default is preselected, and the web UI is only offered when the API is generated.

use rexpect::session::PtySession;
use template_tests::Options;
use template_tests::checks::check_project;

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";

/// Starts `cargo generate --path <template source>` with no answers given, in a 150-column pseudo-terminal.
fn spawn(destination: &std::path::Path) -> PtySession {
    let mut command = template_tests::cargo_generate();
    command
        .arg("--path")
        .arg(template_tests::template_source())
        .args(["--vcs", "none", "--destination"])
        .arg(destination);
    command.env("COLUMNS", "150").env("TERM", "xterm");
    rexpect::session::spawn_command(command, Some(30_000)).expect("cargo-generate starts in a pty")
}

/// Waits for a prompt containing `text`, answers with `keys`, and returns what was shown before it.
fn answer(session: &mut PtySession, text: &str, keys: &str) -> String {
    let shown = session
        .exp_string(text)
        .unwrap_or_else(|e| panic!("prompt {text:?}: {e}"));
    session.send(keys).expect("send keys");
    session.flush().expect("flush");
    shown
}

#[test]
fn accepting_every_default_gives_the_full_project() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(destination.path());
    answer(
        &mut session,
        "Project Name",
        &format!("prompted-full{ENTER}"),
    );
    answer(&mut session, "One-line description", ENTER);
    answer(&mut session, "License", ENTER);
    answer(&mut session, "HTTP API", ENTER);
    answer(&mut session, "Dockerfiles", ENTER);
    answer(&mut session, "CI/CD system", ENTER);
    answer(&mut session, "Kubernetes", ENTER);
    answer(&mut session, "mdBook", ENTER);
    answer(&mut session, "notebooks", ENTER);
    answer(&mut session, "web page", ENTER);
    session.exp_string("Done!").expect("generation finishes");
    session.exp_eof().expect("cargo-generate exits");
    check_project(
        &destination.path().join("prompted-full"),
        &Options::defaults(),
    );
}

#[test]
fn without_the_api_the_ui_is_not_offered() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(destination.path());
    answer(
        &mut session,
        "Project Name",
        &format!("prompted-core{ENTER}"),
    );
    answer(&mut session, "One-line description", ENTER);
    answer(&mut session, "License", &format!("{UP}{UP}{ENTER}"));
    answer(&mut session, "HTTP API", &format!("{UP}{ENTER}"));
    answer(&mut session, "Dockerfiles", &format!("{UP}{ENTER}"));
    answer(&mut session, "CI/CD system", ENTER);
    answer(&mut session, "Kubernetes", &format!("{UP}{ENTER}"));
    answer(&mut session, "mdBook", ENTER);
    answer(&mut session, "notebooks", ENTER);
    let rest = session.exp_string("Done!").expect("generation finishes");
    assert!(
        !rest.contains("web page"),
        "the UI was offered without the API:\n{rest}"
    );
    session.exp_eof().expect("cargo-generate exits");
    let options = Options {
        license: "BSD-3-Clause",
        api: false,
        ui: false,
        docker: false,
        infrastructure: false,
        ..Options::defaults()
    };
    check_project(&destination.path().join("prompted-core"), &options);
}
