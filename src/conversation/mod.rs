//! Conversations: turns chat messages into a run, one turn at a time. Per conversation it keeps
//! the matched skill, the inputs gathered so far and the step (asking for one input, confirming
//! the dry-run plan); it validates each answer as it arrives, re-asks with the reason, previews
//! the plan, applies on "yes", and answers in the language of the latest message. Conversations
//! expire and are bounded in number; each belongs to an owner (who may drive it) and an id.
//! Used by `skillrun chat` (lines on stdin) and by the HTTP server; it only calls
//! [`crate::pipeline::run`], and replies never hold a secret.

mod words;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::locate::Roots;
use crate::registry::{Registry, Skill};
use crate::report::{Report, Status};
use crate::trigger::Lang;
use words::{evidence, is_cancel, preview, say, scrub, summary, yes_no};

/// How much the engine holds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Conversations in progress at once, over all owners.
    pub max_conversations: usize,
    /// A conversation untouched this long is forgotten.
    pub ttl: Duration,
    /// The longest message, in bytes.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_conversations: 1000, ttl: Duration::from_secs(30 * 60), max_text_bytes: 4096 }
    }
}

/// Where a conversation is after a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// No conversation: the message matched no skill, or nothing was in progress.
    Idle,
    /// Waiting for the input named in `field`.
    Asking,
    /// Waiting for a yes or no to the dry-run plan.
    Confirming,
    /// The run finished (see `report`) or could not go on; the conversation is over.
    Done,
    /// Cancelled; nothing was written.
    Cancelled,
}

/// The engine's answer to one message.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    pub conversation: String,
    pub lang: Lang,
    pub step: Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// The input being asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reply: String,
    /// The report of the finished run (or of the refused plan), scrubbed of secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// A message the engine will not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The message is longer than [`Limits::max_text_bytes`].
    TooLong { max: usize },
    /// [`Limits::max_conversations`] conversations are in progress.
    TooMany { max: usize },
}

