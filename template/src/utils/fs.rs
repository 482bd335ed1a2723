//! Atomic writes: a reader never sees a half-written file or model directory.
//!
//! Files are written to a temporary sibling and renamed into place; a rename within one directory is
//! atomic on POSIX file systems, so a crash leaves either the old or the new version, never a mix.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically, creating parent directories as needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut writer = AtomicWriter::create_in(parent_of(path))?;
    writer.write_all(bytes)?;
    writer.commit(path).map(drop)
}

/// What an [`AtomicWriter`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub bytes: u64,
}

/// A file streamed to a temporary name in its final folder and renamed into place by
/// [`AtomicWriter::commit`]; dropped without a commit, it leaves nothing behind. It hashes what it
/// writes, so a layer's manifest entry needs no second pass over the file.
pub struct AtomicWriter {
    file: BufWriter<std::fs::File>,
    tmp: PathBuf,
    hasher: Sha256,
    bytes: u64,
    committed: bool,
}

impl AtomicWriter {
    /// Starts a file in `dir` (created as needed); its name is given at commit time.
    pub fn create_in(dir: &Path) -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(dir)?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".incoming.tmp-{}-{n}", std::process::id()));
        let file = std::fs::File::create(&tmp)?;
        Ok(Self {
            file: BufWriter::with_capacity(1 << 20, file),
            tmp,
            hasher: Sha256::new(),
            bytes: 0,
            committed: false,
        })
    }

    /// The SHA-256 of what has been written so far.
    pub fn sha256(&self) -> String {
        crate::utils::hashing::to_hex(&self.hasher.clone().finalize())
    }

    /// Flushes, syncs and renames the file to `path` (in the folder given to `create_in`).
    pub fn commit(mut self, path: &Path) -> io::Result<Written> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        std::fs::rename(&self.tmp, path)?;
        self.committed = true;
        Ok(self.written())
    }

    /// Deletes the temporary file; returns what it held.
    pub fn abandon(self) -> Written {
        self.written()
    }

    fn written(&self) -> Written {
        Written {
            sha256: self.sha256(),
            bytes: self.bytes,
        }
    }
}

impl Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
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
    fn atomic_writer_hashes_what_it_commits_and_cleans_up_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = AtomicWriter::create_in(dir.path()).unwrap();
        writer.write_all(b"ab").unwrap();
        writer.write_all(b"c").unwrap();
        let written = writer.commit(&dir.path().join("abc.txt")).unwrap();
        assert_eq!(written.sha256, crate::utils::hashing::sha256_hex(b"abc"));
        assert_eq!(written.bytes, 3);
        let abandoned = AtomicWriter::create_in(dir.path()).unwrap();
        drop(abandoned);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["abc.txt"]);
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
