//! The schema's row rules as DataFusion expressions over a staged bronze table (see
//! [`staging`](crate::staging)). They decide what native silver decides, from the same
//! `config/schema.toml`: a cell is trimmed, a missing-value token is a missing value, a number must
//! parse, be finite and lie in its range, a category matches case-insensitively and takes its
//! declared spelling, a text is kept as trimmed; a row needs every field, a target and one feature.
//!
//! Only built-in functions are used, so stock Ballista executors run them. The expressions decide;
//! the wording of a quarantine reason is the core library's ([`silver::Problem`]), built on the
//! client from the [`Code`] each failing cell gets.
//!
//! [`silver::Problem`]: {{crate_name}}::data::silver::Problem

use crate::staging::{self, FIELDS};
use arrow_schema::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{btrim, lower};
use datafusion::prelude::{Expr, ident, lit, try_cast, when};
use std::ops::Not;

use {{crate_name}}::schema::{Column, ColumnKind, Schema};

/// Why a cell fails, as the problem column holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    NotUtf8,
    NotANumber,
    NotFinite,
    OutOfRange,
    UnknownCategory,
}

impl Code {
    const ALL: [Code; 5] = [
        Code::NotUtf8,
        Code::NotANumber,
        Code::NotFinite,
        Code::OutOfRange,
        Code::UnknownCategory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotUtf8 => "not_utf8",
            Code::NotANumber => "not_a_number",
            Code::NotFinite => "not_finite",
            Code::OutOfRange => "out_of_range",
            Code::UnknownCategory => "unknown_category",
        }
    }

    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.as_str() == text)
    }
}

/// The names of the columns [`Rules::checked`] adds for the schema's `index`th column.
pub mod names {
    /// The typed value: Float64 for numbers, the declared spelling of a category, the trimmed text;
    /// null when missing.
    pub fn value(index: usize) -> String {
        format!("value_{index}")
    }

    /// The [`Code`](super::Code) of what is wrong with the cell, null when nothing is.
    pub fn problem(index: usize) -> String {
        format!("problem_{index}")
    }

    /// The trimmed text of the cell, for the quarantine reason.
    pub fn text(index: usize) -> String {
        format!("text_{index}")
    }

    /// Whether the row passes every rule.
    pub const VALID: &str = "valid";
}

/// The rules of one schema over a staged table whose header has `width` fields.
pub struct Rules<'a> {
    schema: &'a Schema,
    width: usize,
    /// Every character Rust's `str::trim` removes: `btrim` removes only spaces unless told.
    whitespace: String,
}

impl<'a> Rules<'a> {
    pub fn new(schema: &'a Schema, width: usize) -> Self {
        let whitespace = (0..=char::MAX as u32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .collect();
        Self {
            schema,
            width,
            whitespace,
        }
    }

    /// The staged columns plus, per schema column, its value, problem and text, and the row's
    /// verdict.
    pub fn checked(&self) -> Vec<Expr> {
        let mut columns = vec![
            ident(staging::LINE),
            ident(staging::CHUNK),
            ident(FIELDS),
            ident(staging::RECORD),
        ];
        for (index, column) in self.schema.columns.iter().enumerate() {
            let cell = Cell::new(self, index);
            columns.push(cell.value(column).alias(names::value(index)));
            columns.push(cell.problem(column).alias(names::problem(index)));
            columns.push(cell.trimmed.clone().alias(names::text(index)));
        }
        columns.push(self.valid().alias(names::VALID));
        columns
    }

    /// A row is valid when it has every field, no cell fails, the target is present and so is at
    /// least one feature.
    fn valid(&self) -> Expr {
        let mut valid = ident(FIELDS).eq(lit(self.width as u32));
        for (index, column) in self.schema.columns.iter().enumerate() {
            let cell = Cell::new(self, index);
            valid = valid.and(cell.problem(column).is_null());
        }
        let target = self.schema.target_index();
        valid = valid.and(
            Cell::new(self, target)
                .value(&self.schema.columns[target])
                .is_not_null(),
        );
        let any_feature = self
            .schema
            .feature_columns()
            .map(|(index, column)| Cell::new(self, index).value(column).is_not_null())
            .reduce(Expr::or)
            .unwrap_or(lit(false));
        valid.and(any_feature)
    }
}

/// The expressions over one staged cell.
struct Cell {
    /// The cell as text; null when absent or not UTF-8.
    text: Expr,
    raw: Expr,
    trimmed: Expr,
    missing: Expr,
}

impl Cell {
    fn new(rules: &Rules, index: usize) -> Self {
        let raw = ident(staging::cell(index));
        let text = try_cast(raw.clone(), DataType::Utf8);
        let trimmed = btrim(vec![text.clone(), lit(rules.whitespace.clone())]);
        let tokens = rules
            .schema
            .missing_values
            .iter()
            .map(|token| lit(token.clone()))
            .collect();
        let missing = trimmed.clone().in_list(tokens, false);
        Self {
            text,
            raw,
            trimmed,
            missing,
        }
    }

