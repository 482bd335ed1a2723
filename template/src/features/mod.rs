//! Feature engineering: turns validated rows into the numeric matrix a model consumes.
//!
//! The [`Preprocessor`](crate::features::Preprocessor) is fitted on the training split only (so no statistic leaks from the test
//! split), saved with the model, and applied unchanged at serving time.

use crate::schema::{Column, ColumnKind, RecordError, Schema, Value};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// A raw input record as served: column name -> JSON value (a number, a string or `null`).
pub type RawRecord = serde_json::Map<String, serde_json::Value>;

/// The preprocessor cannot be fitted.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error("cannot fit features on an empty training split")]
    NoRows,
    #[error("column `{column}` has no values in the training split, so it cannot be imputed")]
    NoValues { column: String },
}

/// How one raw feature column becomes model inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Missing values become the training median, then `(x - mean) / std_dev`.
    Numeric {
        column: String,
        index: usize,
        median: f64,
        mean: f64,
        std_dev: f64,
    },
    /// Missing values become the training mode, then one 0/1 input per declared category.
    Categorical {
        column: String,
        index: usize,
        categories: Vec<String>,
        mode: usize,
    },
}

/// Fitted imputation, encoding and scaling for every feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    schema: Schema,
    steps: Vec<Step>,
}

impl Preprocessor {
    /// Learns medians, modes, means and standard deviations from the training rows.
    pub fn fit<'a>(
        schema: &Schema,
        rows: impl IntoIterator<Item = &'a [Value]>,
    ) -> Result<Self, FeatureError> {
        let mut fitter = Fitter::new(schema);
        rows.into_iter().for_each(|row| fitter.add(row));
        fitter.finish()
    }

    /// The schema the preprocessor was fitted with.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The fitted steps, one per feature column.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Names of the model inputs, in matrix column order.
    pub fn feature_names(&self) -> Vec<String> {
        self.schema.encoded_feature_names()
    }

    /// Appends the model inputs of one validated row (all schema columns) to `out`.
    pub fn transform_into(&self, row: &[Value], out: &mut Vec<f64>) {
        for step in &self.steps {
            match step {
                Step::Numeric {
                    index,
                    median,
                    mean,
                    std_dev,
                    ..
                } => {
                    let x = match row[*index] {
                        Value::Number(x) => x,
                        _ => *median,
                    };
                    out.push((x - mean) / std_dev);
                }
                Step::Categorical {
                    index,
                    categories,
                    mode,
                    ..
                } => {
                    let chosen = match row[*index] {
                        Value::Category(c) => c,
                        _ => *mode,
                    };
                    out.extend((0..categories.len()).map(|c| if c == chosen { 1.0 } else { 0.0 }));
                }
            }
        }
    }

    /// The model input matrix of validated rows (`rows` holds one row after another).
    pub fn transform(&self, rows: &[Value]) -> Array2<f64> {
        let width = self.feature_names().len();
        let n = rows.len() / self.schema.columns.len();
        let mut values = Vec::with_capacity(n * width);
        for row in rows.chunks_exact(self.schema.columns.len()) {
            self.transform_into(row, &mut values);
        }
        Array2::from_shape_vec((n, width), values).expect("each row has `width` inputs")
    }

    /// Validates a raw record against the schema. Every feature field must be present (it may be
    /// `null` or a missing-value token, which is imputed); text fields are optional and kept; other
    /// fields are ignored.
    pub fn parse_record(&self, record: &RawRecord) -> Result<Vec<Value>, RecordError> {
        self.parse_fields(|column| {
            record
                .get(&column.name)
                .map(|value| self.schema.parse_json(column, value))
        })
    }

    /// Validates one record whose fields `field` parses (`None`: the field is absent), returning a
    /// value for every schema column. Features are required; text columns (identifiers) are
    /// optional and kept to be echoed; other columns stay missing.
    pub fn parse_fields(
        &self,
        mut field: impl FnMut(&Column) -> Option<Result<Value, RecordError>>,
    ) -> Result<Vec<Value>, RecordError> {
        let mut row = vec![Value::Missing; self.schema.columns.len()];
        for (index, column) in self.schema.feature_columns() {
            row[index] = field(column).ok_or_else(|| RecordError::MissingField {
                field: column.name.clone(),
            })??;
        }
        for (index, column) in self.schema.text_columns() {
            if let Some(value) = field(column) {
                row[index] = value?;
            }
        }
        Ok(row)
    }
}

