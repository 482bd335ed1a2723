//! The dataset schema: data, not code. It is read from `config/schema.toml` (the bundled penguins
//! schema by default) and drives validation in silver, encoding in gold, serving-time checks and the
//! data dictionary, so all of them apply the same rules.
//!
//! This module is the schema file and its checks; [`record`] validates the values of one record
//! against it; [`target`] is the task that the target column's kind decides.

pub mod record;
pub mod target;

pub use record::{RecordError, Value};

use serde::{Deserialize, Serialize};
use std::path::Path;
use target::Task;

/// The schema of the bundled Palmer penguins sample, which `config/schema.toml` starts as a copy of.
pub const BUNDLED_SCHEMA: &str = include_str!("../data/sample/penguins.schema.toml");

/// A schema file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot read schema file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("schema file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("schema {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Whether a column feeds the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Feature,
    /// Validated and kept in silver, but not used as a model input.
    Ignored,
}

/// The type of a column and its allowed values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric {
        min: Option<f64>,
        max: Option<f64>,
    },
    Categorical {
        categories: Vec<String>,
    },
    /// Identifiers and free text: kept in silver, part of a row's identity for deduplication, and
    /// echoed with every prediction (batch files and the API), never a model input.
    Text,
}

/// One column of the raw dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawColumn")]
pub struct Column {
    pub name: String,
    #[serde(flatten)]
    pub kind: ColumnKind,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub description: String,
}

/// The file form of a column: flat, so unknown keys (typos) can be refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    name: String,
    kind: KindName,
    min: Option<f64>,
    max: Option<f64>,
    categories: Option<Vec<String>>,
    role: Option<Role>,
    unit: Option<String>,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Numeric,
    Categorical,
    Text,
}

impl TryFrom<RawColumn> for Column {
    type Error = String;

    fn try_from(raw: RawColumn) -> Result<Self, String> {
        let ranged = raw.min.is_some() || raw.max.is_some();
        let kind = match (raw.kind, raw.categories) {
            (KindName::Numeric, None) => ColumnKind::Numeric {
                min: raw.min,
                max: raw.max,
            },
            (KindName::Categorical, Some(categories)) if !ranged => {
                ColumnKind::Categorical { categories }
            }
            (KindName::Text, None) if !ranged => ColumnKind::Text,
            (KindName::Text, _) => {
                return Err(format!(
                    "text column `{}` cannot have categories or min/max",
                    raw.name
                ));
            }
            (KindName::Numeric, Some(_)) => {
                return Err(format!(
                    "numeric column `{}` cannot list categories",
                    raw.name
                ));
            }
            (KindName::Categorical, None) => {
                return Err(format!(
                    "categorical column `{}` needs `categories = [...]`",
                    raw.name
                ));
            }
            (KindName::Categorical, Some(_)) => {
                return Err(format!(
                    "categorical column `{}` cannot have min/max",
                    raw.name
                ));
            }
        };
        let role = match (&kind, raw.role) {
            (ColumnKind::Text, Some(Role::Feature)) => {
                return Err(format!(
                    "text column `{}` cannot be a feature: identifiers and free text are kept and echoed with predictions, not model inputs",
                    raw.name
                ));
            }
            (ColumnKind::Text, _) => Role::Ignored,
            (_, role) => role.unwrap_or(Role::Feature),
        };
        Ok(Self {
            name: raw.name,
            kind,
            role,
            unit: raw.unit,
            description: raw.description,
        })
    }
}

/// A validated dataset schema. Construct it with [`Schema::from_toml`] or [`Schema::load`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The column to predict; it must be categorical.
    pub target: String,
    /// Tokens read as a missing value (compared after trimming).
    #[serde(default = "default_missing_values")]
    pub missing_values: Vec<String>,
    pub columns: Vec<Column>,
}

fn default_missing_values() -> Vec<String> {
    vec![String::new(), "NA".to_owned()]
}

impl Schema {
    /// Reads and validates a schema file.
    pub fn load(path: &Path) -> Result<Self, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The schema of the bundled penguins sample.
    pub fn bundled() -> Self {
        Self::from_toml(BUNDLED_SCHEMA, "bundled schema").expect("the bundled schema is valid")
    }

