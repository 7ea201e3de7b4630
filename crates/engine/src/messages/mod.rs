//! Every user-facing sentence of the engine, in one home: [`Messages`] names each message and its
//! arguments once; [`en`] and [`ko`] each implement all of them, so a message that exists in one
//! language and not the other does not compile. Callers write `lang.say().name(args)` (one
//! argument order everywhere) and never hold text of their own. Matching lexicons (the words a
//! request is recognised by) are not messages: they stay in `trigger`.
//!
//! This module depends on no other engine module: arguments are plain text and numbers.

mod en;
mod ko;

use serde::{Deserialize, Serialize};

/// Language of a request or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// Both languages, for callers that keep a message in each (and for tests).
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// "ko", "kr", "korean", "한국어" / "en", "english", case-insensitive.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_lowercase().as_str() {
            "ko" | "kr" | "kor" | "korean" | "한국어" => Some(Lang::Ko),
            "en" | "eng" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The engine's messages in this language.
    pub fn say(self) -> &'static dyn Messages {
        match self {
            Lang::En => &en::En,
            Lang::Ko => &ko::Ko,
        }
    }
}

/// A part of a database URL that a message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlPart {
    Host,
    Database,
    Query,
    Path,
    User,
    Password,
}

/// The type a JSON Schema wanted, as the validator names it ("string", "integer", ...).
pub type TypeName<'a> = &'a str;

/// Each message of the engine. Arguments are already-rendered text (paths, field names, lists
/// joined with ", "); the implementation only places them and words the rest.
pub trait Messages: Sync {
    // --- chat: matching a request to a skill ---
    /// Several skills fit about equally; `skills` is "id (title), ...".
    fn chat_ambiguous(&self, skills: &str) -> String;
    fn chat_ready(&self, title: &str) -> String;
    /// A question about `topic`, not a request: nothing was run.
    fn chat_question(&self, topic: &str, skill: &str, about: &str, example: &str) -> String;
    /// A near miss: did the user mean `skill`?
    fn chat_near_miss(&self, skill: &str, about: &str, example: &str) -> String;
    fn chat_no_match(&self, example: &str) -> String;
    /// How to ask for a missing input.
    fn ask_field(&self, field: &str, hint: &str) -> String;

