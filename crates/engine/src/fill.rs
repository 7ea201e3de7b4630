//! Inline templates that are only text and `{{ name }}` holes (`{{ pkgDir }}/core/config.py`,
//! `{{ cdPrefix }}uv sync`): most of a skill's step paths, env keys and command lines. They are
//! filled here straight from the context, as Tera would render them, without parsing them with
//! Tera's parser or copying the context into a Tera context (a cold run renders dozens of them).
//! Anything else (tags, filters, whitespace control, a value that is not a string or a boolean,
//! a missing value) is left to Tera, whose output or error is then the answer.

use serde_json::{Map, Value};

/// `text` filled from `context`, or `None` when Tera must render it.
pub(crate) fn fill(text: &str, context: &Map<String, Value>) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let hole = rest[start..].strip_prefix("{{")?;
        let end = hole.find("}}")?;
        let name = hole[..end].trim_matches(' ');
        match lookup(context, name)? {
            Value::String(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            _ => return None,
        }
        rest = &hole[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

/// The value at a dotted name (`project.settings.file`), when the name is plain identifiers
/// that Tera would read the same way (no keyword or literal such as `true`, no index, no filter).
fn lookup<'a>(context: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let mut parts = name.split('.');
    let first = parts.next()?;
    if matches!(
        first,
        "true" | "false" | "True" | "False" | "and" | "or" | "not" | "in" | "is" | "loop" | "__tera_context"
    ) {
        return None;
    }
    let mut value = context.get(ident(first)?)?;
    for part in parts {
        value = value.as_object()?.get(ident(part)?)?;
    }
    Some(value)
}

fn ident(part: &str) -> Option<&str> {
    let mut chars = part.chars();
    let first = chars.next()?;
    let plain = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then_some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same text rendered by Tera, as the skill's inline templates are.
    fn tera(text: &str, context: &Map<String, Value>) -> Option<String> {
        let mut tera = crate::names::tera();
        tera.add_raw_template("t", text).ok()?;
        tera.render("t", &tera::Context::from_value(Value::Object(context.clone())).unwrap()).ok()
    }

    #[test]
    fn holes_are_filled_as_tera_fills_them_and_anything_else_is_left_to_tera() {
        let context = serde_json::json!({
            "pkgDir": "src/app", "cdPrefix": "", "flag": true, "n": 3, "none": null, "list": ["a"],
            "project": {"settings": {"file": "app/config.py", "found": false}}, "true": "no",
        });
        let context = context.as_object().unwrap();
        for text in [
            "{{ pkgDir }}/core/config.py",
            "{{cdPrefix}}uv sync",
            "{{ project.settings.file }}",
            "{{ project.settings.found }} and {{ flag }}",
            "a } b {{ pkgDir }}}",
            "no holes",
            "",
        ] {
            assert_eq!(fill(text, context), tera(text, context), "{text}");
            assert!(fill(text, context).is_some(), "{text}");
        }
        for text in [
            "{{ n }}",
            "{{ none }}",
            "{{ list }}",
            "{{ missing }}",
            "{{ project.missing }}",
            "{{ true }}",
            "{{ pkgDir | upper }}",
            "{{- pkgDir }}",
            "{% if flag %}x{% endif %}",
            "{# c #}{{ pkgDir }}",
            "{ {{ pkgDir }}",
            "{{ list.0 }}",
            "{{ pkgDir",
        ] {
            assert_eq!(fill(text, context), None, "{text}");
        }
    }
}
