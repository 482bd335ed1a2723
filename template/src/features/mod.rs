//! Feature engineering: turns validated rows into the numeric matrix a model consumes.
//!
//! The [`Preprocessor`](crate::features::Preprocessor) is fitted on the training split only (so no statistic leaks from the test
//! split), saved with the model, and applied unchanged at serving time.

use crate::data::schema::{ColumnKind, RecordError, Schema, Value};
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
    pub fn fit(schema: &Schema, rows: &[Vec<Value>]) -> Result<Self, FeatureError> {
        if rows.is_empty() {
            return Err(FeatureError::NoRows);
        }
        let mut steps = Vec::new();
        for (index, column) in schema.feature_columns() {
            let no_values = || FeatureError::NoValues {
                column: column.name.clone(),
            };
            match &column.kind {
                ColumnKind::Numeric { .. } => {
                    let mut observed: Vec<f64> = rows
                        .iter()
                        .filter_map(|row| match row[index] {
                            Value::Number(x) => Some(x),
                            _ => None,
                        })
                        .collect();
                    if observed.is_empty() {
                        return Err(no_values());
                    }
                    observed.sort_by(f64::total_cmp);
                    let median = median_of_sorted(&observed);
                    // Scale the imputed column, exactly as transform() will see it.
                    let n = rows.len() as f64;
                    let imputed = |row: &Vec<Value>| match row[index] {
                        Value::Number(x) => x,
                        _ => median,
                    };
                    let mean = rows.iter().map(imputed).sum::<f64>() / n;
                    let variance = rows
                        .iter()
                        .map(|r| (imputed(r) - mean).powi(2))
                        .sum::<f64>()
                        / n;
                    let std_dev = if variance > 0.0 { variance.sqrt() } else { 1.0 };
                    steps.push(Step::Numeric {
                        column: column.name.clone(),
                        index,
                        median,
                        mean,
                        std_dev,
                    });
                }
                ColumnKind::Categorical { categories } => {
                    let mut counts = vec![0usize; categories.len()];
                    for row in rows {
                        if let Value::Category(c) = row[index] {
                            counts[c] += 1;
                        }
                    }
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
                    steps.push(Step::Categorical {
                        column: column.name.clone(),
                        index,
                        categories: categories.clone(),
                        mode,
                    });
                }
            }
        }
        Ok(Self {
            schema: schema.clone(),
            steps,
        })
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

    /// The model input matrix of many rows.
    pub fn transform(&self, rows: &[Vec<Value>]) -> Array2<f64> {
        let width = self.feature_names().len();
        let mut values = Vec::with_capacity(rows.len() * width);
        for row in rows {
            self.transform_into(row, &mut values);
        }
        Array2::from_shape_vec((rows.len(), width), values).expect("each row has `width` inputs")
    }

    /// Validates a raw record against the schema. Every feature field must be present (it may be
    /// `null` or a missing-value token, which is imputed); other fields are ignored.
    pub fn parse_record(&self, record: &RawRecord) -> Result<Vec<Value>, RecordError> {
        let mut row = vec![Value::Missing; self.schema.columns.len()];
        for (index, column) in self.schema.feature_columns() {
            let value = record
                .get(&column.name)
                .ok_or_else(|| RecordError::MissingField {
                    field: column.name.clone(),
                })?;
            row[index] = self.schema.parse_json(column, value)?;
        }
        Ok(row)
    }
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
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
        let train = vec![
            row(Value::Category(1), Value::Number(30.0)),
            row(Value::Category(1), Value::Number(40.0)),
            row(Value::Category(2), Value::Number(50.0)),
            row(Value::Missing, Value::Missing),
        ];
        let pre = Preprocessor::fit(&schema, &train).unwrap();
        let x = pre.transform(&train);
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
    fn parse_record_names_the_offending_field() {
        let schema = Schema::bundled();
        let pre =
            Preprocessor::fit(&schema, &[row(Value::Category(0), Value::Number(40.0))]).unwrap();
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
            Preprocessor::fit(&schema, &[]),
            Err(FeatureError::NoRows)
        ));
        let err =
            Preprocessor::fit(&schema, &[row(Value::Category(0), Value::Missing)]).unwrap_err();
        assert!(err.to_string().contains("bill_length_mm"));
    }
}
