//! bench_pipeline: times every pipeline step on the bundled data and on a synthetic
//! penguins-like file, printing rows/s and peak memory. A benchmark, not a test.

use anyhow::{Context, Result};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use {{crate_name}}::config;
use {{crate_name}}::data::gold::{self, SplitMix64};
use {{crate_name}}::data::{SAMPLE_CSV, bronze, silver};
use {{crate_name}}::schema::Schema;
use {{crate_name}}::training::{Algorithm, Hyperparameters};
use {{crate_name}}::utils::memory::peak_rss_bytes;
use {{crate_name}}::utils::{logging, paths};
use {{crate_name}}::{Model, batch};

/// Benchmark ingest, silver, gold, training and batch prediction; print a table of timings.
///
/// Run it in release mode: `cargo run --release --bin bench_pipeline`.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    /// Rows of the synthetic penguins-like file (0 skips it)
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Scratch folder for the benchmark's data layers and models (replaced on each run)
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
    /// Seed of the synthetic data and of the split
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Algorithms to train, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "linear,decision_tree")]
    algorithms: Vec<Algorithm>,
    #[command(flatten)]
    log: config::LogSettings,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.log.init();
    if cli.work_dir.exists() {
        std::fs::remove_dir_all(&cli.work_dir)
            .with_context(|| format!("cannot clear {}", cli.work_dir.display()))?;
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; use `cargo run --release --bin bench_pipeline` for real figures"
        );
    }
    println!("| dataset | step | rows | seconds | rows/s | peak RSS (MiB) |");
    println!("|---|---|---:|---:|---:|---:|");
    let schema = Schema::bundled();
    bench_dataset(
        "bundled",
        SAMPLE_CSV.to_vec(),
        &schema,
        &cli,
        &cli.work_dir.join("bundled"),
    )?;
    if cli.rows > 0 {
        let start = Instant::now();
        let bytes = synthetic_csv(cli.rows, cli.seed);
        report("synthetic", "generate", cli.rows, start);
        bench_dataset(
            "synthetic",
            bytes,
            &schema,
            &cli,
            &cli.work_dir.join("synthetic"),
        )?;
    }
    Ok(())
}

fn report(dataset: &str, step: &str, rows: u64, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    let peak =
        peak_rss_bytes().map_or("n/a".to_owned(), |b| format!("{:.1}", b as f64 / 1048576.0));
    println!(
        "| {dataset} | {step} | {rows} | {secs:.3} | {:.0} | {peak} |",
        rows as f64 / secs.max(1e-9)
    );
    let _ = std::io::stdout().flush();
}

fn bench_dataset(name: &str, bytes: Vec<u8>, schema: &Schema, cli: &Cli, dir: &Path) -> Result<()> {
    let start = Instant::now();
    let b = bronze::write(&paths::bronze(dir), name, bytes.as_slice(), b',')?;
    drop(bytes);
    report(name, "bronze", b.data.rows, start);

    let start = Instant::now();
    let s = silver::build(&paths::bronze(dir), &paths::silver(dir), schema, b',')?;
    report(name, "silver", s.rows.bronze_rows, start);

    let start = Instant::now();
    let g = gold::build(
        &paths::silver(dir),
        &paths::gold(dir),
        schema,
        0.2,
        cli.seed,
    )?;
    report(name, "gold", s.rows.silver_rows, start);

    let start = Instant::now();
    let data = gold::load(&paths::gold(dir))?;
    report(name, "load gold", g.train.rows + g.test.rows, start);

    for &algorithm in &cli.algorithms {
        let params = Hyperparameters {
            algorithm,
            ..Hyperparameters::default()
        };
        let start = Instant::now();
        let model = Model::train(&data, &params, "bench", "0", None)?;
        report(name, &format!("train {algorithm}"), g.train.rows, start);
        let model_dir = dir.join(format!("model-{algorithm}"));
        model.save(&model_dir)?;
        let model = Model::load(&model_dir)?;

        let start = Instant::now();
        let summary = batch::predict_file(
            &model,
            &paths::gold(dir).join(gold::TEST_RAW_FILE),
            b',',
            &dir.join(format!("predictions-{algorithm}.csv")),
        )?;
        report(
            name,
            &format!("predict {algorithm}"),
            summary.predicted,
            start,
        );
        tracing::info!(metrics = ?model.metadata.metrics.headline(), %algorithm, "held-out metrics");
    }
    Ok(())
}

/// A species as seen in the real data.
struct Species {
    name: &'static str,
    /// Mean and standard deviation of bill length, bill depth, flipper length and body mass.
    measurements: [(f64, f64); 4],
    islands: &'static [&'static str],
}

const SPECIES: [Species; 3] = [
    Species {
        name: "Adelie",
        measurements: [(38.8, 2.7), (18.3, 1.2), (190.0, 6.5), (3700.0, 460.0)],
        islands: &["Biscoe", "Dream", "Torgersen"],
    },
    Species {
        name: "Chinstrap",
        measurements: [(48.8, 3.3), (18.4, 1.1), (196.0, 7.1), (3733.0, 384.0)],
        islands: &["Dream"],
    },
    Species {
        name: "Gentoo",
        measurements: [(47.5, 3.1), (15.0, 1.0), (217.0, 6.5), (5076.0, 504.0)],
        islands: &["Biscoe"],
    },
];

/// A penguins-like CSV of `rows` rows: Gaussian measurements per species, about 1% missing values
/// and 0.1% malformed rows, so every silver rule has work to do.
fn synthetic_csv(rows: u64, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let mut gaussian = move |mean: f64, sd: f64| {
        // Box-Muller transform.
        let (u1, u2) = (1.0 - rng.unit(), rng.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let mut choice = SplitMix64::new(seed ^ 0x5EED);
    let mut out = Vec::with_capacity(rows as usize * 60);
    out.extend_from_slice(
        b"species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n",
    );
    for _ in 0..rows {
        let species = &SPECIES[choice.below(3) as usize];
        let island = species.islands[choice.below(species.islands.len() as u64) as usize];
        let mut fields = vec![species.name.to_owned(), island.to_owned()];
        for (i, (mean, sd)) in species.measurements.iter().enumerate() {
            let value = gaussian(*mean, *sd);
            fields.push(match choice.below(1000) {
                0..=9 => "NA".to_owned(),
                10 => "not-a-number".to_owned(),
                _ if i < 2 => format!("{value:.1}"),
                _ => format!("{value:.0}"),
            });
        }
        fields.push(["female", "male"][choice.below(2) as usize].to_owned());
        fields.push((2007 + choice.below(3)).to_string());
        out.extend_from_slice(fields.join(",").as_bytes());
        out.push(b'\n');
    }
    out
}
