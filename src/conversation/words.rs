//! How the conversation engine reads a message and words a reply: the language a message shows,
//! yes / no / cancel in Korean and English, the redaction of every reply, the plan preview and
//! the summary after a run.

use serde_json::Value;

use crate::registry::Skill;
use crate::report::Report;
use crate::trigger::Lang;

/// The dry-run plan: each file and what would happen to it, then the question.
pub(super) fn preview(report: &Report) -> String {
    let say = crate::messages::of(report.lang);
    let mut out = String::new();
    if let Some(project) = &report.project {
        out.push_str(&say.plan_for(project));
        out.push('\n');
    }
    // One line per action: "created (21): a, b, ...".
    let mut actions: Vec<crate::plan::FileAction> = Vec::new();
    for f in &report.files {
        if !actions.contains(&f.action) {
            actions.push(f.action);
        }
    }
    for action in actions {
        let paths: Vec<&str> = report.files.iter().filter(|f| f.action == action).map(|f| f.path.as_str()).collect();
        out.push_str(&format!("  {} ({}): {}\n", action.as_str(), paths.len(), paths.join(", ")));
    }
    out.push_str(&report.message);
    out.push('\n');
    out.push_str(&say.go_ahead());
    out
}

/// After a run: the files written and the next commands.
pub(super) fn summary(report: &Report) -> String {
    let written: Vec<&str> = report
        .files
        .iter()
        .filter(|f| matches!(f.action, crate::plan::FileAction::Created | crate::plan::FileAction::Updated))
        .map(|f| f.path.as_str())
        .collect();
    let mut out = report.message.clone();
    if !written.is_empty() {
        out.push_str(&format!("\n{}: ", crate::messages::of(report.lang).files_heading()));
        out.push_str(&written.join(", "));
    }
    if !report.commands.is_empty() {
        out.push_str(&format!("\n{}:", report.lang.say().next_heading()));
        for (i, command) in report.commands.iter().enumerate() {
            out.push_str(&format!("\n  {}. {command}", i + 1));
        }
    }
    out
}

/// A reply with every URL password and secret value redacted ([`crate::secret::redact`]), by
/// where it stands, not by what it equals: a password such as `app` leaves `app/core/config.py`.
pub(super) fn scrub(text: String) -> String {
    crate::secret::redact_owned(text)
}

/// The language a message is written in, if it shows one: Hangul is Korean; an English word
/// (not a URL, a path, a `key=value` pair or one of the skill's enum values) is English.
pub(super) fn evidence(text: &str, skill: Option<&Skill>) -> Option<Lang> {
    if crate::trigger::detect_lang(text) == Lang::Ko {
        return Some(Lang::Ko);
    }
    let names: Vec<String> = skill.map(enum_names).unwrap_or_default();
    let english = text
        .split_whitespace()
        .filter(|w| !w.contains("://") && !w.contains('/') && !w.contains('=') && !w.contains(':'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .any(|w| w.chars().any(|c| c.is_ascii_alphabetic()) && !names.contains(&w));
    english.then_some(Lang::En)
}

/// Every enum value and alias in the skill's schema, lower case.
fn enum_names(skill: &Skill) -> Vec<String> {
    let mut names = Vec::new();
    for prop in skill.input_schema.get("properties").and_then(Value::as_object).into_iter().flat_map(|p| p.values()) {
        names.extend(
            prop.get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_lowercase),
        );
        names.extend(
            prop.get("x-aliases")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|a| a.keys())
                .map(|k| k.to_lowercase()),
        );
    }
    names
}

fn normalized(text: &str) -> String {
    text.trim().trim_end_matches(['.', '!', '~', '?']).trim().to_lowercase()
}

pub(super) fn is_cancel(text: &str) -> bool {
    let t = normalized(text);
    matches!(t.as_str(), "cancel" | "stop" | "abort" | "quit" | "그만" | "그만해" | "중단") || t.starts_with("취소")
}

/// Some(true) for yes, Some(false) for no, None for anything else.
pub(super) fn yes_no(text: &str) -> Option<bool> {
    match normalized(text).as_str() {
        "네"
        | "예"
        | "응"
        | "어"
        | "넵"
        | "네네"
        | "좋아요"
        | "좋아"
        | "진행"
        | "진행해"
        | "진행해 주세요"
        | "ㅇㅇ"
        | "yes"
        | "y"
        | "ok"
        | "okay"
        | "sure"
        | "go" => Some(true),
        "아니요" | "아니오" | "아뇨" | "아니" | "ㄴㄴ" | "no" | "n" | "nope" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_evidence_ignores_urls_paths_and_enum_values() {
        let skill = crate::skills::embedded().unwrap();
        let skill = skill.get("database-setup").unwrap();
        assert_eq!(evidence("sqlite:///./app.db", Some(skill)), None);
        assert_eq!(evidence("./my-api", Some(skill)), None);
        assert_eq!(evidence("sqlite", Some(skill)), None);
        assert_eq!(evidence("yes", Some(skill)), Some(Lang::En));
        assert_eq!(evidence("네", Some(skill)), Some(Lang::Ko));
    }
}
