//! Chat: free text in, a short reply out. Matches the text to a skill, picks up the inputs the
//! text already holds (a database URL, a kind of database, a path), and asks for what is missing;
//! when nothing matches, names the skill that came close and why (a question about its topic, or
//! part of a request), and when two skills fit equally, asks which.
//! Used by `skillrun chat TEXT`, by the MCP `match_skill` tool, and by the conversation engine
//! (the `skillrun` crate's conversation engine), which asks for the rest one input at a time.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::registry::{ManifestEntry, Registry, Skill};
use crate::trigger::{Lang, Note, Ranking, TriggerMatch};

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

/// A skill close to the request that it does not match: a question about its topic, or part of
/// a request (see `why.note`).
#[derive(Debug, Clone, Serialize)]
pub struct NearMiss {
    #[serde(flatten)]
    pub matched: TriggerMatch,
    pub title: String,
    /// What the skill does, in the reply's language.
    pub about: String,
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
    /// Skills the request asks for, best first.
    pub matches: Vec<SkillMatch>,
    /// The two best matches are too close to pick one: the user must say which.
    pub ambiguous: bool,
    /// Skills close to the request that it does not ask to run.
    pub near_misses: Vec<NearMiss>,
    pub message: String,
}

impl Reply {
    /// The skill to run: the best match, unless there is none or it is not clearly the best.
    pub fn runnable(&self) -> Option<&SkillMatch> {
        self.matches.first().filter(|_| !self.ambiguous)
    }
}

/// Ranks the registry's skills for `text`.
pub fn rank(registry: &Registry, text: &str) -> Ranking {
    registry.trigger_index().rank(text)
}

/// Matches `text`, extracts what it can, and says what is missing, or which skill came close,
/// in the text's language (or `lang` when given). Ranking and near misses read only the manifest;
/// each matched skill is loaded (its input schema says what to extract and ask for), so a broken
/// one is its registry error, naming its file.
pub fn reply(registry: &Registry, text: &str, lang: Option<Lang>) -> crate::Result<Reply> {
    let ranking = rank(registry, text);
    let ambiguous = ranking.ambiguous();
    let lang = lang.unwrap_or(ranking.lang);
    let matches: Vec<SkillMatch> = ranking
        .matches
        .into_iter()
        .map(|m| registry.get(&m.skill).map(|skill| describe(skill, m, text, lang)))
        .collect::<crate::Result<_>>()?;
    let near_misses: Vec<NearMiss> = ranking
        .near_misses
        .into_iter()
        .filter_map(|m| {
            let entry = registry.entry(&m.skill).ok()?;
            Some(NearMiss { title: entry.title.get(lang).to_owned(), about: about(entry, lang), matched: m })
        })
        .collect();
    let message = message(registry, lang, &matches, ambiguous, &near_misses);
    Ok(Reply { lang, matches, ambiguous, near_misses, message })
}

fn message(registry: &Registry, lang: Lang, matches: &[SkillMatch], ambiguous: bool, near: &[NearMiss]) -> String {
    let say = lang.say();
    if ambiguous {
        let best = matches[0].matched.score;
        let close: Vec<String> = matches
            .iter()
            .filter(|m| best - m.matched.score <= crate::trigger::CLOSE)
            .map(|m| format!("{} ({})", m.matched.skill, m.title))
            .collect();
        return say.chat_ambiguous(&close.join(", "));
    }
    match (matches.first(), near.first()) {
        (Some(m), _) if m.missing_inputs.is_empty() => say.chat_ready(&m.title),
        (Some(m), _) => {
            let questions: Vec<&str> = m.missing_inputs.iter().map(|q| q.question.as_str()).collect();
            format!("{}: {}", m.title, questions.join(" "))
        }
        (None, Some(n)) => {
            let id = &n.matched.skill;
            let example = registry.entry(id).map(|e| example(e, lang)).unwrap_or_default();
            match n.matched.why.note {
                Some(Note::Question) => say.chat_question(topic(n), id, &n.about, &example),
                _ => say.chat_near_miss(id, &n.about, &example),
            }
        }
        (None, None) => {
            let example = registry.entries().first().map(|e| example(e, lang)).unwrap_or_default();
            say.chat_no_match(&example)
        }
    }
}

