//! Atomic writes: a reader never sees a half-written file or model directory.
//!
//! Files are written to a temporary sibling and renamed into place; a rename within one directory is
//! atomic on POSIX file systems, so a crash leaves either the old or the new version, never a mix.

use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = parent_of(path);
    std::fs::create_dir_all(parent)?;
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Serialises `value` as pretty JSON (with a final newline) and writes it atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// A fresh staging directory next to `target`, for building a directory that [`replace_dir`] then swaps in.
pub fn staging_dir(target: &Path) -> io::Result<PathBuf> {
    let staging = temp_sibling(target);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    Ok(staging)
}

/// Moves a fully written `staging` directory to `target`, replacing any previous version.
///
/// Directories cannot be renamed over non-empty ones, so the old version is first moved aside; the
/// window in which `target` is absent is two renames long and never exposes partial content.
pub fn replace_dir(staging: &Path, target: &Path) -> io::Result<()> {
    let old = target.with_file_name(format!(".{}.old-{}", file_name(target), std::process::id()));
    let had_old = target.exists();
    if had_old {
        std::fs::rename(target, &old)?;
    }
    if let Err(err) = std::fs::rename(staging, target) {
        if had_old {
            let _ = std::fs::rename(&old, target);
        }
        return Err(err);
    }
    if had_old {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

fn temp_sibling(path: &Path) -> PathBuf {
    path.with_file_name(format!(".{}.tmp-{}", file_name(path), std::process::id()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unnamed".to_owned())
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/out.txt");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(entries.len(), 1, "temporary files must not be left behind");
    }

    #[test]
    fn replace_dir_swaps_whole_directory() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("stale.json"), b"old").unwrap();

        let staging = staging_dir(&target).unwrap();
        std::fs::write(staging.join("model.json"), b"new").unwrap();
        replace_dir(&staging, &target).unwrap();

        assert!(!target.join("stale.json").exists());
        assert_eq!(std::fs::read(target.join("model.json")).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
