//! The values of one record, validated against the [`Schema`]: a CSV cell (silver), a JSON value
//! (the API) or a Parquet number, each with the same rules and the same errors.

use super::{Column, ColumnKind, Schema};
use serde::Serialize;

/// One field of one record failed validation. Every variant names the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum RecordError {
    #[error("field `{field}` is missing")]
    MissingField { field: String },
    #[error("field `{field}` has the wrong type: expected {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("field `{field}`: `{value}` is not a number")]
    NotANumber { field: String, value: String },
    #[error("field `{field}`: {value} is not a finite number")]
    NotFinite { field: String, value: String },
    #[error("field `{field}`: {value} is outside the allowed range [{min}, {max}]")]
    OutOfRange {
        field: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("field `{field}`: unknown category `{value}` (allowed: {})", allowed.join(", "))]
    UnknownCategory {
        field: String,
        value: String,
        allowed: Vec<String>,
    },
}

impl RecordError {
    /// The name of the offending field.
    pub fn field(&self) -> &str {
        match self {
            Self::MissingField { field }
            | Self::WrongType { field, .. }
            | Self::NotANumber { field, .. }
            | Self::NotFinite { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::UnknownCategory { field, .. } => field,
        }
    }
}

/// A validated cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Absent in the source (a missing-value token such as `NA`, or JSON `null`); imputed in gold.
    Missing,
    Number(f64),
    /// Index into the column's category list (which fixes the canonical spelling).
    Category(usize),
    /// The trimmed text of a `text` column (an identifier or free text).
    Text(Box<str>),
}

impl Schema {
    /// Whether `text` is a missing-value token.
    pub fn is_missing(&self, text: &str) -> bool {
        let text = text.trim();
        self.missing_values.iter().any(|token| token == text)
    }

    /// Validates one text cell (CSV). Categories match case-insensitively and are normalised to the
    /// declared spelling.
    pub fn parse_text(&self, column: &Column, text: &str) -> Result<Value, RecordError> {
        if self.is_missing(text) {
            return Ok(Value::Missing);
        }
        let text = text.trim();
        match &column.kind {
            ColumnKind::Numeric { .. } => {
                let number: f64 = text.parse().map_err(|_| RecordError::NotANumber {
                    field: column.name.clone(),
                    value: text.to_owned(),
                })?;
                check_number(column, number)
            }
            ColumnKind::Categorical { categories } => categories
                .iter()
                .position(|c| {
                    // Full Unicode case folding allocates, so it is only tried for non-ASCII text.
                    c.eq_ignore_ascii_case(text)
                        || (!text.is_ascii() && c.to_lowercase() == text.to_lowercase())
                })
                .map(Value::Category)
                .ok_or_else(|| RecordError::UnknownCategory {
                    field: column.name.clone(),
                    value: text.to_owned(),
                    allowed: categories.clone(),
                }),
            ColumnKind::Text => Ok(Value::Text(text.into())),
        }
    }

    /// Validates one JSON value (API). `null` and the missing-value texts are a missing value. A
    /// numeric field takes a JSON number, not text, so that the API's OpenAPI document can state
    /// exactly what is valid (a range cannot be stated for numbers written as text).
    pub fn parse_json(
        &self,
        column: &Column,
        value: &serde_json::Value,
    ) -> Result<Value, RecordError> {
        use serde_json::Value as Json;
        match (value, &column.kind) {
            (Json::Null, _) => Ok(Value::Missing),
            (Json::String(text), ColumnKind::Numeric { .. }) if !self.is_missing(text) => {
                Err(RecordError::WrongType {
                    field: column.name.clone(),
                    expected: NUMERIC_JSON,
                })
            }
            (Json::String(text), _) => self.parse_text(column, text),
            (Json::Number(number), ColumnKind::Numeric { .. }) => {
                let number = number.as_f64().ok_or_else(|| RecordError::NotFinite {
                    field: column.name.clone(),
                    value: number.to_string(),
                })?;
                check_number(column, number)
            }
            (_, ColumnKind::Numeric { .. }) => Err(RecordError::WrongType {
                field: column.name.clone(),
                expected: NUMERIC_JSON,
            }),
            // An identifier sent as a JSON number keeps its digits as written.
            (Json::Number(number), ColumnKind::Text) => Ok(Value::Text(number.to_string().into())),
            (_, ColumnKind::Text) => Err(RecordError::WrongType {
                field: column.name.clone(),
                expected: "a string, a number or null",
            }),
            (_, ColumnKind::Categorical { .. }) => Err(RecordError::WrongType {
                field: column.name.clone(),
                expected: "a string or null",
            }),
        }
    }

    /// Validates a typed number (a Parquet cell) with the rules text and JSON numbers follow.
    pub fn parse_number(&self, column: &Column, number: f64) -> Result<Value, RecordError> {
        match column.kind {
            ColumnKind::Numeric { .. } => check_number(column, number),
            // Written as a Parquet number, an identifier is still an identifier.
            ColumnKind::Text => Ok(Value::Text(number.to_string().into())),
            ColumnKind::Categorical { .. } => Err(RecordError::WrongType {
                field: column.name.clone(),
                expected: "a string or null",
            }),
        }
    }
}

/// What a numeric field of a JSON record must be.
const NUMERIC_JSON: &str = "a JSON number, null or a missing-value text";

fn check_number(column: &Column, number: f64) -> Result<Value, RecordError> {
    if !number.is_finite() {
        return Err(RecordError::NotFinite {
            field: column.name.clone(),
            value: number.to_string(),
        });
    }
    if let ColumnKind::Numeric { min, max } = &column.kind {
        let low = min.unwrap_or(f64::NEG_INFINITY);
        let high = max.unwrap_or(f64::INFINITY);
        if number < low || number > high {
            return Err(RecordError::OutOfRange {
                field: column.name.clone(),
                value: number,
                min: low,
                max: high,
            });
        }
    }
    Ok(Value::Number(number))
}
