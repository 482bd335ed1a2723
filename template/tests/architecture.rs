//! The core library's modules form a strict order (declared in src/lib.rs; ARCHITECTURE.md says
//! why): a module may use the ones before it, never one after it. This test reads the sources and
//! fails on a `crate::` path that reaches up, naming the file and the line.

use std::path::{Path, PathBuf};

/// The top-level modules of src/lib.rs, lowest first.
fn declared_order(lib: &str) -> Vec<String> {
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_owned())
        .collect()
}

/// Every `.rs` file of a module: `src/<module>.rs`, or everything below `src/<module>/`.
fn module_files(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("module folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The modules `crate::<name>` paths in `text` name, with their line numbers.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push((number + 1, name));
        }
    }
    found
}

#[test]
fn no_module_uses_one_declared_after_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared_order(&std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs"));
    assert!(
        order.len() > 5,
        "src/lib.rs declares the modules: {order:?}"
    );
    let mut violations = Vec::new();
    for (rank, module) in order.iter().enumerate() {
        for file in module_files(&src, module) {
            let text = std::fs::read_to_string(&file).expect("source file");
            for (line, used) in crate_paths(&text) {
                if order
                    .iter()
                    .position(|name| *name == used)
                    .is_some_and(|r| r > rank)
                {
                    violations.push(format!(
                        "{}:{line}: `{module}` uses `{used}`, declared after it in src/lib.rs",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn a_path_up_the_order_is_found() {
    let text =
        "use crate::schema::Schema;\n// crate::config in a comment\nlet x = crate::config::load();";
    assert_eq!(
        crate_paths(text),
        [(1, "schema".to_owned()), (3, "config".to_owned())]
    );
    assert_eq!(
        declared_order("/// doc\npub mod utils;\n\n/// doc\npub mod data;\n"),
        ["utils", "data"]
    );
}
