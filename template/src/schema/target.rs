//! What the model predicts. The target column's kind in the schema decides the task: a categorical
//! target is classification (binary with two categories), a numeric one is regression.

use serde::{Deserialize, Serialize};

/// The prediction task, derived from the schema's target column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Task {
    /// One of `classes` (schema order, which indexes probabilities and matrices). With two
    /// classes the problem is binary and the positive class is the last one listed.
    Classification { classes: Vec<String> },
    /// A number, in `unit` when the schema gives one.
    Regression {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
    },
}

impl Task {
    /// The classes of a classification, in schema order; empty for a regression.
    pub fn classes(&self) -> &[String] {
        match self {
            Self::Classification { classes } => classes,
            Self::Regression { .. } => &[],
        }
    }

    /// In words, for reports and logs: "binary classification (positive class `yes`)".
    pub fn describe(&self) -> String {
        match self {
            Self::Classification { classes } if classes.len() == 2 => {
                format!("binary classification (positive class `{}`)", classes[1])
            }
            Self::Classification { classes } => {
                format!("classification into {} classes", classes.len())
            }
            Self::Regression { unit: Some(unit) } => format!("regression (a number, in {unit})"),
            Self::Regression { unit: None } => "regression (a number)".to_owned(),
        }
    }
}

/// The target values of some rows, as the task needs them.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class indexes into [`Task::Classification`]'s classes.
    Classes(Vec<usize>),
    /// Numbers.
    Values(Vec<f64>),
}

impl Targets {
    /// No rows yet, of the kind `task` needs.
    pub fn new(task: &Task) -> Self {
        match task {
            Task::Classification { .. } => Self::Classes(Vec::new()),
            Task::Regression { .. } => Self::Values(Vec::new()),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Classes(classes) => classes.len(),
            Self::Values(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the target of row `index` of `other` (of the same kind).
    pub fn push_from(&mut self, other: &Self, index: usize) {
        match (self, other) {
            (Self::Classes(to), Self::Classes(from)) => to.push(from[index]),
            (Self::Values(to), Self::Values(from)) => to.push(from[index]),
            _ => unreachable!("targets of one task are of one kind"),
        }
    }
}