/// Training statistics gathered one row at a time, so gold can fit a [`Preprocessor`] while it
/// streams the training split. Numeric columns keep their observed values (the median needs them);
/// categorical ones keep counts.
pub struct Fitter {
    schema: Schema,
    rows: u64,
    columns: Vec<(usize, Tally)>,
}

enum Tally {
    Numeric(Vec<f64>),
    Categorical(Vec<u64>),
}

impl Fitter {
    pub fn new(schema: &Schema) -> Self {
        let columns = schema
            .feature_columns()
            .map(|(index, column)| {
                let tally = match &column.kind {
                    ColumnKind::Numeric { .. } => Tally::Numeric(Vec::new()),
                    ColumnKind::Categorical { categories } => {
                        Tally::Categorical(vec![0; categories.len()])
                    }
                    ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
                };
                (index, tally)
            })
            .collect();
        Self {
            schema: schema.clone(),
            rows: 0,
            columns,
        }
    }

    /// Counts one training row (all schema columns).
    pub fn add(&mut self, row: &[Value]) {
        self.rows += 1;
        for (index, tally) in &mut self.columns {
            match (tally, &row[*index]) {
                (Tally::Numeric(observed), Value::Number(x)) => observed.push(*x),
                (Tally::Categorical(counts), Value::Category(c)) => counts[*c] += 1,
                _ => {}
            }
        }
    }

    /// The fitted preprocessor.
    pub fn finish(self) -> Result<Preprocessor, FeatureError> {
        if self.rows == 0 {
            return Err(FeatureError::NoRows);
        }
        let n = self.rows as f64;
        let mut steps = Vec::with_capacity(self.columns.len());
        for (index, tally) in self.columns {
            let column = self.schema.columns[index].name.clone();
            let no_values = || FeatureError::NoValues {
                column: column.clone(),
            };
            match tally {
                Tally::Numeric(mut observed) => {
                    if observed.is_empty() {
                        return Err(no_values());
                    }
                    // Scale the imputed column, exactly as transform() will see it: the missing
                    // rows all take the median.
                    let imputed = n - observed.len() as f64;
                    let sum: f64 = observed.iter().sum();
                    let median = median(&mut observed);
                    let mean = (sum + imputed * median) / n;
                    let squares: f64 = observed.iter().map(|x| (x - mean).powi(2)).sum();
                    let variance = (squares + imputed * (median - mean).powi(2)) / n;
                    let std_dev = if variance > 0.0 { variance.sqrt() } else { 1.0 };
                    steps.push(Step::Numeric {
                        column,
                        index,
                        median,
                        mean,
                        std_dev,
                    });
                }
                Tally::Categorical(counts) => {
                    // Ties go to the first declared category, so fitting is deterministic.
                    let (mode, &count) = counts
                        .iter()
                        .enumerate()
                        .rev()
                        .max_by_key(|(_, count)| **count)
                        .expect("validated: categories are not empty");
                    if count == 0 {
                        return Err(no_values());
                    }
                    let ColumnKind::Categorical { categories } = &self.schema.columns[index].kind
                    else {
                        unreachable!("a categorical tally belongs to a categorical column")
                    };
                    steps.push(Step::Categorical {
                        column,
                        index,
                        categories: categories.clone(),
                        mode,
                    });
                }
            }
        }
        Ok(Preprocessor {
            schema: self.schema,
            steps,
        })
    }
}

