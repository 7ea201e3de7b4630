//! Input: validates a request's input against the skill's JSON Schema (draft 2020-12), turns
//! each failure into a field error that says what is wrong and how to fix it (in Korean or
//! English), runs the skill's derive steps and applies defaults. The result is the template
//! context, in which every secret (a URL's password, a field the schema marks `"x-secret": true`)
//! is redacted; the full values travel beside it as [`Secrets`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::registry::{Derive, Skill};
use crate::secret::{REDACTED, Secret};
use crate::trigger::Lang;

/// One problem with the input, located by a JSON pointer (`/databaseUrl`; `` for the whole input).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Input that passed validation, with defaults applied and derived values added.
#[derive(Debug, Clone)]
pub struct ValidInput {
    /// The context templates see: the input fields plus derived values, each secret redacted
    /// (`postgresql+asyncpg://app:***@db/app`, `***`). It may be shown, logged or recorded.
    pub context: Map<String, Value>,
    /// The full values of the context's secret fields.
    pub secrets: Secrets,
    /// What the runtime changed in the input and why, for the report.
    pub notes: Vec<String>,
}

/// The full values of secret fields, by field name. Only a step that writes a secret file (an
/// `env-file` step with `"secret": true`) renders with them ([`Secrets::reveal`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secrets(BTreeMap<String, Secret>);

impl Secrets {
    /// `context` with each secret field's full value in place of its redacted one.
    pub fn reveal(&self, context: &Map<String, Value>) -> Map<String, Value> {
        let mut revealed = context.clone();
        for (field, secret) in &self.0 {
            revealed.insert(field.clone(), Value::String(secret.expose().to_owned()));
        }
        revealed
    }
    pub fn get(&self, field: &str) -> Option<&Secret> {
        self.0.get(field)
    }
}

/// Validates `input` for `skill`. Errors are in `lang`.
pub fn prepare(skill: &Skill, input: &Value, lang: Lang) -> Result<ValidInput, Vec<FieldError>> {
    let say = lang.say();
    let Some(object) = input.as_object() else {
        return Err(vec![FieldError { field: String::new(), message: say.input_not_object(skill.project_field()) }]);
    };
    let mut notes = Vec::new();
    let input = &normalize_enums(skill, object, lang, &mut notes);
    let object = input.as_object().expect("still an object");
    // pipeline::run compiled the validator before calling here; a schema that does not compile
    // is reported there as a registry error, so this branch only guards other callers.
    let validator = skill.validator().map_err(|e| vec![FieldError { field: String::new(), message: e.to_string() }])?;
    let mut errors: Vec<FieldError> = validator.iter_errors(input).flat_map(|e| describe(skill, &e, lang)).collect();
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    errors.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut context = object.clone();
    let mut secrets = BTreeMap::new();
    for derive in &skill.spec.derive {
        match derive {
            Derive::DatabaseUrl(spec) => {
                let url = context.get(&spec.url_field).and_then(Value::as_str).unwrap_or_default().to_owned();
                let given = context.get(&spec.type_field).and_then(Value::as_str).map(str::to_owned);
                let derived = crate::dburl::derive(spec, &url, given.as_deref(), lang)
                    .map_err(|e| vec![FieldError { field: e.field, message: e.message }])?;
                if let Some(from) = &derived.rewritten_from {
                    let to = derived.url_redacted.split("://").next().unwrap_or_default();
                    let field = &spec.url_field;
                    notes.push(say.input_url_rewritten(field, from, to));
                }
                if given.is_none() {
                    let (field, kind) = (&spec.type_field, &derived.db_type);
                    notes.push(say.input_type_from_url(field, kind));
                }
                context.insert(spec.url_field.clone(), Value::String(derived.url_redacted));
                context.insert(format!("{}Example", spec.url_field), Value::String(derived.url_example));
                context.insert(spec.type_field.clone(), Value::String(derived.db_type));
                if let Some(field) = &spec.driver_field {
                    context.insert(field.clone(), Value::String(derived.driver));
                }
                secrets.insert(spec.url_field.clone(), derived.url);
            }
        }
    }
    // A string field the schema marks secret is secret whole.
    for name in secret_fields(skill) {
        if let Some(Value::String(value)) = context.get(name)
            && !secrets.contains_key(name)
        {
            secrets.insert(name.to_owned(), Secret::new(value.clone()));
            context.insert(name.to_owned(), Value::String(REDACTED.to_owned()));
        }
    }
    if let Some(props) = skill.input_schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            if let (false, Some(default)) = (context.contains_key(name), prop.get("default")) {
                context.insert(name.clone(), default.clone());
            }
        }
    }
    Ok(ValidInput { context, secrets: Secrets(secrets), notes })
}

/// The properties the schema marks `"x-secret": true`.
fn secret_fields(skill: &Skill) -> impl Iterator<Item = &str> {
    let props = skill.input_schema.get("properties").and_then(Value::as_object);
    props.into_iter().flatten().filter(|(_, p)| p.get("x-secret") == Some(&Value::Bool(true))).map(|(k, _)| k.as_str())
}

