//! The tools an assistant sees, built from the registry: one per skill (the skill's own input
//! schema plus the run options `dryRun`, `force` and `lang`; the report's schema as output), and
//! `match_skill`, which turns a request in Korean or English into ranked skills and the inputs
//! each still needs. Also the two translations a call needs: arguments -> [`Request`], and
//! report -> tool result.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::input::FieldError;
use crate::registry::{REPORT_SCHEMA, Registry, Skill};
use crate::report::{Report, Status};
use crate::trigger::Lang;
use crate::{Error, Request};

/// The free-text tool.
pub const MATCH_TOOL: &str = "match_skill";

/// Run options a skill tool accepts beside the skill's input; removed before validation.
const RUN_OPTIONS: [&str; 4] = ["dryRun", "force", "skipExisting", "lang"];

/// What a tool name stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Skill { id: String, options: Vec<&'static str> },
    Match,
}

/// Every tool, in listing order, and what each name runs.
pub struct Catalog {
    pub tools: Vec<Tool>,
    targets: BTreeMap<String, Target>,
}

impl Catalog {
    /// Loads every skill (each tool carries its input schema): a broken one is the error.
    pub fn new(registry: &Registry) -> crate::Result<Self> {
        let mut targets = BTreeMap::new();
        targets.insert(MATCH_TOOL.to_owned(), Target::Match);
        let mut tools = Vec::new();
        for skill in registry.skills()? {
            let name = unique(tool_name(skill.id()), &targets);
            let (tool, options) = skill_tool(&name, skill);
            targets.insert(name, Target::Skill { id: skill.id().to_owned(), options });
            tools.push(tool);
        }
        tools.push(match_tool());
        Ok(Catalog { tools, targets })
    }

    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.get(name)
    }
}

/// A tool name from a skill id: ASCII letters, digits, `_` and `-`, at most 64 characters (the
/// strictest rule among MCP clients); other characters become `_`.
pub fn tool_name(id: &str) -> String {
    let name: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).take(64).collect();
    if name.is_empty() { "skill".to_owned() } else { name }
}

fn unique(name: String, taken: &BTreeMap<String, Target>) -> String {
    if !taken.contains_key(&name) {
        return name;
    }
    (2..).map(|n| format!("{}_{n}", &name[..name.len().min(60)])).find(|n| !taken.contains_key(n)).expect("a free name")
}

fn skill_tool(name: &str, skill: &Skill) -> (Tool, Vec<&'static str>) {
    let mut schema = object(&skill.input_schema);
    schema.entry("type").or_insert_with(|| json!("object"));
    let properties = schema.entry("properties").or_insert_with(|| json!({}));
    let mut options = Vec::new();
    if let Some(properties) = properties.as_object_mut() {
        let definitions = [
            (
                "dryRun",
                json!({"type": "boolean", "default": false, "description": "Plan only: report every file the skill would create, update or leave, and write nothing."}),
            ),
            (
                "force",
                json!({"type": "boolean", "default": false, "description": "Replace existing files that differ from what the skill generates; each replaced file is backed up under .skillrun/backups/. Without it a differing file is a conflict and nothing is written."}),
            ),
            (
                "skipExisting",
                json!({"type": "boolean", "default": false, "description": "Write the files that are new or unchanged by the user, and leave every file that would be a conflict as it is (reported as skipped). Cannot be combined with force."}),
            ),
            (
                "lang",
                json!({"type": "string", "enum": ["ko", "en"], "description": "Language of the report's message and errors (default en)."}),
            ),
        ];
        for (key, definition) in definitions {
            // A skill that defines one of these names itself keeps its own meaning.
            if !properties.contains_key(key) {
                properties.insert(key.to_owned(), definition);
                options.push(key);
            }
        }
    }
    let e = &skill.entry;
    let quote = |phrases: &[String]| phrases.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ");
    let description = format!(
        "{}\n{}\nUse it when the user asks e.g. {} / {}.\nIt writes files into the project: dryRun: true previews without writing. An existing file that differs is a conflict (isError, nothing written) unless force: true, which replaces it and keeps a backup under .skillrun/backups/, or skipExisting: true, which leaves it and writes the rest. A file the skill wrote earlier and nobody edited since (hashes in .skillrun/answers.json) is updated without asking. Running it again with the same input changes nothing. Missing inputs? Call {MATCH_TOOL} with the user's words.",
        e.description.en,
        e.description.ko,
        quote(&e.triggers.ko),
        quote(&e.triggers.en),
    );
    let annotations = ToolAnnotations::with_title(e.title.en.clone())
        .read_only(false)
        .destructive(false)
        .idempotent(true)
        .open_world(false);
    let tool = Tool::new(name.to_owned(), description, Arc::new(schema))
        .with_title(e.title.en.clone())
        .with_raw_output_schema(Arc::new(report_schema()))
        .with_annotations(annotations);
    (tool, options)
}

