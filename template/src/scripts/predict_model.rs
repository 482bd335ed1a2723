//! predict_model: batch predictions for a CSV in the raw schema, through the same
//! `Model::predict` the API uses.

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::utils::config::{Settings, parse_delimiter};
use {{crate_name}}::utils::{fs, logging, paths};
use {{crate_name}}::{Model, RawRecord, data};

/// Predict every row of a raw-schema CSV (target column optional) and write a CSV of predictions.
///
/// Output columns: line, the actual class when the input has it, prediction, one probability per
/// class, and error. An invalid row gets its error message instead of a prediction; the batch goes on.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Input CSV [default: DATASETS_DIR/gold/test_raw.csv, the held-out rows]
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output CSV [default: REPORTS_DIR/predictions.csv]
    #[arg(long)]
    output: Option<PathBuf>,
    /// Model directory [default: MODELS_DIR/MODEL_NAME-MODEL_VERSION]
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Input delimiter: one character, or `tab` [env: CSV_DELIMITER]
    #[arg(long, value_parser = delimiter)]
    delimiter: Option<u8>,
}

fn delimiter(value: &str) -> Result<u8, String> {
    parse_delimiter(value).ok_or_else(|| "expected a single ASCII character, or `tab`".to_owned())
}

fn main() -> ExitCode {
    logging::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<()> {
    let settings = Settings::load()?;
    logging::init(&settings.log_filter);
    let model_dir = cli.model_dir.unwrap_or_else(|| settings.model_dir());
    let input = cli
        .input
        .unwrap_or_else(|| paths::gold(&settings.datasets_dir).join("test_raw.csv"));
    let output = cli
        .output
        .unwrap_or_else(|| settings.reports_dir.join("predictions.csv"));
    let delimiter = cli.delimiter.unwrap_or(settings.csv_delimiter);

    let model = Model::load(&model_dir)
        .context("cannot load the model (train it first with train_model)")?;
    let bytes =
        std::fs::read(&input).with_context(|| format!("cannot read {}", input.display()))?;
    let summary = predict_csv(&model, &bytes, delimiter)?;
    fs::write_atomic(&output, &summary.csv)
        .with_context(|| format!("cannot write {}", output.display()))?;

    println!(
        "{} rows: {} predicted, {} invalid -> {}",
        summary.predicted + summary.invalid,
        summary.predicted,
        summary.invalid,
        output.display()
    );
    if let Some(accuracy) = summary.accuracy() {
        println!("accuracy on rows with a known class: {accuracy:.4}");
    }
    Ok(())
}

struct Summary {
    csv: Vec<u8>,
    predicted: u64,
    invalid: u64,
    labelled: u64,
    correct: u64,
}

impl Summary {
    fn accuracy(&self) -> Option<f64> {
        (self.labelled > 0).then(|| self.correct as f64 / self.labelled as f64)
    }
}

fn predict_csv(model: &Model, bytes: &[u8], delimiter: u8) -> Result<Summary> {
    let mut reader = data::raw_csv_reader(bytes, delimiter);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record)? {
        anyhow::bail!("the input is empty: expected a header row");
    }
    let header: Vec<String> = record
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    let classes = &model.metadata.classes;
    let target = &model.metadata.feature_schema.target;
    let has_target = header.iter().any(|h| h == target);

    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut columns = vec!["line".to_owned()];
    if has_target {
        columns.push(format!("actual_{target}"));
    }
    columns.push("prediction".to_owned());
    columns.extend(classes.iter().map(|c| format!("probability_{c}")));
    columns.push("error".to_owned());
    writer.write_record(&columns)?;

    let bar = logging::progress_bar(bytes.len() as u64, "predict");
    let mut summary = Summary {
        csv: Vec::new(),
        predicted: 0,
        invalid: 0,
        labelled: 0,
        correct: 0,
    };
    while reader.read_byte_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        bar.set_position(record.position().map_or(0, |p| p.byte()));
        let mut out = vec![line.to_string()];
        let parsed = to_raw_record(&header, &record);
        let actual = parsed
            .as_ref()
            .ok()
            .and_then(|r| r.get(target))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .map(str::to_owned);
        if has_target {
            out.push(actual.clone().unwrap_or_default());
        }
        match parsed.and_then(|raw| model.predict(&raw).map_err(|err| err.to_string())) {
            Ok(prediction) => {
                summary.predicted += 1;
                if let Some(actual) =
                    actual.filter(|a| classes.iter().any(|c| c.eq_ignore_ascii_case(a)))
                {
                    summary.labelled += 1;
                    summary.correct += u64::from(actual.eq_ignore_ascii_case(&prediction.class));
                }
                out.push(prediction.class.clone());
                out.extend(
                    classes
                        .iter()
                        .map(|c| format!("{:.6}", prediction.probabilities[c])),
                );
                out.push(String::new());
            }
            Err(message) => {
                summary.invalid += 1;
                tracing::warn!(line, error = %message, "row not predicted");
                out.push(String::new());
                out.extend(classes.iter().map(|_| String::new()));
                out.push(message);
            }
        }
        writer.write_record(&out)?;
    }
    bar.finish_and_clear();
    summary.csv = writer.into_inner().map_err(|err| err.into_error())?;
    Ok(summary)
}

/// Maps one CSV row to column name -> text, so it goes through the same validation as API input.
fn to_raw_record(header: &[String], record: &csv::ByteRecord) -> Result<RawRecord, String> {
    if record.len() != header.len() {
        return Err(format!(
            "expected {} fields, found {}",
            header.len(),
            record.len()
        ));
    }
    header
        .iter()
        .zip(record.iter())
        .map(|(name, field)| {
            let text = std::str::from_utf8(field)
                .map_err(|_| format!("field `{name}` is not valid UTF-8"))?;
            Ok((name.clone(), serde_json::Value::String(text.to_owned())))
        })
        .collect()
}