    // --- input validation ---
    fn input_not_object(&self, project_field: &str) -> String;
    fn input_url_rewritten(&self, field: &str, from: &str, to: &str) -> String;
    fn input_type_from_url(&self, field: &str, kind: &str) -> String;
    fn input_enum_read_as(&self, field: &str, given: &str, value: &str) -> String;
    fn input_required(&self) -> String;
    fn input_unknown_field(&self, suggestion: Option<&str>, known: &str) -> String;
    fn input_wrong_type(&self, expected: TypeName<'_>) -> String;
    fn input_not_one_of(&self, options: &str) -> String;
    fn input_empty(&self) -> String;
    fn input_too_long(&self, limit: u64) -> String;
    fn input_pattern(&self, pattern: &str) -> String;
    /// An error followed by the field's hint on how to fix it.
    fn input_with_hint(&self, what: &str, hint: &str) -> String;

    // --- database URLs ---
    fn url_dollar_brace(&self) -> String;
    fn url_no_scheme(&self) -> String;
    fn url_bad_scheme(&self) -> String;
    fn url_two_schemes(&self) -> String;
    fn url_unsupported(&self, scheme: &str, kinds: &str) -> String;
    fn url_type_mismatch(&self, given: &str, url_field: &str, kind: &str, type_field: &str) -> String;
    /// A percent-escape in the path or the database name (`part` is one of those two).
    fn url_escaped_name(&self, part: UrlPart) -> String;
    fn url_file_host(&self, scheme: &str) -> String;
    fn url_file_secret(&self) -> String;
    fn url_unreadable(&self, scheme: &str) -> String;
    fn url_space(&self, part: UrlPart) -> String;
    fn url_bad_port(&self) -> String;
    fn url_no_database(&self, scheme: &str) -> String;
    fn url_not_utf8(&self, part: UrlPart) -> String;
    /// `quoted`: the characters, each in backticks; `fixes`: how to write each.
    fn url_ambiguous(&self, quoted: &str, fixes: &str) -> String;

    // --- the project directory and a run's notes ---
    fn journal_waiting(&self) -> String;
    fn project_is_file(&self, path: &str) -> String;
    fn project_missing(&self, path: &str) -> String;
    fn project_outside(&self, roots: &str) -> String;
    fn project_unusable(&self, error: &str) -> String;
    fn project_not_writable(&self, path: &str) -> String;
    fn recovered_rolled_back(&self, files: usize) -> String;
    fn recovered_cleaned_up(&self) -> String;

    // --- planning: why a file gets its action ---
    fn plan_class_field(&self, class: &str, line: &str) -> String;
    fn plan_raised(&self, path: &str, name: &str, from: &str, to: &str) -> String;
    fn plan_skipped(&self) -> String;
    fn plan_kept(&self) -> String;
    fn plan_ours_updated(&self) -> String;
    fn plan_forced(&self) -> String;
    fn plan_differs(&self) -> String;
    fn plan_unmergeable(&self, problem: &str) -> String;
    fn plan_not_utf8(&self) -> String;
    fn plan_env_conflict(&self, keys: &str) -> String;
    fn plan_env_forced(&self) -> String;
    /// A `python-statement` step replaced `name = old` with `statement` (one line).
    fn plan_statement_replaced(&self, name: &str, old: &str, statement: &str) -> String;
    fn plan_statement_after(&self, anchor: &str, statement: &str) -> String;
    fn plan_statement_added(&self, statement: &str) -> String;

    // --- editing Python the user owns ---
    fn py_not_a_name(&self, name: &str) -> String;
    fn py_not_an_import(&self, line: &str) -> String;
    /// A string (or else a bracket) opened on `line` and never closed.
    fn py_unclosed(&self, string: bool, line: usize) -> String;
    fn py_name_taken(&self, name: &str, from: &str, line: usize, module: &str) -> String;
    fn py_all_dynamic(&self, line: usize, names: &str) -> String;
    fn py_all_commented(&self, line: usize, names: &str) -> String;
    /// `name` is assigned at the top level on several `lines` ("3, 9").
    fn py_assigned_several(&self, name: &str, lines: &str) -> String;
    /// A statement to add cannot be placed: the reason, then what to add by hand.
    fn py_statement_no_file(&self, statement: &str) -> String;
    fn py_statement_no_assignment(&self, name: &str, statement: &str) -> String;
    fn py_statement_several(&self, name: &str, lines: &str, statement: &str) -> String;
    fn py_statement_no_anchor(&self, anchor: &str, statement: &str) -> String;

    // --- secrets and git ---
    fn git_tracked(&self, rel: &str) -> String;
    fn git_reincluded(&self, rel: &str, pattern: &str, source: &str, line: usize) -> String;
    fn git_not_ignored(&self, rel: &str) -> String;
    fn git_unknown(&self, rel: &str, why: &str) -> String;

    // --- skills that build on each other ---
    fn requires_taken(&self, field: &str, value: &str, skill: &str) -> String;
    fn requires_unmet(&self, me: &str, need: &str, missing: &str, project_field: &str, inputs: &str) -> String;

    // --- reports ---
    /// The heading over the next commands (no colon, no newline).
    fn next_heading(&self) -> String;
    fn report_nothing_to_do(&self, skill: &str, unchanged: usize) -> String;
    /// `next` is the first command to run, if any.
    fn report_applied(&self, skill: &str, counts: [usize; 4], next: Option<&str>) -> String;
    fn report_dry_run(&self, counts: [usize; 5]) -> String;
    fn report_conflict(&self, skill: &str, conflicts: usize, paths: &str, backups: &str) -> String;
    fn report_invalid(&self, fields: &str) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message exists in both languages (the trait makes that so), and says something
    /// different in each: a Korean message left in English (or the reverse) fails here.
    #[test]
    fn each_message_is_worded_in_each_language() {
        let samples = |m: &dyn Messages| {
            vec![
                m.chat_ready("T"),
                m.chat_no_match("x"),
                m.input_required(),
                m.input_empty(),
                m.input_wrong_type("string"),
                m.url_no_scheme(),
                m.url_space(UrlPart::Host),
                m.journal_waiting(),
                m.plan_kept(),
                m.plan_differs(),
                m.py_unclosed(true, 3),
                m.git_not_ignored(".env"),
                m.next_heading(),
                m.report_invalid("/a"),
            ]
        };
        let (en, ko) = (samples(Lang::En.say()), samples(Lang::Ko.say()));
        let hangul = |s: &str| s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
        for (e, k) in en.iter().zip(&ko) {
            assert!(!hangul(e), "English message with Korean text: {e}");
            assert!(hangul(k), "Korean message without Korean text: {k}");
        }
    }

    #[test]
    fn korean_object_particle_follows_the_last_syllable() {
        assert_eq!(Lang::Ko.say().input_wrong_type("string"), "문자열이어야 합니다");
        assert_eq!(Lang::Ko.say().input_wrong_type("number"), "숫자여야 합니다");
        assert_eq!(Lang::En.say().input_wrong_type("integer"), "must be an integer");
    }
}
