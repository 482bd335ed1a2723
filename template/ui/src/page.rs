//! The HTML page, built with plain Rust: every piece of text that comes from outside (the API,
//! the form) goes through [`escape`], so nothing a user types can inject markup.
//!
//! Stable element ids, for people and for browser tests:
//! `predict-form`, `field-<name>`, `error-<name>`, `predict-button`, `api-error`, `result`,
//! `result-prediction` (the class, or the number with its unit), `prob-<class>` (a classifier's
//! bars) and `model-version`.

use std::collections::HashMap;
use std::fmt::Write;

use {{crate_name}}_service::wire::FieldInfo;
use {{crate_name}}_service::wire::ModelInfo;
use {{crate_name}}_service::wire::Predicted;
use {{crate_name}}_service::wire::Prediction;

const CSS: &str = include_str!("../assets/page.css");
const JS: &str = include_str!("../assets/page.js");

/// Everything one rendering of the page shows.
#[derive(Debug, Default)]
pub struct Page<'a> {
    /// The served model; `None` when the API could not be asked.
    pub model: Option<&'a ModelInfo>,
    /// Values to put in the form (what was submitted); fields not here get their default.
    pub values: HashMap<String, String>,
    /// A problem to show above the form (API down, input refused, ...).
    pub notice: Option<String>,
    /// Field errors to show under their field.
    pub field_errors: HashMap<String, String>,
    pub prediction: Option<&'a Prediction>,
}

impl Page<'_> {
    /// The complete HTML document.
    pub fn render(&self) -> String {
        let mut html = String::with_capacity(8 * 1024);
        let title = self.model.map_or_else(
            || "Model".to_owned(),
            |m| format!("Predict the {}", m.target),
        );
        let _ = write!(
            html,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
            escape(&title),
            escape(&title)
        );
        if let Some(model) = self.model {
            let _ = writeln!(
                html,
                "<p class=\"model\" id=\"model-version\">Model <strong>{}</strong> version <strong>{}</strong></p>",
                escape(&model.name),
                escape(&model.version)
            );
        }
        if let Some(notice) = &self.notice {
            let _ = writeln!(
                html,
                "<div id=\"api-error\" class=\"notice\" role=\"alert\">{}</div>",
                escape(notice)
            );
        }
        if let Some(model) = self.model {
            self.form(&mut html, model);
            if let Some(prediction) = self.prediction {
                result(&mut html, model, prediction);
            }
        }
        let _ = write!(html, "<script>\n{JS}</script>\n</main>\n</body>\n</html>\n");
        html
    }

    fn form(&self, html: &mut String, model: &ModelInfo) {
        html.push_str(
            "<form id=\"predict-form\" method=\"post\" action=\"/predict\" novalidate>\n",
        );
        for field in &model.fields {
            let name = escape(&field.name);
            let value = self
                .values
                .get(&field.name)
                .cloned()
                .unwrap_or_else(|| default_text(field));
            let error = self.field_errors.get(&field.name);
            let _ = write!(
                html,
                "<div class=\"field{}\">\n<label for=\"field-{name}\">{}</label>\n",
                if error.is_some() { " invalid" } else { "" },
                escape(&label(field))
            );
            let described = format!("aria-describedby=\"help-{name} error-{name}\"");
            let invalid = if error.is_some() {
                " aria-invalid=\"true\""
            } else {
                ""
            };
            match &field.categories {
                Some(categories) => {
                    let _ = writeln!(
                        html,
                        "<select id=\"field-{name}\" name=\"{name}\" {described}{invalid}>"
                    );
                    let unknown = if value.is_empty() { " selected" } else { "" };
                    let _ = writeln!(html, "<option value=\"\"{unknown}>unknown</option>");
                    for category in categories {
                        let selected = if category.eq_ignore_ascii_case(&value) {
                            " selected"
                        } else {
                            ""
                        };
                        let category = escape(category);
                        let _ = writeln!(
                            html,
                            "<option value=\"{category}\"{selected}>{category}</option>"
                        );
                    }
                    html.push_str("</select>\n");
                }
                None => {
                    let bound = |attribute: &str, bound: Option<f64>| {
                        bound.map_or_else(String::new, |b| format!(" {attribute}=\"{b}\""))
                    };
                    let unit = field.unit.as_deref().map_or_else(String::new, |unit| {
                        format!(" data-unit=\"{}\"", escape(unit))
                    });
                    let _ = writeln!(
                        html,
                        "<input id=\"field-{name}\" name=\"{name}\" type=\"number\" step=\"any\"{}{}{unit} value=\"{}\" placeholder=\"unknown\" {described}{invalid}>",
                        bound("min", field.min),
                        bound("max", field.max),
                        escape(&value)
                    );
                }
            }
            let _ = writeln!(
                html,
                "<small id=\"help-{name}\">{}</small>\n<span id=\"error-{name}\" class=\"error\" aria-live=\"polite\">{}</span>\n</div>",
                escape(&help(field)),
                escape(error.map_or("", String::as_str))
            );
        }
        html.push_str("<button id=\"predict-button\" type=\"submit\">Predict</button>\n</form>\n");
    }
}