    /// Parses and validates schema TOML; `origin` names the source in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, SchemaError> {
        let schema: Schema = toml::from_str(text).map_err(|err| SchemaError::Parse {
            path: origin.to_owned(),
            message: err.to_string().trim().to_owned(),
        })?;
        schema.validate().map_err(|message| SchemaError::Invalid {
            path: origin.to_owned(),
            message,
        })?;
        Ok(schema)
    }

    fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for column in &self.columns {
            if column.name.trim().is_empty() {
                return Err("a column has an empty name".into());
            }
            if !seen.insert(column.name.as_str()) {
                return Err(format!("column `{}` is declared twice", column.name));
            }
            match &column.kind {
                ColumnKind::Numeric { min, max } => {
                    if let (Some(min), Some(max)) = (min, max)
                        && min > max
                    {
                        return Err(format!("column `{}`: min {min} > max {max}", column.name));
                    }
                }
                ColumnKind::Text => {}
                ColumnKind::Categorical { categories } => {
                    if categories.is_empty() {
                        return Err(format!("column `{}` lists no categories", column.name));
                    }
                    let mut lower = std::collections::HashSet::new();
                    for category in categories {
                        if category.trim().is_empty() || !lower.insert(category.to_lowercase()) {
                            return Err(format!(
                                "column `{}`: category `{category}` is empty or repeated (case-insensitively)",
                                column.name
                            ));
                        }
                    }
                }
            }
        }
        let target = self
            .column(&self.target)
            .ok_or_else(|| format!("target `{}` is not a declared column", self.target))?;
        match &target.kind {
            ColumnKind::Categorical { categories } if categories.len() >= 2 => {}
            ColumnKind::Numeric { .. } => {}
            _ => {
                return Err(format!(
                    "target `{}` must be numeric (regression) or categorical with at least two categories (classification)",
                    self.target
                ));
            }
        }
        if self.feature_columns().next().is_none() {
            return Err(
                "no feature columns: mark at least one non-target column `role = \"feature\"`"
                    .into(),
            );
        }
        Ok(())
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Position of the target among [`Schema::columns`].
    pub fn target_index(&self) -> usize {
        self.columns
            .iter()
            .position(|c| c.name == self.target)
            .expect("validated: the target is a column")
    }

    /// What the model predicts, from the target column's kind.
    pub fn task(&self) -> Task {
        let target = &self.columns[self.target_index()];
        match &target.kind {
            ColumnKind::Categorical { categories } => Task::Classification {
                classes: categories.clone(),
            },
            ColumnKind::Numeric { .. } => Task::Regression {
                unit: target.unit.clone(),
            },
            ColumnKind::Text => unreachable!("validated: the target is categorical or numeric"),
        }
    }

    /// Indexes and columns of the `text` columns (identifiers, free text), echoed with predictions.
    pub fn text_columns(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ColumnKind::Text)
    }

    /// Indexes and columns of the model inputs (role `feature`, excluding the target).
    pub fn feature_columns(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == Role::Feature && c.name != self.target)
    }

    /// The model-ready (gold) column names: numeric features as-is, categorical ones one-hot
    /// encoded as `column=category` for every declared category.
    pub fn encoded_feature_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (_, column) in self.feature_columns() {
            match &column.kind {
                ColumnKind::Numeric { .. } => names.push(column.name.clone()),
                ColumnKind::Categorical { categories } => names.extend(
                    categories
                        .iter()
                        .map(|category| format!("{}={category}", column.name)),
                ),
                ColumnKind::Text => unreachable!("validated: a text column is never a feature"),
            }
        }
        names
    }

    /// SHA-256 of the schema's canonical JSON form, recorded in manifests and model metadata.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).expect("a schema always serialises");
        crate::utils::hashing::sha256_hex(&json)
    }

    /// The raw input fields a client must send, for API validation and UI forms.
    pub fn feature_schema(&self) -> FeatureSchema {
        FeatureSchema {
            target: self.target.clone(),
            task: self.task(),
            missing_values: self.missing_values.clone(),
            fields: self
                .feature_columns()
                .map(|(_, column)| column.clone())
                .collect(),
        }
    }
}