/// The median of a non-empty slice (reordered in the process), in linear time.
fn median(values: &mut [f64]) -> f64 {
    let even = values.len().is_multiple_of(2);
    let mid = values.len() / 2;
    let (below, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if even {
        // The lower middle value is the largest of the `mid` values below the pivot.
        let lower = below.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    } else {
        upper
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(island: Value, bill: Value) -> Vec<Value> {
        // species, island, bill_length, bill_depth, flipper, mass, sex, year
        vec![
            Value::Category(0),
            island,
            bill,
            Value::Number(18.0),
            Value::Number(190.0),
            Value::Number(3800.0),
            Value::Category(1),
            Value::Number(2008.0),
        ]
    }

    #[test]
    fn imputes_encodes_and_scales_with_training_statistics() {
        let schema = Schema::bundled();
        let train = [
            row(Value::Category(1), Value::Number(30.0)),
            row(Value::Category(1), Value::Number(40.0)),
            row(Value::Category(2), Value::Number(50.0)),
            row(Value::Missing, Value::Missing),
        ];
        let pre = Preprocessor::fit(&schema, train.iter().map(Vec::as_slice)).unwrap();
        let x = pre.transform(&train.concat());
        assert_eq!(x.ncols(), pre.feature_names().len());
        // island is one-hot over Biscoe, Dream, Torgersen; the missing island takes the mode (Dream).
        assert_eq!(
            x.row(3).iter().take(3).copied().collect::<Vec<_>>(),
            vec![0.0, 1.0, 0.0]
        );
        // The missing bill length takes the median (40), which scales to (40 - mean) / sd.
        let bill = x.column(3);
        assert!((bill[1] - bill[3]).abs() < 1e-12);
        let mean: f64 = bill.iter().sum::<f64>() / 4.0;
        assert!(mean.abs() < 1e-12, "scaled training column has mean 0");
        // A constant column (bill depth) does not divide by zero.
        assert!(x.column(4).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn median_matches_sorting() {
        for values in [
            vec![3.0],
            vec![4.0, 1.0],
            vec![5.0, 1.0, 3.0, 2.0],
            vec![2.0, 2.0, 9.0],
        ] {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let mid = sorted.len() / 2;
            let expected = if sorted.len() % 2 == 0 {
                (sorted[mid - 1] + sorted[mid]) / 2.0
            } else {
                sorted[mid]
            };
            assert_eq!(median(&mut values.clone()), expected, "{values:?}");
        }
    }

    #[test]
    fn parse_record_names_the_offending_field() {
        let schema = Schema::bundled();
        let pre = Preprocessor::fit(
            &schema,
            [row(Value::Category(0), Value::Number(40.0)).as_slice()],
        )
        .unwrap();
        let mut record: RawRecord = json!({
            "island": "Dream", "bill_length_mm": 40.1, "bill_depth_mm": 18.0,
            "flipper_length_mm": 190, "body_mass_g": null, "sex": "NA"
        })
        .as_object()
        .unwrap()
        .clone();
        let parsed = pre.parse_record(&record).unwrap();
        assert_eq!(parsed[1], Value::Category(1));
        assert_eq!(parsed[5], Value::Missing);

        record.remove("sex");
        assert_eq!(pre.parse_record(&record).unwrap_err().field(), "sex");
        record.insert("sex".into(), json!("unknown"));
        assert!(matches!(
            pre.parse_record(&record),
            Err(RecordError::UnknownCategory { .. })
        ));
    }

    #[test]
    fn fitting_needs_rows_and_values() {
        let schema = Schema::bundled();
        assert!(matches!(
            Preprocessor::fit(&schema, []),
            Err(FeatureError::NoRows)
        ));
        let err = Preprocessor::fit(
            &schema,
            [row(Value::Category(0), Value::Missing).as_slice()],
        )
        .unwrap_err();
        assert!(err.to_string().contains("bill_length_mm"));
    }
}
