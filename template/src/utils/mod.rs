//! Cross-cutting helpers: logging, paths, hashing, atomic file writes, timestamps and memory figures.

pub mod fs;
pub mod hashing;
pub mod logging;
pub mod memory;
pub mod paths;
pub mod time;