impl Refusal {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refusal::TooLong { max }, Lang::Ko) => format!("메시지가 너무 깁니다. {max}바이트 이하로 보내 주세요."),
            (Refusal::TooLong { max }, Lang::En) => format!("the message is too long; send at most {max} bytes"),
            (Refusal::TooMany { max }, Lang::Ko) => {
                format!("진행 중인 대화가 너무 많습니다 (최대 {max}개). 잠시 뒤 다시 시도하세요.")
            }
            (Refusal::TooMany { max }, Lang::En) => {
                format!("too many conversations in progress (at most {max}); try again later")
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Pending {
    Asking(String),
    Confirming,
}

struct Conversation {
    skill: String,
    input: Map<String, Value>,
    pending: Pending,
    lang: Lang,
    touched: Instant,
}

type Key = (String, String);

/// The conversation engine, shared by every transport.
pub struct Engine {
    registry: Arc<Registry>,
    roots: Arc<Roots>,
    limits: Limits,
    conversations: Mutex<HashMap<Key, Arc<Mutex<Conversation>>>>,
}

impl Engine {
    pub fn new(registry: Arc<Registry>, limits: Limits) -> Self {
        Engine { registry, roots: Arc::default(), limits, conversations: Mutex::new(HashMap::new()) }
    }

    /// Projects must lie under one of `roots`.
    pub fn with_roots(mut self, roots: Arc<Roots>) -> Self {
        self.roots = roots;
        self
    }

    /// Conversations in progress (expired ones not counted).
    pub fn len(&self) -> usize {
        let mut map = self.conversations.lock().expect("conversation map");
        self.purge(&mut map);
        map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one message of conversation `id` of `owner`. `lang` overrides the language the text
    /// is written in. Runs the pipeline (a dry run, or the real run after "yes") on this thread.
    pub fn message(&self, owner: &str, id: &str, text: &str, lang: Option<Lang>) -> Result<Turn, Refusal> {
        if text.len() > self.limits.max_text_bytes {
            return Err(Refusal::TooLong { max: self.limits.max_text_bytes });
        }
        let key = (owner.to_owned(), id.to_owned());
        let existing = {
            let mut map = self.conversations.lock().expect("conversation map");
            self.purge(&mut map);
            let existing = map.get(&key).cloned();
            if existing.is_none() && map.len() >= self.limits.max_conversations {
                return Err(Refusal::TooMany { max: self.limits.max_conversations });
            }
            existing
        };
        let Some(slot) = existing else {
            return self.start(key, text, lang);
        };
        let mut conversation = slot.lock().expect("conversation");
        let turn = self.continue_with(&mut conversation, &key.1, text, lang);
        conversation.touched = Instant::now();
        if matches!(turn.step, Step::Done | Step::Cancelled | Step::Idle) {
            drop(conversation);
            let mut map = self.conversations.lock().expect("conversation map");
            if map.get(&key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                map.remove(&key);
            }
        }
        tracing::debug!(conversation = %key.1, step = ?turn.step, "chat turn");
        Ok(turn)
    }

    fn purge(&self, map: &mut HashMap<Key, Arc<Mutex<Conversation>>>) {
        let ttl = self.limits.ttl;
        map.retain(|_, slot| slot.try_lock().map_or(true, |c| c.touched.elapsed() < ttl));
    }

    /// A message with no conversation in progress: match a skill and begin.
    fn start(&self, key: Key, text: &str, lang: Option<Lang>) -> Result<Turn, Refusal> {
        let lang = lang.or_else(|| evidence(text, None)).unwrap_or(Lang::En);
        let idle = |reply: String| Turn {
            conversation: key.1.clone(),
            lang,
            step: Step::Idle,
            skill: None,
            field: None,
            reply,
            report: None,
        };
        if is_cancel(text) {
            return Ok(idle(say(lang, "진행 중인 대화가 없습니다.", "There is no conversation in progress.")));
        }
        let Some(skill) =
            crate::chat::rank(&self.registry, text).into_iter().find_map(|m| self.registry.get(&m.skill).ok())
        else {
            return Ok(idle(say(
                lang,
                "어떤 스킬에도 해당하지 않습니다. 예: \"DB 설정 해줘\"",
                "No skill matches that request. Try e.g. \"set up the database\".",
            )));
        };
        let mut conversation = Conversation {
            skill: skill.id().to_owned(),
            input: Map::new(),
            pending: Pending::Confirming,
            lang,
            touched: Instant::now(),
        };
        let problems = absorb(skill, &self.roots, &mut conversation, crate::chat::extract(skill, text));
        let turn = self.advance(skill, &mut conversation, &key.1, problems);
        if matches!(turn.step, Step::Asking | Step::Confirming) {
            let mut map = self.conversations.lock().expect("conversation map");
            if !map.contains_key(&key) && map.len() >= self.limits.max_conversations {
                return Err(Refusal::TooMany { max: self.limits.max_conversations });
            }
            tracing::info!(conversation = %key.1, skill = %conversation.skill, "conversation started");
            map.insert(key, Arc::new(Mutex::new(conversation)));
        }
        Ok(turn)
    }

    fn continue_with(&self, c: &mut Conversation, id: &str, text: &str, lang: Option<Lang>) -> Turn {
        let Ok(skill) = self.registry.get(&c.skill) else {
            return finish(c, id, Step::Done, "스킬을 찾을 수 없습니다.", "The skill is gone.");
        };
        c.lang = lang.or_else(|| evidence(text, Some(skill))).unwrap_or(c.lang);
        if is_cancel(text) {
            return finish(
                c,
                id,
                Step::Cancelled,
                "취소했습니다. 아무것도 쓰지 않았습니다.",
                "Cancelled; nothing was written.",
            );
        }
        let mut found = crate::chat::extract(skill, text);
        match c.pending.clone() {
            Pending::Confirming if found.is_empty() => match yes_no(text) {
                Some(true) => self.apply(skill, c, id),
                Some(false) => {
                    finish(c, id, Step::Cancelled, "알겠습니다. 아무것도 쓰지 않았습니다.", "OK; nothing was written.")
                }
                None => {
                    let reply =
                        say(c.lang, "진행할까요? 네 또는 아니요로 답해 주세요.", "Go ahead? Please answer yes or no.");
                    turn(c, id, Step::Confirming, None, reply, None)
                }
            },
            pending => {
                // A bare answer (one word) is the value of the input asked for, even when it also
                // names something else ("sqlite" asked for a URL) or is malformed ("sqlite:/app.db"):
                // checking it gives the reason to re-ask with.
                let bare = !text.trim().is_empty() && !text.trim().contains(char::is_whitespace);
                if let Pending::Asking(field) = &pending
                    && !found.contains_key(field)
                    && (found.is_empty() || bare)
                {
                    found.insert(field.clone(), Value::String(text.trim().to_owned()));
                }
                let problems = absorb(skill, &self.roots, c, found);
                self.advance(skill, c, id, problems)
            }
        }
    }

    /// Asks for the next missing input, or previews the plan and asks to confirm.
    fn advance(&self, skill: &Skill, c: &mut Conversation, id: &str, problems: Vec<(String, String)>) -> Turn {
        let missing = skill.required_inputs().into_iter().find(|f| !c.input.contains_key(f));
        // Re-ask a rejected answer first, with the reason.
        if let Some((field, reason)) =
            problems.into_iter().find(|(f, _)| !c.input.contains_key(f)).or_else(|| missing.map(|f| (f, String::new())))
        {
            let question = crate::chat::question(skill, &field, c.lang);
            let reply = if reason.is_empty() {
                format!("{}: {question}", skill.entry.title.get(c.lang))
            } else {
                format!("{field}: {reason}\n{question}")
            };
            c.pending = Pending::Asking(field.clone());
            return turn(c, id, Step::Asking, Some(field), reply, None);
        }
        let request = crate::Request {
            dry_run: true,
            lang: Some(c.lang),
            roots: self.roots.clone(),
            ..crate::Request::new(skill.id(), Value::Object(c.input.clone()))
        };
        match crate::pipeline::run(&self.registry, &request, &mut |_| true) {
            Ok(report) if report.status == Status::DryRun => {
                c.pending = Pending::Confirming;
                let reply = preview(&report);
                turn(c, id, Step::Confirming, None, reply, Some(report))
            }
            Ok(report) if report.status == Status::Invalid => {
                // Forget the inputs the run refused and ask for them again.
                let problems: Vec<(String, String)> = report
                    .errors
                    .iter()
                    .map(|e| (e.field.trim_start_matches('/').to_owned(), e.message.clone()))
                    .filter(|(f, _)| c.input.remove(f).is_some())
                    .collect();
                if problems.is_empty() {
                    let reply = report.message.clone();
                    return finish_with(c, id, reply, Some(report));
                }
                self.advance(skill, c, id, problems)
            }
            Ok(report) => {
                let reply = report.message.clone();
                finish_with(c, id, reply, Some(report))
            }
            Err(e) => finish_with(c, id, e.to_string(), None),
        }
    }

    fn apply(&self, skill: &Skill, c: &mut Conversation, id: &str) -> Turn {
        let request = crate::Request {
            lang: Some(c.lang),
            roots: self.roots.clone(),
            ..crate::Request::new(skill.id(), Value::Object(c.input.clone()))
        };
        // Runs on one project (or two new projects side by side) take turns on the project lock,
        // which waits for the run holding it; `Busy` only comes after its timeout.
        match crate::pipeline::run(&self.registry, &request, &mut |_| true) {
            Err(crate::Error::Busy { .. }) => {
                let reply = say(
                    c.lang,
                    "다른 실행이 같은 위치에 쓰는 중이라 아무것도 쓰지 않았습니다. 다시 진행할까요? (네/아니요)",
                    "Another run is writing there, so nothing was written. Try again? (yes/no)",
                );
                turn(c, id, Step::Confirming, None, reply, None)
            }
            Ok(report) => {
                tracing::info!(conversation = %id, skill = %skill.id(), status = ?report.status, "conversation ran");
                let reply = if report.status == Status::Applied { summary(&report) } else { report.message.clone() };
                finish_with(c, id, reply, Some(report))
            }
            Err(e) => finish_with(c, id, e.to_string(), None),
        }
    }
}

/// Checks each found value against the schema with what is known so far; keeps the good ones and
/// returns (field, reason) for the others.
fn absorb(skill: &Skill, roots: &Roots, c: &mut Conversation, found: Map<String, Value>) -> Vec<(String, String)> {
    let mut candidate = c.input.clone();
    candidate.extend(found.clone());
    let mut problems = Vec::new();
    // Enum fields first, so a URL is checked against the kind named in the same message.
    let mut fields: Vec<&String> = found.keys().collect();
    fields.sort_by_key(|f| found[*f].is_string() && crate::chat::find_url(found[*f].as_str().unwrap_or("")).is_some());
    for field in fields {
        let checked = crate::input::check_field(skill, &candidate, field, c.lang).and_then(|checked| {
            // A project outside the allowed directories is refused as soon as it is named.
            let project = skill.project_field();
            match checked.value.as_str().filter(|_| field == project) {
                Some(path) => {
                    crate::pipeline::check_root(path, project, roots, c.lang).map(|()| checked).map_err(|e| vec![e])
                }
                None => Ok(checked),
            }
        });
        match checked {
            Ok(checked) => {
                c.input.insert(field.clone(), checked.value);
            }
            Err(errors) => {
                candidate.remove(field);
                c.input.remove(field);
                let reason = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
                problems.push((field.clone(), reason));
            }
        }
    }
    problems
}

fn turn(c: &Conversation, id: &str, step: Step, field: Option<String>, reply: String, report: Option<Report>) -> Turn {
    Turn {
        conversation: id.to_owned(),
        lang: c.lang,
        step,
        skill: Some(c.skill.clone()),
        field,
        reply: scrub(reply),
        report,
    }
}

fn finish(c: &Conversation, id: &str, step: Step, ko: &str, en: &str) -> Turn {
    turn(c, id, step, None, say(c.lang, ko, en), None)
}

fn finish_with(c: &Conversation, id: &str, reply: String, report: Option<Report>) -> Turn {
    turn(c, id, Step::Done, None, reply, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(Arc::new(crate::skills::embedded().unwrap()), Limits::default())
    }

    #[test]
    fn a_bare_answer_fills_the_field_asked_for_and_a_bad_url_is_re_asked() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine();
        let t = e.message("me", "c", "DB 설정 해줘", None).unwrap();
        assert_eq!((t.step, t.lang), (Step::Asking, Lang::Ko));
        let path = dir.path().join("api");
        let t = e.message("me", "c", path.to_str().unwrap(), None).unwrap();
        assert_eq!(t.field.as_deref(), Some("databaseUrl"), "{}", t.reply);
        let t = e.message("me", "c", "ftp://nope:hunter22@x/y", None).unwrap();
        assert_eq!(t.field.as_deref(), Some("databaseUrl"), "{}", t.reply);
        assert!(!t.reply.contains("hunter22"), "{}", t.reply);
        let t = e.message("me", "c", "sqlite:///./app.db", None).unwrap();
        assert_eq!((t.step, t.lang), (Step::Confirming, Lang::Ko), "{}", t.reply);
        assert!(!path.exists(), "a dry run writes nothing");
        let t = e.message("me", "c", "yes", None).unwrap();
        assert_eq!((t.step, t.lang), (Step::Done, Lang::En), "{}", t.reply);
        assert!(path.join("alembic.ini").exists(), "{}", t.reply);
        assert!(e.is_empty());
    }

    #[test]
    fn an_expired_conversation_is_forgotten() {
        let limits = Limits { ttl: Duration::ZERO, ..Limits::default() };
        let e = Engine::new(Arc::new(crate::skills::embedded().unwrap()), limits);
        assert_eq!(e.message("me", "c", "DB 설정 해줘", None).unwrap().step, Step::Asking);
        assert_eq!(e.message("me", "c", "./api", None).unwrap().step, Step::Idle);
        assert!(e.is_empty());
    }

    #[test]
    fn owners_do_not_share_conversations() {
        let e = engine();
        e.message("a", "c", "set up the database", None).unwrap();
        let t = e.message("b", "c", "yes", None).unwrap();
        assert_eq!(t.step, Step::Idle);
        assert_eq!(e.len(), 1);
    }
}
