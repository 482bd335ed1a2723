//! Interactive generation in a pseudo-terminal, as a person runs it: the root cargo-generate.toml
//! first asks which sub-template to expand, with `template` preselected; then the prompts come in
//! order, every default is preselected, and the questions that need the API (Docker, Kubernetes,
//! the web UI) follow it and are only asked when the API is generated.

use rexpect::session::PtySession;
use template_tests::checks::check_project;
use template_tests::{Options, SUB_TEMPLATE, SUB_TEMPLATE_QUESTION};

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";
const DOWN: &str = "\x1b[B";

/// Starts `cargo generate --path <template source> [subfolder]` with no answers given but `extra`,
/// in a 150-column pseudo-terminal.
fn spawn(destination: &std::path::Path, subfolder: Option<&str>, extra: &[&str]) -> PtySession {
    let mut command = template_tests::cargo_generate();
    command
        .arg("--path")
        .arg(template_tests::template_source())
        .args(subfolder)
        .args(["--vcs", "none", "--destination"])
        .arg(destination)
        .args(extra);
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

/// The terminal output as text, without its escape sequences (colours, cursor moves). rexpect
/// hands over each byte as one char, so UTF-8 (the `·` cargo-generate echoes an answer with) is
/// decoded here.
fn plain(shown: &str) -> String {
    let bytes: Vec<u8> = shown
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Answers the sub-template question with Enter alone and checks that this took `template`: the
/// answer cargo-generate echoes is shown before the next prompt, `next`.
fn take_the_preselected_template(session: &mut PtySession, next: &str, keys: &str) {
    let question = plain(&answer(session, SUB_TEMPLATE_QUESTION, ENTER));
    assert!(
        !question.contains("Project Name"),
        "the sub-template question is not the first:\n{question}"
    );
    let shown = plain(&answer(session, next, keys));
    assert!(
        shown.contains(&format!("{SUB_TEMPLATE_QUESTION} · {SUB_TEMPLATE}")),
        "Enter did not take the preselected {SUB_TEMPLATE:?}:\n{shown}"
    );
}

/// The prompts after the project name, in the order cargo-generate asks them when the API is on.
const PROMPTS: [&str; 12] = [
    "One-line description",
    "License",
    "CI/CD system",
    "mdBook",
    "notebooks",
    "Experiment tracking",
    "DVC pipeline",
    "pipeline engine",
    "HTTP API",
    "Dockerfiles",
    "Kubernetes",
    "web page",
];

/// The prompts that are only asked when the API is on: the last ones.
const NEED_THE_API: [&str; 3] = ["Dockerfiles", "Kubernetes", "web page"];

/// The note hooks/pre.rhai prints when the API is off and none of the options that need it was given.
const NO_API_NOTE: &str =
    "Note: ui, docker and infrastructure need the model API, so with api=false they are off.";

/// The options of a project generated without the API.
fn without_the_api(options: Options) -> Options {
    Options {
        api: false,
        ui: false,
        docker: false,
        infrastructure: false,
        ..options
    }
}

/// Waits for the end of a generation without the API: none of the questions that need it was
/// asked, the note says they are off, and cargo-generate succeeds.
fn finish_without_the_api(session: &mut PtySession) {
    let rest = plain(&session.exp_string("Done!").expect("generation finishes"));
    for prompt in NEED_THE_API {
        assert!(
            !rest.contains(prompt),
            "{prompt:?} was asked without the API:\n{rest}"
        );
    }
    assert!(rest.contains(NO_API_NOTE), "no note:\n{rest}");
    session.exp_eof().expect("cargo-generate exits");
}

#[test]
fn accepting_every_default_gives_the_full_project() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(destination.path(), None, &[]);
    take_the_preselected_template(
        &mut session,
        "Project Name",
        &format!("prompted-full{ENTER}"),
    );
    for prompt in PROMPTS {
        answer(&mut session, prompt, ENTER);
    }
    let rest = plain(&session.exp_string("Done!").expect("generation finishes"));
    assert!(!rest.contains("Note:"), "a note with the API on:\n{rest}");
    session.exp_eof().expect("cargo-generate exits");
    check_project(
        &destination.path().join("prompted-full"),
        &Options::defaults(),
    );
}

/// Issue 14: "no" to the API and Enter to every other prompt used to abort after the last prompt
/// (the Docker and Kubernetes defaults contradicted it) and leave an empty directory.
#[test]
fn no_to_the_api_and_enter_to_everything_else_gives_a_project_without_serving() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(destination.path(), None, &[]);
    take_the_preselected_template(
        &mut session,
        "Project Name",
        &format!("prompted-no-api{ENTER}"),
    );
    for prompt in PROMPTS.iter().take_while(|prompt| **prompt != "HTTP API") {
        answer(&mut session, prompt, ENTER);
    }
    answer(&mut session, "HTTP API", &format!("{UP}{ENTER}"));
    finish_without_the_api(&mut session);
    let project = destination.path().join("prompted-no-api");
    for part in ["api", "ui", "deployment/docker", "infrastructure"] {
        assert!(!project.join(part).exists(), "{part}/ was generated");
    }
    check_project(&project, &without_the_api(Options::defaults()));
}