/// What a near miss was about: the object or phrase found, else the skill.
fn topic(n: &NearMiss) -> &str {
    n.matched.why.objects.first().or(n.matched.trigger.as_ref()).unwrap_or(&n.matched.skill)
}

/// The first sentence of the skill's description.
fn about(entry: &ManifestEntry, lang: Lang) -> String {
    let d = entry.description.get(lang).trim();
    match d.find(". ") {
        Some(i) => d[..=i].to_owned(),
        None => d.to_owned(),
    }
}

/// A trigger phrase of the skill in `lang`, to show how to ask for it.
fn example(entry: &ManifestEntry, lang: Lang) -> String {
    let t = &entry.triggers;
    let list = if lang == Lang::Ko { &t.ko } else { &t.en };
    list.iter().find(|p| p.contains(' ')).or(list.first()).cloned().unwrap_or_default()
}

fn describe(skill: &Skill, matched: TriggerMatch, text: &str, lang: Lang) -> SkillMatch {
    let input = extract(skill, text);
    let missing_inputs = skill
        .required_inputs()
        .into_iter()
        .filter(|f| !input.contains_key(f))
        .map(|field| {
            let question = question(skill, &field, lang);
            MissingInput { field, question }
        })
        .collect();
    SkillMatch { title: skill.entry.title.get(lang).to_owned(), matched, input, missing_inputs }
}

/// How to ask for `field`, in `lang`, with the schema's hint.
pub fn question(skill: &Skill, field: &str, lang: Lang) -> String {
    let hint = skill.hint(field, lang).unwrap_or_default();
    lang.say().ask_field(field, hint)
}

/// The input values `text` holds for `skill`. What to look for comes from the schema:
/// `key=value` and `key: value` pairs naming a property (any case, `_`/`-` ignored), then for the
/// properties not named so: `x-extract` ("url" or "path") on a property, its
/// `x-extract-pattern` (a regular expression whose capture group is the value), and the values
/// (and `x-aliases`) of an enum property.
pub fn extract(skill: &Skill, text: &str) -> Map<String, Value> {
    let props = skill.input_schema.get("properties").and_then(Value::as_object);
    let (mut input, text) = find_pairs(text, props);
    // A URL given as a pair still names the kind of database by its scheme.
    let url = find_url(&text).or_else(|| input.values().filter_map(Value::as_str).find_map(find_url));
    let without_url = url.as_deref().map_or_else(|| text.clone(), |u| text.replace(u, " "));
    for (name, prop) in props.into_iter().flatten() {
        if input.contains_key(name) {
            continue;
        }
        let found = match prop.get("x-extract").and_then(Value::as_str) {
            Some("url") => url.clone(),
            Some("path") => find_path(&without_url),
            _ if prop.get("x-extract-pattern").is_some() => {
                prop.get("x-extract-pattern").and_then(Value::as_str).and_then(|p| find_pattern(&without_url, p))
            }
            _ => prop.get("enum").and_then(Value::as_array).and_then(|options| {
                // Named in the words, else by the URL's scheme ("postgres+asyncpg://").
                let scheme = url.as_deref().and_then(|u| u.split("://").next()).unwrap_or_default();
                find_enum(&without_url, options, prop.get("x-aliases"))
                    .or_else(|| find_enum(scheme, options, prop.get("x-aliases")))
            }),
        };
        if let Some(value) = found {
            input.insert(name.clone(), Value::String(value));
        }
    }
    input
}

