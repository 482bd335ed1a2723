//! A dataset that is not the bundled one, described by its own schema: an identifier column, a
//! binary target, CRLF line endings and a few bad rows. What the README's "Your own data" steps
//! promise must hold for it: identifiers are kept and echoed, never deduplicated away or used as
//! features, and every rejected row is accounted for with the line number `grep -n` shows.

use std::path::Path;

use {{crate_name}}::batch;
use {{crate_name}}::data::{bronze, columnar, gold, silver};
use {{crate_name}}::schema::{ColumnKind, Schema};
use {{crate_name}}::training::Hyperparameters;
use {{crate_name}}::utils::paths;
use {{crate_name}}::{Model, RawRecord};

const SCHEMA: &str = r#"
name = "Customer churn"
target = "churned"

[[columns]]
name = "customer_id"
kind = "text"
description = "Customer reference."

[[columns]]
name = "tenure_months"
kind = "numeric"
min = 0.0

[[columns]]
name = "plan"
kind = "categorical"
categories = ["basic", "pro"]

[[columns]]
name = "churned"
kind = "categorical"
categories = ["no", "yes"]
"#;

fn schema() -> Schema {
    Schema::from_toml(SCHEMA, "churn schema").unwrap()
}

/// 200 customers whose churn follows tenure and plan, then 20 customers with equal features and
/// distinct IDs, one exact duplicate, and three bad rows, with CRLF line endings.
fn churn_csv() -> String {
    let mut lines = vec!["customer_id,tenure_months,plan,churned".to_owned()];
    for i in 0..200 {
        let tenure = (i * 7) % 60;
        let plan = if i % 3 == 0 { "pro" } else { "basic" };
        let churned = if tenure < 12 && plan == "basic" {
            "yes"
        } else {
            "no"
        };
        lines.push(format!("C-{i:04},{tenure},{plan},{churned}"));
    }
    for i in 0..20 {
        lines.push(format!("T-{i:02},30,pro,no"));
    }
    lines.push("C-0001,7,basic,yes".to_owned()); // line 222: an exact duplicate of line 3
    lines.push("B-1,-4,basic,no".to_owned()); // line 223: out of range
    lines.push("B-2,5,gold,yes".to_owned()); // line 224: unknown category
    lines.push("B-3,5,basic,".to_owned()); // line 225: missing target
    lines.join("\r\n") + "\r\n"
}

/// A quarantined row as `quarantine.csv` lists it.
struct Quarantined {
    line: u64,
    record: String,
}

fn build(dir: &Path) -> (Vec<Quarantined>, gold::GoldData) {
    let schema = schema();
    bronze::write(
        &paths::bronze(dir),
        "churn.csv",
        churn_csv().as_bytes(),
        b',',
    )
    .unwrap();
    let manifest = silver::build(&paths::bronze(dir), &paths::silver(dir), &schema, b',').unwrap();
    let rows = &manifest.rows;
    assert_eq!(
        (
            rows.bronze_rows,
            rows.silver_rows,
            rows.quarantined,
            rows.duplicates
        ),
        (224, 220, 3, 1)
    );
    gold::build(&paths::silver(dir), &paths::gold(dir), &schema, 0.2, 42).unwrap();
    let mut reader =
        csv::Reader::from_path(paths::silver(dir).join(silver::QUARANTINE_FILE)).unwrap();
    let quarantine = reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            Quarantined {
                line: row[0].parse().unwrap(),
                record: row[2].to_owned(),
            }
        })
        .collect();
    (quarantine, gold::load(&paths::gold(dir)).unwrap())
}

#[test]
fn identifiers_are_kept_distinct_and_never_features() {
    let dir = tempfile::tempdir().unwrap();
    let (quarantine, data) = build(dir.path());

    // The 20 customers with equal features are 20 rows; only the repeated customer is a duplicate.
    let schema = schema();
    let mut ids = Vec::new();
    for batch in columnar::read_rows(
        &paths::silver(dir.path()).join(silver::DATA_FILE),
        &schema,
        None,
    )
    .unwrap()
    {
        let mut values = Vec::new();
        columnar::batch_to_rows(&schema, &batch.unwrap(), &mut values).unwrap();
        for row in values.chunks(schema.columns.len()) {
            ids.push(format!("{:?}", row[0]));
        }
    }
    assert_eq!(ids.iter().filter(|id| id.contains("T-")).count(), 20);
    assert_eq!(ids.iter().filter(|id| id.contains("C-0001")).count(), 1);

    // Quarantine lines are those `grep -n` shows in the CRLF file, header included.
    let lines: Vec<u64> = quarantine.iter().map(|row| row.line).collect();
    assert_eq!(lines, [223, 224, 225]);
    assert!(quarantine[0].record.starts_with("B-1,"));

    assert_eq!(
        data.preprocessor.feature_names(),
        ["tenure_months", "plan=basic", "plan=pro"]
    );
    assert!(matches!(schema.columns[0].kind, ColumnKind::Text));
}

#[test]
fn a_text_column_cannot_be_a_feature() {
    let text = SCHEMA.replace("kind = \"text\"", "kind = \"text\"\nrole = \"feature\"");
    let err = Schema::from_toml(&text, "churn schema")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("customer_id") && err.contains("cannot be a feature"),
        "{err}"
    );
}

#[test]
fn predictions_echo_identifiers_for_files_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_, data) = build(d);
    let model = Model::train(&data, &Hyperparameters::default(), "churn", "1", None).unwrap();

    // The held-out rows: every prediction carries its customer.
    let output = d.join("predictions.csv");
    let test_raw = paths::gold(d).join(gold::TEST_RAW_FILE);
    let summary = batch::predict_file(&model, &test_raw, b',', &output).unwrap();
    assert_eq!(summary.invalid, 0);
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "row,customer_id,actual_churned,prediction,probability_no,probability_yes,error"
    );
    assert!(lines.all(|line| line.split(',').nth(1).unwrap().starts_with(['C', 'T'])));

    // A CSV with a bad row: its identifier is echoed next to the error, so it can be joined back.
    let input = d.join("new.csv");
    std::fs::write(
        &input,
        "plan,customer_id,tenure_months\r\npro,N-1,3\r\nbasic,N-2,soon\r\n",
    )
    .unwrap();
    let summary = batch::predict_file(&model, &input, b',', &output).unwrap();
    assert_eq!((summary.predicted, summary.invalid), (1, 1));
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.contains("\n2,N-1,"), "{text}");
    assert!(
        text.contains("\n3,N-2,,,,") && text.contains("not a number"),
        "{text}"
    );

    // One record, as the API receives it: the identifier comes back as text, even sent as a number.
    let record: RawRecord =
        serde_json::from_str(r#"{"customer_id": 1234, "tenure_months": 3, "plan": "basic"}"#)
            .unwrap();
    let prediction = model.predict(&record).unwrap();
    assert_eq!(prediction.identifiers["customer_id"], "1234");
    let record: RawRecord =
        serde_json::from_str(r#"{"tenure_months": 3, "plan": "basic"}"#).unwrap();
    assert!(model.predict(&record).unwrap().identifiers.is_empty());
}
