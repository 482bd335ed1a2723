//! Shared by the API tests: a model trained from the bundled penguins data through the core
//! library's public pipeline, so the tests never depend on files a developer may not have made.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::Path;
use std::sync::OnceLock;

use {{crate_name}}::Model;
use {{crate_name}}::data::{SAMPLE_CSV, bronze, gold, silver};
use {{crate_name}}::schema::Schema;
use {{crate_name}}::training::Hyperparameters;
use {{crate_name}}::utils::paths;

/// The classifier most tests serve (it predicts the species): trained once per test binary (in
/// well under a second).
pub fn trained_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| train("penguins", &Schema::bundled()))
}

/// A regression on the same data: the body mass in grams, with the species among its inputs (the
/// bundled schema with another target, as `config/examples/penguins-body-mass.toml` has it).
pub fn trained_regression_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut schema = Schema::bundled();
        schema.target = "body_mass_g".to_owned();
        train("penguins-body-mass", &schema)
    })
}

/// Runs the core library's public pipeline on the bundled sample with `schema`.
fn train(name: &str, schema: &Schema) -> Model {
    let work = tempfile::tempdir().expect("temporary directory");
    let datasets = work.path().join("datasets");
    bronze::write(&paths::bronze(&datasets), "sample", SAMPLE_CSV, b',').expect("bronze");
    silver::build(
        &paths::bronze(&datasets),
        &paths::silver(&datasets),
        schema,
        b',',
    )
    .expect("silver");
    gold::build(
        &paths::silver(&datasets),
        &paths::gold(&datasets),
        schema,
        0.2,
        42,
    )
    .expect("gold");
    let data = gold::load(&paths::gold(&datasets)).expect("gold loads");
    Model::train(&data, &Hyperparameters::default(), name, "1.0.0", None)
        .expect("training succeeds")
}

/// Saves the classifier with `version` into `dir` (replacing what is there).
pub fn save_model(dir: &Path, version: &str) {
    save(trained_model(), dir, version);
}

/// Saves the regression with `version` into `dir` (replacing what is there).
pub fn save_regression_model(dir: &Path, version: &str) {
    save(trained_regression_model(), dir, version);
}

fn save(model: &Model, dir: &Path, version: &str) {
    let mut model = model.clone();
    model.metadata.version = version.to_owned();
    model.save(dir).expect("model saves");
}

/// A typical Gentoo penguin (long flippers, heavy), as the API expects it.
pub const GENTOO: &str = r#"{"island": "Biscoe", "bill_length_mm": 47.5, "bill_depth_mm": 15.0, "flipper_length_mm": 217, "body_mass_g": 5200, "sex": "male"}"#;

/// A typical Adelie penguin.
pub const ADELIE: &str = r#"{"island": "Torgersen", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181, "body_mass_g": 3750, "sex": "male"}"#;

/// A male Gentoo for the regression, which predicts its body mass from its species and size.
pub const HEAVY_GENTOO: &str = r#"{"species": "Gentoo", "island": "Biscoe", "bill_length_mm": 47.5, "bill_depth_mm": 15.0, "flipper_length_mm": 217, "sex": "male"}"#;

/// A female Adelie for the regression: much lighter.
pub const LIGHT_ADELIE: &str = r#"{"species": "Adelie", "island": "Dream", "bill_length_mm": 37.0, "bill_depth_mm": 17.5, "flipper_length_mm": 185, "sex": "female"}"#;