#[test]
fn without_the_api_the_questions_that_need_it_are_not_asked() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(destination.path(), None, &[]);
    take_the_preselected_template(
        &mut session,
        "Project Name",
        &format!("prompted-core{ENTER}"),
    );
    answer(&mut session, "One-line description", ENTER);
    answer(&mut session, "License", &format!("{UP}{UP}{ENTER}"));
    answer(&mut session, "CI/CD system", &format!("{DOWN}{ENTER}"));
    answer(&mut session, "mdBook", &format!("{UP}{ENTER}"));
    answer(&mut session, "notebooks", ENTER);
    answer(
        &mut session,
        "Experiment tracking",
        &format!("{DOWN}{ENTER}"),
    );
    answer(&mut session, "DVC pipeline", &format!("{UP}{ENTER}"));
    answer(&mut session, "pipeline engine", ENTER);
    answer(&mut session, "HTTP API", &format!("{UP}{ENTER}"));
    finish_without_the_api(&mut session);
    let options = Options {
        license: "BSD-3-Clause",
        ci: "gitlab",
        docs: false,
        tracking: "none",
        dvc: false,
        ..without_the_api(Options::defaults())
    };
    check_project(&destination.path().join("prompted-core"), &options);
}

/// `cargo generate <source> template --name ...`, as the README says, asks no sub-template question:
/// the first prompt is the first option.
#[test]
fn naming_the_template_folder_skips_the_sub_template_question() {
    let destination = tempfile::tempdir().expect("temp dir");
    let mut session = spawn(
        destination.path(),
        Some(SUB_TEMPLATE),
        &["--name", "prompted-named"],
    );
    let before = answer(&mut session, "One-line description", ENTER);
    assert!(
        !before.contains("sub-template"),
        "the sub-template question was asked:\n{before}"
    );
    for prompt in &PROMPTS[1..] {
        answer(&mut session, prompt, ENTER);
    }
    session.exp_string("Done!").expect("generation finishes");
    session.exp_eof().expect("cargo-generate exits");
    check_project(
        &destination.path().join("prompted-named"),
        &Options::defaults(),
    );
}

/// The README shows the question this suite answers, word for word, and how to skip it.
#[test]
fn the_readme_shows_the_sub_template_question() {
    let readme =
        std::fs::read_to_string(template_tests::repo_root().join("README.md")).expect("README.md");
    for text in [
        format!("{SUB_TEMPLATE_QUESTION} · {SUB_TEMPLATE}"),
        format!("cargo generate --git <this repository> {SUB_TEMPLATE} --name"),
        "--silent".to_string(),
    ] {
        assert!(readme.contains(&text), "README.md does not show {text:?}");
    }
}