/// The predicted class with a bar per class probability (in the model's class order), or the
/// predicted number with its unit.
fn result(html: &mut String, model: &ModelInfo, prediction: &Prediction) {
    let shown = match &prediction.predicted {
        Predicted::Class { prediction, .. } => prediction.clone(),
        Predicted::Value { prediction, unit } => {
            let number = round_for_people(*prediction);
            match unit {
                Some(unit) => format!("{number} {unit}"),
                None => number,
            }
        }
    };
    let _ = writeln!(
        html,
        "<section id=\"result\" aria-live=\"polite\">\n<h2>Predicted {}: <strong id=\"result-prediction\">{}</strong></h2>",
        escape(&model.target),
        escape(&shown)
    );
    if let Predicted::Class {
        prediction,
        probabilities,
    } = &prediction.predicted
    {
        html.push_str(
            "<div id=\"probabilities\" role=\"list\" aria-label=\"class probabilities\">\n",
        );
        for class in &model.classes {
            let probability = probabilities.get(class).copied().unwrap_or(0.0);
            let percent = (probability * 100.0).clamp(0.0, 100.0);
            let top = if class == prediction { " top" } else { "" };
            let _ = writeln!(
                html,
                "<div class=\"bar-row{top}\" id=\"prob-{}\" role=\"listitem\" data-probability=\"{probability:.6}\"><span class=\"label\">{}</span><span class=\"bar\"><span class=\"fill\" style=\"width: {percent:.1}%\"></span></span><span class=\"value\">{percent:.1}%</span></div>",
                id_fragment(class),
                escape(class)
            );
        }
        html.push_str("</div>\n");
    }
    let _ = writeln!(
        html,
        "<p class=\"model\">Answered by model {} version {}</p>\n</section>",
        escape(&prediction.model.name),
        escape(&prediction.model.version)
    );
}

/// `bill_length_mm` with unit `mm` becomes "Bill length (mm)".
fn label(field: &FieldInfo) -> String {
    let mut words = field.name.as_str();
    if let Some(unit) = &field.unit {
        words = words
            .strip_suffix(unit.as_str())
            .and_then(|w| w.strip_suffix('_'))
            .unwrap_or(words);
    }
    let words = words.replace('_', " ");
    let mut chars = words.chars();
    let mut text = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if let Some(unit) = &field.unit {
        text = format!("{text} ({unit})");
    }
    text
}

/// The description and the allowed range, under the control.
fn help(field: &FieldInfo) -> String {
    let unit = field
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let range = match (field.min, field.max) {
        (Some(min), Some(max)) => format!("{min} to {max}{unit}. "),
        (Some(min), None) => format!("At least {min}{unit}. "),
        (None, Some(max)) => format!("At most {max}{unit}. "),
        (None, None) => String::new(),
    };
    let description = field.description.trim();
    let sentence = if description.is_empty() || description.ends_with('.') {
        description.to_owned()
    } else {
        format!("{description}.")
    };
    let unknown = if field.categories.is_some() {
        "Choose unknown if not known."
    } else {
        "Leave blank if unknown."
    };
    format!("{sentence} {range}{unknown}").trim().to_owned()
}

/// The form's pre-filled text: the API's typical value, rounded for people.
fn default_text(field: &FieldInfo) -> String {
    match &field.default {
        serde_json::Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), round_for_people),
        serde_json::Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// Two decimals, or three significant digits for values below 1 (so 0.0032 is not shown as 0):
/// 44.449999 -> 44.45, 0.003215 -> 0.00322. For typical values and predicted numbers.
fn round_for_people(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).max(2);
    let scale = 10f64.powi(decimals);
    ((x * scale).round() / scale).to_string()
}