fn match_tool() -> Tool {
    let input = json!({
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "description": "The user's request as they said it, in Korean or English, e.g. \"DB 설정 해줘\" or \"set up the database with postgres\"."},
            "lang": {"type": "string", "enum": ["ko", "en"], "description": "Language of the questions and message (default: the request's)."}
        },
        "required": ["text"],
        "additionalProperties": false
    });
    let why = json!({"type": "object", "required": ["objects", "intents"], "description": "the request's words that name the skill", "properties": {
        "objects": {"type": "array", "items": {"type": "string"}, "description": "what the skill acts on, as the request writes it"},
        "intents": {"type": "array", "items": {"type": "string"}, "description": "serving words (set up, 연동, ...)"},
        "typos": {"type": "array", "items": {"type": "string"}, "description": "words read as another: \"databse → database\""},
        "note": {"enum": ["question", "partial"], "description": "near misses only: a question about the topic (never run it), or only part of a request"}
    }});
    let output = json!({
        "type": "object",
        "required": ["lang", "matches", "ambiguous", "nearMisses", "message"],
        "properties": {
            "lang": {"enum": ["ko", "en"]},
            "matches": {"type": "array", "items": {
                "type": "object",
                "required": ["skill", "score", "why", "title", "input", "missingInputs"],
                "properties": {
                    "skill": {"type": "string", "description": "the skill id; its tool has the same name"},
                    "trigger": {"type": "string", "description": "the skill's trigger phrase found, if any"},
                    "lang": {"enum": ["ko", "en"]},
                    "score": {"type": "number", "description": "0..1; a match is at least 0.5, a trigger phrase at least 0.86"},
                    "why": why,
                    "title": {"type": "string"},
                    "input": {"type": "object", "description": "input values found in the text"},
                    "missingInputs": {"type": "array", "items": {"type": "object", "required": ["field", "question"], "properties": {"field": {"type": "string"}, "question": {"type": "string"}}}}
                }
            }},
            "ambiguous": {"type": "boolean", "description": "the best matches are too close to pick one: ask the user which"},
            "nearMisses": {"type": "array", "description": "skills close to the request that it does not ask to run (do not call them without asking)", "items": {
                "type": "object",
                "required": ["skill", "score", "why", "title", "about"],
                "properties": {
                    "skill": {"type": "string"}, "trigger": {"type": "string"}, "lang": {"enum": ["ko", "en"]},
                    "score": {"type": "number"}, "why": why, "title": {"type": "string"},
                    "about": {"type": "string", "description": "what the skill does"}
                }
            }},
            "message": {"type": "string"}
        }
    });
    let description = "Finds the skill for a request in Korean or English (\"DB 설정 해줘\", \"set up alembic\") and returns the ranked skills with why (the object and intent words found), the input values the text already gives, and the questions for each required input still missing. A question about a topic (\"what is alembic?\") or a partial request matches nothing and comes back as a near miss. Call it when unsure which skill tool fits or what to pass; then call that skill's tool (when `ambiguous`, ask the user which first).";
    Tool::new(MATCH_TOOL, description, Arc::new(object(&input)))
        .with_title("Match a request to a skill")
        .with_raw_output_schema(Arc::new(object(&output)))
        .with_annotations(
            ToolAnnotations::with_title("Match a request to a skill")
                .read_only(true)
                .destructive(false)
                .idempotent(true)
                .open_world(false),
        )
}

fn report_schema() -> JsonObject {
    object(&serde_json::from_str(REPORT_SCHEMA).expect("the embedded report schema is JSON"))
}

fn object(value: &Value) -> JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

/// A skill call's arguments split into the pipeline request and, when a run option has the
/// wrong type, the field errors to report instead of running.
pub fn request(
    id: &str,
    options: &[&str],
    arguments: Option<JsonObject>,
) -> Result<Request, (Option<Lang>, Vec<FieldError>)> {
    let mut input = arguments.unwrap_or_default();
    let mut errors = Vec::new();
    let mut flag = |key: &str, input: &mut JsonObject| match options.contains(&key).then(|| input.remove(key)).flatten()
    {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            errors.push(FieldError { field: format!("/{key}"), message: format!("{key} must be true or false") });
            false
        }
    };
    let dry_run = flag(RUN_OPTIONS[0], &mut input);
    let force = flag(RUN_OPTIONS[1], &mut input);
    let skip_existing = flag(RUN_OPTIONS[2], &mut input);
    if force && skip_existing {
        errors.push(FieldError {
            field: "/skipExisting".into(),
            message: "skipExisting and force cannot both be true: choose to keep or to replace differing files".into(),
        });
    }
    let lang = match options.contains(&"lang").then(|| input.remove("lang")).flatten() {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if Lang::parse(&s).is_some() => Lang::parse(&s),
        Some(_) => {
            errors.push(FieldError { field: "/lang".into(), message: "lang must be \"ko\" or \"en\"".into() });
            None
        }
    };
    if !errors.is_empty() {
        return Err((lang, errors));
    }
    Ok(Request { dry_run, force, skip_existing, lang, ..Request::new(id, Value::Object(input)) })
}