/// A field checked on its own, as a chat answer arrives.
#[derive(Debug, Clone)]
pub struct CheckedField {
    /// The value as the run will see it (an alias read as its enum value).
    pub value: Value,
}

/// Checks `field` of a partial input (`given` holds it and whatever else is known so far) against
/// the schema's rules for that field and the derive steps that read it; fields not given yet are
/// not errors here. Errors are in `lang` and name the field.
pub fn check_field(
    skill: &Skill,
    given: &Map<String, Value>,
    field: &str,
    lang: Lang,
) -> Result<CheckedField, Vec<FieldError>> {
    let normalized = normalize_enums(skill, given, lang, &mut Vec::new());
    let pointer = format!("/{field}");
    let validator = skill.validator().map_err(|e| vec![FieldError { field: String::new(), message: e.to_string() }])?;
    let mut errors: Vec<FieldError> = validator
        .iter_errors(&normalized)
        .flat_map(|e| describe(skill, &e, lang))
        .filter(|e| e.field == pointer)
        .collect();
    errors.dedup();
    if !errors.is_empty() {
        return Err(errors);
    }
    for derive in &skill.spec.derive {
        match derive {
            Derive::DatabaseUrl(spec) if spec.url_field == field || spec.type_field == field => {
                let Some(url) = normalized.get(&spec.url_field).and_then(Value::as_str) else { continue };
                let given_type = normalized.get(&spec.type_field).and_then(Value::as_str);
                if let Err(e) = crate::dburl::derive(spec, url, given_type, lang) {
                    return Err(vec![FieldError { field: pointer, message: e.message }]);
                }
            }
            Derive::DatabaseUrl(_) => {}
        }
    }
    let value = normalized.get(field).cloned().unwrap_or(Value::Null);
    Ok(CheckedField { value })
}

/// Spellings people use for an enum value: any case, or an alias the schema lists under
/// `x-aliases` (`"postgres"` for `"postgresql"`). Each rewrite is noted.
fn normalize_enums(skill: &Skill, object: &Map<String, Value>, lang: Lang, notes: &mut Vec<String>) -> Value {
    let mut out = object.clone();
    let Some(props) = skill.input_schema.get("properties").and_then(Value::as_object) else {
        return Value::Object(out);
    };
    for (name, prop) in props {
        let (Some(given), Some(options)) =
            (object.get(name).and_then(Value::as_str), prop.get("enum").and_then(Value::as_array))
        else {
            continue;
        };
        let options: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
        if options.contains(&given) {
            continue;
        }
        let key = given.trim().to_lowercase();
        let alias = prop.get("x-aliases").and_then(|a| a.get(&key)).and_then(Value::as_str);
        if let Some(value) = options.iter().copied().find(|o| o.to_lowercase() == key).or(alias) {
            out.insert(name.clone(), Value::String(value.to_owned()));
            notes.push(lang.say().input_enum_read_as(name, given, value));
        }
    }
    Value::Object(out)
}

/// A schema failure in words: what is wrong, then the field's own hint (`x-hint`) on how to fix it.
fn describe(skill: &Skill, error: &jsonschema::ValidationError<'_>, lang: Lang) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as K;
    let say = lang.say();
    let mut field = error.instance_path().as_str().to_owned();
    let props = skill.input_schema.get("properties").and_then(Value::as_object);
    let known =
        || props.map(|p| p.keys().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    let what = match error.kind() {
        K::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            field = format!("{field}/{name}");
            say.input_required()
        }
        K::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|name| {
                    let message = say.input_unknown_field(closest(name, props).as_deref(), &known());
                    FieldError { field: format!("{field}/{name}"), message }
                })
                .collect();
        }
        K::Type { kind } => {
            let expected = format!("{kind:?}").to_lowercase().replace("single(", "").replace(')', "");
            say.input_wrong_type(&expected)
        }
        K::Enum { options } => {
            let list = options
                .as_array()
                .map(|a| a.iter().map(Value::to_string).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            say.input_not_one_of(&list)
        }
        K::MinLength { .. } => say.input_empty(),
        K::MaxLength { limit } => say.input_too_long(*limit),
        // The schema may say in words what its pattern means (`x-errors.pattern`).
        K::Pattern { pattern } => match skill.error_text(field.trim_start_matches('/'), "pattern", lang) {
            Some(text) => text,
            None => say.input_pattern(pattern),
        },
        _ => error.masked().to_string(),
    };
    let hint = skill.hint(field.trim_start_matches('/'), lang);
    let message = match hint {
        Some(hint) => say.input_with_hint(&what, hint),
        None => what,
    };
    vec![FieldError { field, message }]
}

/// The known property nearest to a misspelt one (case-insensitive, small edit distance).
fn closest(name: &str, props: Option<&Map<String, Value>>) -> Option<String> {
    let lower = name.to_lowercase().replace(['_', '-'], "");
    props?
        .keys()
        .map(|k| (distance(&lower, &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k.clone())
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
