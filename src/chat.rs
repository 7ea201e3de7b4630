//! Chat: free text in, a short reply out. Matches the text to a skill, picks up the inputs the
//! text already holds (a database URL, a kind of database, a path), and asks for what is missing.
//! Used by `skillrun chat` and by the MCP `match_skill` tool.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::registry::{Registry, Skill};
use crate::trigger::{Lang, SkillTriggers, TriggerMatch};

/// One ranked skill with what a caller still has to supply.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillMatch {
    #[serde(flatten)]
    pub matched: TriggerMatch,
    pub title: String,
    /// Input values found in the text.
    pub input: Map<String, Value>,
    /// Required inputs the text does not give.
    pub missing_inputs: Vec<MissingInput>,
}

/// A required input and how to ask for it.
#[derive(Debug, Clone, Serialize)]
pub struct MissingInput {
    pub field: String,
    pub question: String,
}

/// The answer to a chat message.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    pub lang: Lang,
    pub matches: Vec<SkillMatch>,
    pub message: String,
}

/// Ranks the registry's skills for `text`.
pub fn rank(registry: &Registry, text: &str) -> Vec<TriggerMatch> {
    let sets: Vec<SkillTriggers<'_>> = registry
        .skills()
        .iter()
        .map(|s| SkillTriggers {
            skill: s.id(),
            phrases: s.entry.triggers.ko.iter().chain(&s.entry.triggers.en).map(String::as_str).collect(),
        })
        .collect();
    crate::trigger::rank(text, &sets)
}

/// Matches `text`, extracts what it can, and says what is missing, in the text's language
/// (or `lang` when given).
pub fn reply(registry: &Registry, text: &str, lang: Option<Lang>) -> Reply {
    let lang = lang.unwrap_or_else(|| crate::trigger::detect_lang(text));
    let matches: Vec<SkillMatch> = rank(registry, text)
        .into_iter()
        .filter_map(|m| registry.get(&m.skill).ok().map(|skill| describe(skill, m, text, lang)))
        .collect();
    let ko = lang == Lang::Ko;
    let message = match matches.first() {
        None if ko => "어떤 스킬에도 해당하지 않습니다. 예: \"DB 설정 해줘\"".to_owned(),
        None => "No skill matches that request. Try e.g. \"set up the database\".".to_owned(),
        Some(m) if m.missing_inputs.is_empty() => {
            if ko {
                format!("{}: 필요한 입력이 모두 있습니다. 실행할 수 있습니다.", m.title)
            } else {
                format!("{}: every required input is there; ready to run.", m.title)
            }
        }
        Some(m) => {
            let questions: Vec<&str> = m.missing_inputs.iter().map(|q| q.question.as_str()).collect();
            format!("{}: {}", m.title, questions.join(" "))
        }
    };
    Reply { lang, matches, message }
}

fn describe(skill: &Skill, matched: TriggerMatch, text: &str, lang: Lang) -> SkillMatch {
    let props = skill.input_schema.get("properties").and_then(Value::as_object);
    let mut input = Map::new();
    if let Some(url) = find_url(text)
        && props.is_some_and(|p| p.contains_key("databaseUrl"))
    {
        input.insert("databaseUrl".into(), Value::String(url));
    }
    if let Some(p) = props {
        for (name, prop) in p {
            if let Some(options) = prop.get("enum").and_then(Value::as_array) {
                let lower = text.to_lowercase();
                if let Some(v) = options.iter().filter_map(Value::as_str).find(|o| mentions(&lower, o)) {
                    input.insert(name.clone(), Value::String(v.to_owned()));
                }
            }
        }
    }
    let missing_inputs = skill
        .required_inputs()
        .into_iter()
        .filter(|f| !input.contains_key(f))
        .map(|field| {
            let prop = props.and_then(|p| p.get(&field));
            let hint = prop
                .and_then(|p| p.get("x-hint"))
                .and_then(|h| h.get(lang.code()))
                .and_then(Value::as_str)
                .unwrap_or_default();
            let question = if lang == Lang::Ko {
                format!("{field}을(를) 알려 주세요 ({hint}).")
            } else {
                format!("What is {field}? ({hint})")
            };
            MissingInput { field, question }
        })
        .collect();
    SkillMatch { title: skill.entry.title.get(lang).to_owned(), matched, input, missing_inputs }
}

/// A word for a value, allowing common aliases (postgres for postgresql, mariadb for mysql).
fn mentions(lower: &str, option: &str) -> bool {
    let aliases: &[&str] = match option {
        "postgresql" => &["postgresql", "postgres", "포스트그레스", "포스트그레"],
        "mysql" => &["mysql", "mariadb", "마이에스큐엘", "마리아"],
        "sqlite" => &["sqlite", "sqlite3", "에스큐라이트"],
        other => return lower.contains(other),
    };
    aliases.iter().any(|a| lower.contains(a))
}

fn find_url(text: &str) -> Option<String> {
    let re = regex::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>`]*"#).expect("valid regex");
    re.find(text).map(|m| m.as_str().trim_end_matches(['.', ',', ')', ']']).to_owned())
}