/// A report as a tool result: a readable summary and the report's JSON as text, the report as
/// `structuredContent`, and `isError` when nothing could be done as asked (invalid input, a
/// conflict, an error).
pub fn report_result(report: &Report) -> CallToolResult {
    let value = serde_json::to_value(report).expect("a report serializes");
    let is_error = matches!(report.status, Status::Invalid | Status::Conflict | Status::Error);
    structured(report.to_text().trim_end().to_owned(), value, is_error)
}

/// A report-shaped result for an input the pipeline never saw (a bad run option) or a run that
/// failed ([`Error`] texts hold no input values, so no secrets).
pub fn failure_result(skill: &str, status: Status, lang: Option<Lang>, errors: Vec<FieldError>) -> CallToolResult {
    let message = match status {
        Status::Invalid => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            lang.unwrap_or(Lang::En).say().report_invalid(&fields.join(", "))
        }
        _ => errors.first().map(|e| e.message.clone()).unwrap_or_default(),
    };
    let value = json!({
        "skill": skill, "status": status, "lang": lang.unwrap_or(Lang::En), "files": [], "commands": [], "steps": [], "notes": [],
        "errors": errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect::<Vec<_>>(),
        "message": message,
    });
    structured(message, value, true)
}

/// The result of a run that ended in an [`Error`] (not a cancellation: that has no answer).
pub fn error_result(skill: &str, lang: Option<Lang>, error: &Error) -> CallToolResult {
    failure_result(skill, Status::Error, lang, vec![FieldError { field: String::new(), message: error.to_string() }])
}

/// The `match_skill` answer.
pub fn match_result(reply: &crate::chat::Reply) -> CallToolResult {
    let value = serde_json::to_value(reply).expect("a reply serializes");
    structured(reply.message.clone(), value, false)
}

fn structured(summary: String, value: Value, is_error: bool) -> CallToolResult {
    // rmcp's constructor already writes the value as compact JSON into a text block (the one
    // serialization of the report as text); the readable summary goes before it.
    let mut result = if is_error { CallToolResult::structured_error(value) } else { CallToolResult::structured(value) };
    result.content.insert(0, ContentBlock::text(summary));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_keep_safe_characters_only() {
        assert_eq!(tool_name("database-setup"), "database-setup");
        assert_eq!(tool_name("db setup/v2.0"), "db_setup_v2_0");
        assert_eq!(tool_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn run_options_are_taken_out_of_the_input() {
        let args = json!({"projectPath": "p", "dryRun": true, "force": false, "lang": "ko"}).as_object().cloned();
        let r = request("s", &RUN_OPTIONS, args).unwrap();
        assert_eq!((r.dry_run, r.force, r.lang, r.input), (true, false, Some(Lang::Ko), json!({"projectPath": "p"})));
    }

    #[test]
    fn a_run_option_of_the_wrong_type_is_a_field_error() {
        let args = json!({"dryRun": "yes"}).as_object().cloned();
        let (_, errors) = request("s", &RUN_OPTIONS, args).unwrap_err();
        assert_eq!(
            errors,
            vec![FieldError { field: "/dryRun".into(), message: "dryRun must be true or false".into() }]
        );
    }

    #[test]
    fn an_option_the_skill_defines_itself_is_left_in_the_input() {
        let args = json!({"force": "yes"}).as_object().cloned();
        assert_eq!(request("s", &["dryRun"], args).unwrap().input, json!({"force": "yes"}));
    }

    #[test]
    fn every_skill_tool_extends_its_schema_and_reports_with_the_report_schema() {
        let registry = crate::skills::embedded().unwrap();
        let catalog = Catalog::new(&registry).unwrap();
        let tool = catalog.tools.iter().find(|t| t.name == "database-setup").unwrap();
        let props = tool.input_schema["properties"].as_object().unwrap();
        assert!(
            ["projectPath", "databaseUrl", "dbType", "dryRun", "force", "lang"].iter().all(|k| props.contains_key(*k))
        );
        assert_eq!(tool.input_schema["additionalProperties"], false);
        assert_eq!(tool.output_schema.as_deref().unwrap()["title"], "skillrun run report");
        assert_eq!(catalog.target(MATCH_TOOL), Some(&Target::Match));
    }
}