    fn number(&self) -> Expr {
        try_cast(self.trimmed.clone(), DataType::Float64)
    }

    /// The declared category the cell names, case-insensitively; null when none.
    fn category(&self, categories: &[String]) -> Expr {
        let folded = lower(self.trimmed.clone());
        let mut cases = categories.iter();
        let Some(first) = cases.next() else {
            return lit(ScalarValue::Utf8(None));
        };
        let mut case = when(
            folded.clone().eq(lower(lit(first.clone()))),
            lit(first.clone()),
        );
        for category in cases {
            case = case.when(
                folded.clone().eq(lower(lit(category.clone()))),
                lit(category.clone()),
            );
        }
        case.end().expect("a CASE with a branch")
    }

    fn value(&self, column: &Column) -> Expr {
        let value = match &column.kind {
            ColumnKind::Numeric { .. } => self.number(),
            ColumnKind::Categorical { categories } => self.category(categories),
            ColumnKind::Text => self.trimmed.clone(),
        };
        when(self.missing.clone(), lit_null(&column.kind))
            .otherwise(value)
            .expect("a CASE with a branch")
    }

    fn problem(&self, column: &Column) -> Expr {
        let code = |code: Code| lit(code.as_str());
        let not_utf8 = self
            .raw
            .clone()
            .is_not_null()
            .and(self.text.clone().is_null());
        let mut case = when(not_utf8, code(Code::NotUtf8))
            .when(self.missing.clone(), lit(ScalarValue::Utf8(None)));
        let mut case = match &column.kind {
            ColumnKind::Numeric { min, max } => {
                let number = self.number();
                // NaN sorts above infinity in Arrow's order, so this also catches NaN.
                let finite = number
                    .clone()
                    .gt(lit(f64::NEG_INFINITY))
                    .and(number.clone().lt(lit(f64::INFINITY)));
                let in_range = number
                    .clone()
                    .gt_eq(lit(min.unwrap_or(f64::NEG_INFINITY)))
                    .and(number.clone().lt_eq(lit(max.unwrap_or(f64::INFINITY))));
                case.when(number.is_null(), code(Code::NotANumber))
                    .when(finite.not(), code(Code::NotFinite))
                    .when(in_range.not(), code(Code::OutOfRange))
            }
            ColumnKind::Categorical { categories } => case.when(
                self.category(categories).is_null(),
                code(Code::UnknownCategory),
            ),
            ColumnKind::Text => case,
        };
        case.otherwise(lit(ScalarValue::Utf8(None)))
            .expect("a CASE with a branch")
    }
}

fn lit_null(kind: &ColumnKind) -> Expr {
    match kind {
        ColumnKind::Numeric { .. } => lit(ScalarValue::Float64(None)),
        ColumnKind::Categorical { .. } | ColumnKind::Text => lit(ScalarValue::Utf8(None)),
    }
}
