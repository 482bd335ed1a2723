//! The two silver engines side by side: the same bronze built by native silver and by the rules
//! on Ballista (a scheduler and an executor started in this test) must give the same silver rows
//! in the same order, the same quarantine (lines, reasons, records), the same row accounting and,
//! built from either silver, the same gold split.

use std::path::Path;

use {{crate_name}}::data::manifest::{GoldManifest, SilverManifest};
use {{crate_name}}::data::{SAMPLE_CSV, bronze, columnar, gold, silver};
use {{crate_name}}::schema::{Schema, Value};
use {{crate_name}}::utils::paths;

/// One engine's layers of one input.
struct Built {
    silver: SilverManifest,
    rows: Vec<Value>,
    quarantine: String,
    gold: GoldManifest,
    train: Vec<u8>,
    test: Vec<u8>,
}

async fn build_both(csv: &[u8], schema: &Schema, delimiter: u8) -> (Built, Built) {
    let ctx = {{crate_name}}_cluster::connect(None)
        .await
        .expect("a standalone cluster");
    let native = tempfile::tempdir().unwrap();
    let cluster = tempfile::tempdir().unwrap();
    let mut built = Vec::new();
    for (dir, on_cluster) in [(native.path(), false), (cluster.path(), true)] {
        bronze::write(&paths::bronze(dir), "test", csv, delimiter).unwrap();
        let silver = if on_cluster {
            {{crate_name}}_cluster::silver::build(
                &ctx,
                &paths::bronze(dir),
                &paths::silver(dir),
                schema,
                delimiter,
            )
            .await
        } else {
            silver::build(&paths::bronze(dir), &paths::silver(dir), schema, delimiter)
        };
        built.push(read_layers(dir, silver.unwrap(), schema));
    }
    let cluster = built.pop().unwrap();
    (built.pop().unwrap(), cluster)
}

fn read_layers(dir: &Path, silver: SilverManifest, schema: &Schema) -> Built {
    let mut rows = Vec::new();
    for batch in
        columnar::read_rows(&paths::silver(dir).join(silver::DATA_FILE), schema, None).unwrap()
    {
        columnar::batch_to_rows(schema, &batch.unwrap(), &mut rows).unwrap();
    }
    let gold = gold::build(&paths::silver(dir), &paths::gold(dir), schema, 0.2, 42).unwrap();
    let read = |path: std::path::PathBuf| std::fs::read(path).unwrap();
    Built {
        rows,
        quarantine: String::from_utf8(read(paths::silver(dir).join(silver::QUARANTINE_FILE)))
            .unwrap(),
        train: read(paths::gold(dir).join(gold::TRAIN_FILE)),
        test: read(paths::gold(dir).join(gold::TEST_FILE)),
        silver,
        gold,
    }
}

fn assert_same(native: &Built, cluster: &Built) {
    assert_eq!(cluster.quarantine, native.quarantine);
    assert_eq!(cluster.rows, native.rows);
    assert_eq!(cluster.silver.rows, native.silver.rows);
    assert_eq!(cluster.silver.data.sha256, native.silver.data.sha256);
    assert_eq!(cluster.gold.train.rows, native.gold.train.rows);
    assert!(
        cluster.train == native.train,
        "the gold training splits differ"
    );
    assert!(cluster.test == native.test, "the gold test splits differ");
}

/// More rows than two of the chunks native silver reads, with bad rows and duplicates spread over
/// them: the silver file is written a chunk at a time, so this is where its bytes could differ.
#[tokio::test(flavor = "multi_thread")]
async fn rows_over_several_chunks_give_the_same_files() {
    let species = ["Adelie", "Chinstrap", "Gentoo"];
    let mut csv = String::from(
        "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n",
    );
    let rows = 2 * columnar::CHUNK_ROWS + 5_000;
    for i in 0..rows {
        // Every 1,009th row repeats one 300 rows back (across chunk boundaries too).
        let n = if i % 1_009 == 0 && i >= 300 {
            i - 300
        } else {
            i
        };
        let bill = if i % 997 == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.1}", 32.0 + (n % 280) as f64 / 10.0)
        };
        let island = if i % 2_003 == 0 { "Atlantis" } else { "Dream" };
        csv += &format!(
            "{},{island},{bill},{:.1},{},{},{},{}\n",
            species[n % 3],
            13.0 + (n % 85) as f64 / 10.0,
            172 + n % 60,
            2_700 + n % 3_600,
            if n % 2 == 0 { "male" } else { "female" },
            2007 + n % 3
        );
    }
    let (native, cluster) = build_both(csv.as_bytes(), &Schema::bundled(), b',').await;
    assert_same(&native, &cluster);
    let accounting = &native.silver.rows;
    assert!(
        accounting.quarantined > 100 && accounting.duplicates > 100,
        "{accounting:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bundled_sample_gives_the_same_layers() {
    let (native, cluster) = build_both(SAMPLE_CSV, &Schema::bundled(), b',').await;
    assert_same(&native, &cluster);
    assert_eq!(native.silver.rows.silver_rows, 344);
}