/// The first capture group that took part in the first match of the schema's
/// `x-extract-pattern` (a regular expression; checked when the skill set loads).
fn find_pattern(text: &str, pattern: &str) -> Option<String> {
    let re = regex::Regex::new(pattern).ok()?;
    let caps = re.captures(text)?;
    caps.iter().skip(1).flatten().next().map(|m| m.as_str().to_owned())
}

/// `key=value` / `key: value` pairs whose key names a property; returns them and the text
/// without them. A value may be quoted; a non-string property's value is read as JSON if it parses.
fn find_pairs(text: &str, props: Option<&Map<String, Value>>) -> (Map<String, Value>, String) {
    static PAIR: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*(?:=|:[ \t]+|:)[ \t]*("[^"]*"|'[^']*'|[^\s,;]+)"#)
            .expect("valid regex")
    });
    let squash = |k: &str| k.to_lowercase().replace(['_', '-'], "");
    let mut found = Map::new();
    let mut rest = text.to_owned();
    for caps in PAIR.captures_iter(text) {
        let key = squash(&caps[1]);
        let Some((name, prop)) = props.into_iter().flatten().find(|(name, _)| squash(name) == key) else {
            continue;
        };
        let raw = caps[2].trim_matches(|c| c == '"' || c == '\'');
        let raw = if prop.get("x-extract").and_then(Value::as_str) == Some("path") {
            strip_particle(raw)
        } else {
            raw.to_owned()
        };
        let is_string = prop.get("type").and_then(Value::as_str).is_none_or(|t| t == "string");
        let value = serde_json::from_str(&raw).ok().filter(|_| !is_string).unwrap_or(Value::String(raw));
        found.entry(name.clone()).or_insert(value);
        rest = rest.replacen(&caps[0], " ", 1);
    }
    (found, rest)
}

/// The enum value the text names, by the value itself or one of its aliases, as a whole word
/// (a Korean word may carry a particle: "포스트그레스로").
fn find_enum(text: &str, options: &[Value], aliases: Option<&Value>) -> Option<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> =
        lower.split(|c: char| !(c.is_alphanumeric() || c == '+')).filter(|w| !w.is_empty()).collect();
    let names = |option: &str| -> Vec<String> {
        let mut names = vec![option.to_lowercase()];
        if let Some(map) = aliases.and_then(Value::as_object) {
            names.extend(map.iter().filter(|(_, v)| v.as_str() == Some(option)).map(|(k, _)| k.to_lowercase()));
        }
        names
    };
    options
        .iter()
        .filter_map(Value::as_str)
        .find(|option| names(option).iter().any(|name| words.iter().any(|w| names_word(w, name))))
        .map(str::to_owned)
}

/// `word` is `name`, or `name` with a Korean particle glued on ("sqlite로", "포스트그레스로").
fn names_word(word: &str, name: &str) -> bool {
    word.strip_prefix(name).is_some_and(|rest| {
        rest.is_empty() || !name.is_ascii() || rest.chars().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
    })
}

/// A filesystem path in the text: a word that starts with `/`, `./`, `../` or `~/`.
fn find_path(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c| matches!(c, '"' | '\'' | '`' | ',' | '(' | ')')))
        .find(|w| ["/", "./", "../", "~/"].iter().any(|p| w.starts_with(p)) && w.len() > 1)
        .map(|w| w.trim_end_matches(['.', ','].as_ref()).to_owned())
        .map(|w| strip_particle(&w))
}

/// "./api에" -> "./api": a Korean particle glued to the end of a path is not part of it.
fn strip_particle(word: &str) -> String {
    match word.char_indices().find(|(_, c)| ('\u{AC00}'..='\u{D7A3}').contains(c)) {
        Some((i, _)) if i > 0 => word[..i].to_owned(),
        _ => word.to_owned(),
    }
}

/// The first `scheme://...` in the text.
pub fn find_url(text: &str) -> Option<String> {
    static URL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>`]*"#).expect("valid regex")
    });
    URL.find(text).map(|m| m.as_str().trim_end_matches(['.', ',', ')', ']']).to_owned())
}