/// A class name made safe for an id attribute (letters, digits, `-` and `_`).
fn id_fragment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Escapes text for HTML content and double-quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    use {{crate_name}}_service::wire::HeldOutMetrics;
    use {{crate_name}}_service::wire::ModelRef;
    use {{crate_name}}_service::wire::TaskKind;

    fn field(name: &str, unit: Option<&str>) -> FieldInfo {
        FieldInfo {
            name: name.to_owned(),
            kind: "numeric".to_owned(),
            categories: None,
            min: Some(20.0),
            max: Some(80.0),
            unit: unit.map(str::to_owned),
            description: "Length of the bill".to_owned(),
            default: json!(44.449999),
        }
    }

    fn model() -> ModelInfo {
        ModelInfo {
            name: "penguins".into(),
            version: "1.2.3".into(),
            algorithm: "logistic_regression".into(),
            checksum: "abc".into(),
            created_at: "2025-01-01T00:00:00Z".into(),
            loaded_at: 0,
            target: "species".into(),
            task: TaskKind::Classification,
            classes: vec!["Adelie".into(), "Chinstrap".into(), "Gentoo".into()],
            unit: None,
            fields: vec![
                field("bill_length_mm", Some("mm")),
                FieldInfo {
                    kind: "categorical".into(),
                    categories: Some(vec!["Biscoe".into(), "Dream".into()]),
                    min: None,
                    max: None,
                    default: json!("Dream"),
                    ..field("island", None)
                },
            ],
            identifiers: Vec::new(),
            missing_values: vec!["NA".into()],
            metrics: HeldOutMetrics::Classification {
                accuracy: 0.97,
                macro_f1: 0.96,
                test_rows: 69,
            },
            training_data_sha256: "def".into(),
            git_commit: None,
        }
    }

    /// What the API answers for `predicted`.
    fn answer(predicted: Predicted) -> Prediction {
        Prediction {
            target: "species".into(),
            predicted,
            identifiers: BTreeMap::new(),
            model: ModelRef {
                name: "penguins".into(),
                version: "1.2.3".into(),
                checksum: "abc".into(),
            },
        }
    }

    #[test]
    fn labels_and_help_read_naturally() {
        assert_eq!(
            label(&field("bill_length_mm", Some("mm"))),
            "Bill length (mm)"
        );
        assert_eq!(label(&field("island", None)), "Island");
        assert_eq!(
            help(&field("bill_length_mm", Some("mm"))),
            "Length of the bill. 20 to 80 mm. Leave blank if unknown."
        );
        assert_eq!(default_text(&field("x", None)), "44.45");
    }

    #[test]
    fn text_from_outside_is_escaped() {
        assert_eq!(
            escape(r#"<b a="1">'&"#),
            "&lt;b a=&quot;1&quot;&gt;&#39;&amp;"
        );
        assert_eq!(id_fragment("Gentoo penguin!"), "Gentoo-penguin-");
        let page = Page {
            notice: Some("<script>alert(1)</script>".into()),
            ..Page::default()
        };
        let html = page.render();
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(!html.contains("<script>alert(1)"));
    }

    #[test]
    fn form_has_a_control_per_field_with_defaults_and_stable_ids() {
        let model = model();
        let html = Page {
            model: Some(&model),
            ..Page::default()
        }
        .render();
        for id in [
            "predict-form",
            "field-bill_length_mm",
            "error-bill_length_mm",
            "field-island",
            "predict-button",
            "model-version",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "missing #{id}");
        }
        assert!(
            html.contains(r#"min="20" max="80" data-unit="mm" value="44.45""#),
            "{html}"
        );
        assert!(
            html.contains(r#"<option value="Dream" selected>"#),
            "{html}"
        );
        assert!(!html.contains("id=\"result\""));
    }

    #[test]
    fn result_shows_the_prediction_bars_and_version() {
        let model = model();
        let prediction = answer(Predicted::Class {
            prediction: "Gentoo".into(),
            probabilities: [("Adelie".into(), 0.1), ("Gentoo".into(), 0.9)].into(),
        });
        let page = Page {
            model: Some(&model),
            prediction: Some(&prediction),
            values: [("island".to_owned(), "Biscoe".to_owned())].into(),
            field_errors: [("bill_length_mm".to_owned(), "too long".to_owned())].into(),
            ..Page::default()
        };
        let html = page.render();
        assert!(html.contains(r#"<strong id="result-prediction">Gentoo</strong>"#));
        assert!(html.contains(r#"id="prob-Gentoo" role="listitem" data-probability="0.900000""#));
        assert!(html.contains("width: 90.0%"));
        assert!(
            html.contains(r#"id="prob-Chinstrap""#),
            "every class gets a bar"
        );
        assert!(
            html.contains(r#"<option value="Biscoe" selected>"#),
            "submitted values are kept"
        );
        assert!(html.contains(r#"class="error" aria-live="polite">too long</span>"#));
        assert!(html.contains("Answered by model penguins version 1.2.3"));
    }

    #[test]
    fn a_predicted_number_is_shown_rounded_with_its_unit_and_no_bars() {
        let model = ModelInfo {
            target: "body_mass_g".into(),
            task: TaskKind::Regression,
            classes: Vec::new(),
            ..model()
        };
        for (unit, shown) in [(Some("g"), "5257.46 g"), (None, "5257.46")] {
            let prediction = answer(Predicted::Value {
                prediction: 5257.457999,
                unit: unit.map(str::to_owned),
            });
            let html = Page {
                model: Some(&model),
                prediction: Some(&prediction),
                ..Page::default()
            }
            .render();
            assert!(
                html.contains(&format!(
                    r#"<h2>Predicted body_mass_g: <strong id="result-prediction">{shown}</strong></h2>"#
                )),
                "{html}"
            );
            assert!(!html.contains("data-probability") && !html.contains(r#"id="probabilities""#));
            assert!(html.contains("Answered by model penguins version 1.2.3"));
        }
    }

    #[test]
    fn typical_values_keep_three_significant_digits() {
        for (x, text) in [
            (44.449999, "44.45"),
            (0.003215, "0.00322"),
            (0.5, "0.5"),
            (4050.5, "4050.5"),
            (-0.012345, "-0.0123"),
            (0.0, "0"),
        ] {
            assert_eq!(round_for_people(x), text, "{x}");
        }
    }
}