/// Every kind of bad row the rules know, a text identifier, an ignored column, custom missing-value
/// tokens, a quoted field over two lines, CRLF endings and a byte that is not UTF-8.
const DIRTY_SCHEMA: &str = r#"
name = "sensors"
target = "status"
missing_values = ["", "NA", "n/a"]

[[columns]]
name = "sensor_id"
kind = "text"

[[columns]]
name = "temperature"
kind = "numeric"
min = -40.0
max = 125.0

[[columns]]
name = "humidity"
kind = "numeric"
min = 0.0
max = 100.0

[[columns]]
name = "site"
kind = "categorical"
categories = ["North", "South", "Écluse"]

[[columns]]
name = "note"
kind = "numeric"
role = "ignored"

[[columns]]
name = "status"
kind = "categorical"
categories = ["ok", "fault"]
"#;

fn dirty_csv() -> Vec<u8> {
    let mut csv = b"\xEF\xBB\xBFsensor_id;temperature;humidity;site;note;status\r\n".to_vec();
    let rows: &[&[u8]] = &[
        b"s-1;21.5;40;North;1;ok",
        b" s-2 ; 22 ; 41.0 ; south ;;FAULT",
        b"s-3;abc;40;North;1;ok",
        b"s-4;1e999;40;North;1;ok",
        b"s-5;NaN;40;North;1;ok",
        b"s-6;200;101;North;1;ok",
        b"s-7;21;40;West;1;ok",
        b"s-8;21;40;North;1;NA",
        b"s-9;21;40;North;1",
        b"s-10;21;40;North;1;ok;extra",
        b"s-1;21.5;40;North;1;ok",
        b"s-1;21.50;40.0;NORTH;1;OK",
        b"s-11;n/a;NA;;1;ok",
        b"s-12;-40;0;\xC3\x89CLUSE;2;fault",
        b"s-13;-40;0; \xC3\xA9cluse ;2;fault",
        b"s-14;21;40;\xFFNorth;1;ok",
        b"\"s-15\nsecond line\";21;40;North;1;ok",
        b"s-16;+21;40.;North;x;ok",
        b"s-17;21;40;North;1;ok",
        b"s-17;21;40;North;1;ok",
        b"s-18;;;;;fault",
        b";21;40;North;;ok",
        b";21;40;North;;ok",
        b"s-19;21;40;North;1;ok",
    ];
    for row in rows {
        csv.extend_from_slice(row);
        csv.extend_from_slice(b"\r\n");
    }
    csv
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dirty_file_gives_the_same_layers() {
    let schema = Schema::from_toml(DIRTY_SCHEMA, "test schema").unwrap();
    let (native, cluster) = build_both(&dirty_csv(), &schema, b';').await;
    assert_same(&native, &cluster);
    // The file exercises every rule: bad numbers, non-finite, out of range, unknown category,
    // missing target, wrong widths, invalid UTF-8, no feature, and duplicates.
    for reason in [
        "is not a number",
        "is not a finite number",
        "outside the allowed range",
        "unknown category",
        "missing target",
        "expected 6 fields, found 5",
        "expected 6 fields, found 7",
        "is not valid UTF-8",
        "every feature is missing",
    ] {
        assert!(
            native.quarantine.contains(reason),
            "no `{reason}` in\n{}",
            native.quarantine
        );
    }
    assert_eq!(native.silver.rows.duplicates, 4, "{:?}", native.silver.rows);
}
