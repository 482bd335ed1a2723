//! The web UI: a server-rendered page where a person enters a record, submits it, and sees the
//! model's prediction: a class with the class probabilities as a bar chart, or a number with its
//! unit. The form is built from the fields the API reports (`GET /v1/model`), and the page calls
//! the API from the server, so it needs no CORS, no CDN and no WebAssembly: plain HTML with a
//! little embedded CSS and JavaScript.

pub mod client;
pub mod config;
pub mod page;
pub mod routes;
pub mod server;
