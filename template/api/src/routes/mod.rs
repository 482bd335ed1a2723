//! The HTTP resources, one module each with its own `router()`, handlers and response types;
//! [`crate::app`] merges them, and [`crate::openapi`] documents them.

pub mod admin;
pub mod model;
pub mod operations;
pub mod predict;