/// The raw model inputs: what a client sends to get a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSchema {
    /// Name of the predicted column.
    pub target: String,
    /// What is predicted: classification (with its classes) or regression (with its unit).
    #[serde(flatten)]
    pub task: Task,
    /// Text tokens accepted as "value unknown" (JSON `null` is accepted too).
    pub missing_values: Vec<String>,
    /// Each input field with its kind, allowed categories or range, unit and description.
    pub fields: Vec<Column>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::bundled()
    }

    #[test]
    fn bundled_schema_describes_penguins() {
        let s = schema();
        assert_eq!(s.target, "species");
        assert_eq!(s.task().classes(), ["Adelie", "Chinstrap", "Gentoo"]);
        assert!(
            s.encoded_feature_names()
                .contains(&"island=Biscoe".to_owned())
        );
        assert!(
            !s.encoded_feature_names()
                .iter()
                .any(|n| n == "year" || n == "species")
        );
    }

    #[test]
    fn text_cells_are_validated_and_normalised() {
        let s = schema();
        let island = s.column("island").unwrap();
        let bill = s.column("bill_length_mm").unwrap();
        assert_eq!(
            s.parse_text(island, " biscoe ").unwrap(),
            Value::Category(0)
        );
        assert_eq!(s.parse_text(bill, "NA").unwrap(), Value::Missing);
        assert_eq!(s.parse_text(bill, "39.5").unwrap(), Value::Number(39.5));
        assert!(matches!(
            s.parse_text(bill, "abc"),
            Err(RecordError::NotANumber { .. })
        ));
        assert!(matches!(
            s.parse_text(bill, "NaN"),
            Err(RecordError::NotFinite { .. })
        ));
        assert!(matches!(
            s.parse_text(bill, "inf"),
            Err(RecordError::NotFinite { .. })
        ));
        assert!(matches!(
            s.parse_text(bill, "900"),
            Err(RecordError::OutOfRange { .. })
        ));
        let err = s.parse_text(island, "Atlantis").unwrap_err();
        assert_eq!(err.field(), "island");
        assert!(err.to_string().contains("Biscoe"), "{err}");
    }

    #[test]
    fn json_values_are_validated() {
        let s = schema();
        let bill = s.column("bill_length_mm").unwrap();
        let sex = s.column("sex").unwrap();
        assert_eq!(
            s.parse_json(bill, &serde_json::json!(40)).unwrap(),
            Value::Number(40.0)
        );
        assert_eq!(
            s.parse_json(bill, &serde_json::json!(null)).unwrap(),
            Value::Missing
        );
        assert!(matches!(
            s.parse_json(bill, &serde_json::json!(true)),
            Err(RecordError::WrongType { .. })
        ));
        assert!(matches!(
            s.parse_json(sex, &serde_json::json!(1)),
            Err(RecordError::WrongType { .. })
        ));
        // Text in a numeric field is only a missing-value token; a number must be a JSON number.
        assert_eq!(
            s.parse_json(bill, &serde_json::json!("NA")).unwrap(),
            Value::Missing
        );
        let err = s.parse_json(bill, &serde_json::json!("40")).unwrap_err();
        assert!(err.to_string().contains("a JSON number"), "{err}");
    }

    #[test]
    fn bad_schemas_are_rejected_with_a_reason() {
        let cases = [
            ("target = \"y\"\nname = \"x\"\ncolumns = [", "not valid"),
            (
                "name = \"x\"\ntarget = \"y\"\n[[columns]]\nname = \"a\"\nkind = \"numeric\"\n",
                "target `y` is not a declared column",
            ),
            (
                "name = \"x\"\ntarget = \"a\"\n[[columns]]\nname = \"a\"\nkind = \"text\"\n",
                "must be numeric (regression) or categorical",
            ),
            (
                "name = \"x\"\ntarget = \"a\"\n[[columns]]\nname = \"a\"\nkind = \"numeric\"\n",
                "no feature columns",
            ),
            (
                "name = \"x\"\ntarget = \"y\"\n[[columns]]\nname = \"y\"\nkind = \"categorical\"\ncategories = [\"p\", \"q\"]\n[[columns]]\nname = \"a\"\nkind = \"numeric\"\nmin = 5.0\nmax = 1.0\n",
                "min 5 > max 1",
            ),
            (
                "name = \"x\"\ntarget = \"y\"\n[[columns]]\nname = \"y\"\nkind = \"categorical\"\ncategories = [\"p\", \"q\"]\n[[columns]]\nname = \"a\"\nkind = \"numeric\"\nmaximum = 1.0\n",
                "maximum",
            ),
        ];
        for (text, expected) in cases {
            let err = Schema::from_toml(text, "test.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "expected `{expected}` in `{err}`");
        }
    }
}
