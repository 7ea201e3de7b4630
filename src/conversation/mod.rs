//! Conversations: turns chat messages into a run, one turn at a time. Per conversation it keeps
//! the matched skill, the inputs gathered so far and the step (asking for one input, confirming
//! the dry-run plan, applying it); it validates each answer as it arrives, re-asks with the
//! reason, previews the plan, applies on "yes" (or the apply button), and answers in the language
//! of the latest message. [`Engine`] ([`engine`]) keeps each conversation in a [`store`] between
//! turns; this module is the turn itself, on one conversation's state. Used by `skillrun chat`
//! (lines on stdin) and by the HTTP server; it only calls [`crate::pipeline::run`], and replies
//! never hold a secret.

mod engine;
pub mod store;
mod words;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::locate::Roots;
use crate::registry::{Registry, Skill};
use crate::report::{Report, Status};
use crate::trigger::Lang;
pub use engine::Engine;
use words::{evidence, is_cancel, preview, scrub, summary, yes_no};

/// How much the engine holds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Conversations in progress at once, over all callers.
    pub max_conversations: usize,
    /// Conversations in progress at once for one caller (a token, Slack, Mattermost).
    pub max_per_caller: usize,
    /// A conversation untouched this long is forgotten.
    pub ttl: Duration,
    /// The longest message, in bytes.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_conversations: 1000,
            max_per_caller: 1000,
            ttl: Duration::from_secs(30 * 60),
            max_text_bytes: 4096,
        }
    }
}

impl Limits {
    pub fn bounds(&self) -> store::Bounds {
        store::Bounds { all: self.max_conversations, per_caller: self.max_per_caller.min(self.max_conversations) }
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

impl Step {
    /// Whether the conversation goes on after this turn.
    pub fn ongoing(self) -> bool {
        matches!(self, Step::Asking | Step::Confirming)
    }
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
    /// The stored revision of the conversation after this turn (0 when it is over); a button
    /// names it, so a press on an outdated plan is refused.
    #[serde(skip)]
    pub revision: u64,
}

/// One message of a conversation: typed text, or a button pressed under a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    /// A button under the plan shown at `revision`.
    Press {
        action: Action,
        revision: u64,
    },
}

/// The buttons under a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Write the plan (as "yes").
    Apply,
    /// Keep the plan as a dry run: write nothing and end the conversation.
    DryRunOnly,
    /// End the conversation; write nothing.
    Cancel,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::DryRunOnly => "dry-run",
            Action::Cancel => "cancel",
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        [Action::Apply, Action::DryRunOnly, Action::Cancel].into_iter().find(|a| a.as_str() == name)
    }
}

/// A message the engine will not take; nothing was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The message is longer than [`Limits::max_text_bytes`].
    TooLong { max: usize },
    /// A bound on conversations is reached: in all, or this caller's share.
    TooMany { max: usize, scope: store::Scope },
    /// The conversation store cannot be reached.
    Unavailable,
    /// Another message of the same conversation is still being handled.
    Busy,
}

impl Refusal {
    pub fn message(&self, lang: Lang) -> String {
        use store::Scope;
        let say = crate::messages::of(lang);
        match self {
            Refusal::TooLong { max } => say.too_long(*max),
            Refusal::TooMany { max, scope: Scope::All } => say.too_many(*max),
            Refusal::TooMany { max, scope: Scope::Caller } => say.too_many_for_caller(*max),
            Refusal::Unavailable => say.store_unavailable(),
            Refusal::Busy => say.turn_busy(),
        }
    }
}

/// Where a conversation waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Pending {
    Asking(String),
    Confirming,
    /// The confirmation was taken and the run started: never run again from this state.
    Applying,
}

/// One conversation's state, as the store keeps it (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Conversation {
    skill: String,
    input: Map<String, Value>,
    pending: Pending,
    lang: Lang,
    /// The skill this conversation started with, set aside while a skill it requires runs
    /// first; it continues once that one is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    then: Option<Suspended>,
}

/// A skill waiting for its prerequisite, with the inputs it already has.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Suspended {
    skill: String,
    input: Map<String, Value>,
}

/// What a turn on a conversation in progress comes to.
#[allow(clippy::large_enum_variant)] // one lives for a moment per turn
enum Next {
    Turn(Turn),
    /// The plan was confirmed: the engine records that, then calls [`Core::apply`].
    Apply,
}

/// The turn logic: the registry and the allowed roots.
struct Core {
    registry: Arc<Registry>,
    roots: Arc<Roots>,
}

impl Core {
    /// A message with no conversation in progress: match a skill and begin. The conversation,
    /// when it goes on.
    fn start(&self, id: &str, text: &str, lang: Option<Lang>) -> (Turn, Option<Conversation>) {
        let lang = lang.or_else(|| evidence(text, None)).unwrap_or(Lang::En);
        let idle = |reply: String| Turn {
            conversation: id.to_owned(),
            lang,
            step: Step::Idle,
            skill: None,
            field: None,
            reply,
            report: None,
            revision: 0,
        };
        if is_cancel(text) {
            return (idle(crate::messages::of(lang).no_conversation()), None);
        }
        // No match, two close matches, a topic question or a near miss: the reply says which. A
        // matched skill that is broken says its registry error (the file and what is wrong).
        let reply = match crate::chat::reply(&self.registry, text, Some(lang)) {
            Ok(reply) => reply,
            Err(e) => return (idle(e.to_string()), None),
        };
        let Some(skill) = reply.runnable().and_then(|m| self.registry.get(&m.matched.skill).ok()) else {
            return (idle(reply.message), None);
        };
        let mut conversation = Conversation {
            skill: skill.id().to_owned(),
            input: Map::new(),
            pending: Pending::Confirming,
            lang,
            then: None,
        };
        let problems = absorb(skill, &self.roots, &mut conversation, crate::chat::extract(skill, text));
        let turn = self.advance(skill, &mut conversation, id, problems);
        let ongoing = turn.step.ongoing().then_some(conversation);
        (turn, ongoing)
    }

    /// A button pressed on a conversation in progress.
    fn press(&self, c: &mut Conversation, id: &str, action: Action) -> Next {
        match (action, &c.pending) {
            (Action::Cancel, _) => Next::Turn(finish(c, id, Step::Cancelled, |say| say.cancelled())),
            (Action::Apply, Pending::Confirming) => Next::Apply,
            (Action::DryRunOnly, Pending::Confirming) => {
                Next::Turn(finish(c, id, Step::Done, |say| say.dry_run_only()))
            }
            (_, _) => Next::Turn(stale(c, id)),
        }
    }

    fn continue_with(&self, c: &mut Conversation, id: &str, text: &str, lang: Option<Lang>) -> Next {
        let Ok(skill) = self.registry.get(&c.skill) else {
            return Next::Turn(finish(c, id, Step::Done, |say| say.skill_gone()));
        };
        // A JSON answer (a list or an object asked for) is data: its keys do not switch the language.
        let json_answer = matches!(&c.pending, Pending::Asking(field)
            if matches!(skill.input_schema["properties"][field.as_str()]["type"].as_str(), Some("array" | "object"))
                && serde_json::from_str::<Value>(text.trim()).is_ok_and(|v| v.is_array() || v.is_object()));
        let seen = if json_answer { None } else { evidence(text, Some(skill)) };
        c.lang = lang.or(seen).unwrap_or(c.lang);
        if is_cancel(text) {
            return Next::Turn(finish(c, id, Step::Cancelled, |say| say.cancelled()));
        }
        let mut found = crate::chat::extract(skill, text);
        Next::Turn(match c.pending.clone() {
            Pending::Confirming if found.is_empty() => match yes_no(text) {
                Some(true) => return Next::Apply,
                Some(false) => finish(c, id, Step::Cancelled, |say| say.declined()),
                None => {
                    let reply = crate::messages::of(c.lang).answer_yes_or_no();
                    turn(c, id, Step::Confirming, None, reply, None)
                }
            },
            pending => {
                // A bare answer (one word) is the value of the input asked for, even when it also
                // names something else ("sqlite" asked for a URL) or is malformed ("sqlite:/app.db"):
                // checking it gives the reason to re-ask with.
                let bare = !text.trim().is_empty() && !text.trim().contains(char::is_whitespace);
                // A list or an object asked for is answered in JSON.
                if let Pending::Asking(field) = &pending
                    && !found.contains_key(field)
                    && let Some(kind) = skill.input_schema["properties"][field.as_str()]["type"].as_str()
                    && (kind == "array" || kind == "object")
                    && let Ok(value) = serde_json::from_str::<Value>(text.trim())
                {
                    found.insert(field.clone(), value);
                }
                if let Pending::Asking(field) = &pending
                    && !found.contains_key(field)
                    && (found.is_empty() || bare)
                {
                    found.insert(field.clone(), Value::String(text.trim().to_owned()));
                }
                let problems = absorb(skill, &self.roots, c, found);
                self.advance(skill, c, id, problems)
            }
        })
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
            Ok(report) if !report.requires.is_empty() && c.then.is_none() => {
                // Another skill must run on this project first: run it, then come back.
                let Ok(first) = self.registry.get(&report.requires[0].skill) else {
                    let reply = report.message.clone();
                    return finish_with(c, id, reply, Some(report));
                };
                let project = c.input.get(skill.project_field()).cloned();
                c.then = Some(Suspended { skill: c.skill.clone(), input: std::mem::take(&mut c.input) });
                c.skill = first.id().to_owned();
                if let Some(project) = project {
                    c.input.insert(first.project_field().to_owned(), project);
                }
                let intro = format!(
                    "{}\n{}",
                    report.message,
                    crate::messages::of(c.lang).prerequisite_first(first.id(), skill.id())
                );
                let mut next = self.advance(first, c, id, Vec::new());
                next.reply = format!("{intro}\n{}", next.reply);
                next
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

    /// Runs the confirmed plan. A project busy with another run goes back to confirming.
    fn apply(&self, c: &mut Conversation, id: &str) -> Turn {
        let Ok(skill) = self.registry.get(&c.skill) else {
            return finish(c, id, Step::Done, |say| say.skill_gone());
        };
        let request = crate::Request {
            lang: Some(c.lang),
            roots: self.roots.clone(),
            ..crate::Request::new(skill.id(), Value::Object(c.input.clone()))
        };
        // Runs on one project (or two new projects side by side) take turns on the project lock,
        // which waits for the run holding it; `Busy` only comes after its timeout.
        match crate::pipeline::run(&self.registry, &request, &mut |_| true) {
            Err(crate::Error::Busy { .. }) => {
                c.pending = Pending::Confirming;
                let reply = crate::messages::of(c.lang).run_busy();
                turn(c, id, Step::Confirming, None, reply, None)
            }
            Ok(report) => {
                tracing::info!(conversation = %id, skill = %skill.id(), status = ?report.status, "conversation ran");
                let reply = if report.status == Status::Applied { summary(&report) } else { report.message.clone() };
                // A prerequisite is in place: the skill that asked for it continues.
                if report.status == Status::Applied
                    && let Some(then) = c.then.take()
                    && let Ok(next_skill) = self.registry.get(&then.skill)
                {
                    c.skill = then.skill;
                    c.input = then.input;
                    let mut next = self.advance(next_skill, c, id, Vec::new());
                    next.reply = format!("{reply}\n\n{}", next.reply);
                    return next;
                }
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
        revision: 0,
    }
}

/// The answer to a button pressed under a plan that is no longer the one on offer.
fn stale(c: &Conversation, id: &str) -> Turn {
    let step = if matches!(c.pending, Pending::Asking(_)) { Step::Asking } else { Step::Confirming };
    let reply = crate::messages::of(c.lang).stale_plan();
    turn(c, id, step, None, reply, None)
}

/// A last turn whose reply is one of [`crate::messages::Replies`].
fn finish(c: &Conversation, id: &str, step: Step, reply: fn(&dyn crate::messages::Replies) -> String) -> Turn {
    turn(c, id, step, None, reply(crate::messages::of(c.lang)), None)
}

fn finish_with(c: &Conversation, id: &str, reply: String, report: Option<Report>) -> Turn {
    turn(c, id, Step::Done, None, reply, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(limits: Limits) -> Engine {
        Engine::new(Arc::new(crate::skills::embedded().unwrap()), limits)
    }

    async fn say(e: &Engine, owner: &str, text: &str) -> Turn {
        e.message(owner, owner, "c", Input::Text(text.into()), None).await.unwrap()
    }

    #[tokio::test]
    async fn a_bare_answer_fills_the_field_asked_for_and_a_bad_url_is_re_asked() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(Limits::default());
        let t = say(&e, "me", "DB 설정 해줘").await;
        assert_eq!((t.step, t.lang), (Step::Asking, Lang::Ko));
        let path = dir.path().join("api");
        let t = say(&e, "me", path.to_str().unwrap()).await;
        assert_eq!(t.field.as_deref(), Some("databaseUrl"), "{}", t.reply);
        let t = say(&e, "me", "ftp://nope:hunter22@x/y").await;
        assert_eq!(t.field.as_deref(), Some("databaseUrl"), "{}", t.reply);
        assert!(!t.reply.contains("hunter22"), "{}", t.reply);
        let t = say(&e, "me", "sqlite:///./app.db").await;
        assert_eq!((t.step, t.lang), (Step::Confirming, Lang::Ko), "{}", t.reply);
        assert!(!path.exists(), "a dry run writes nothing");
        let t = say(&e, "me", "yes").await;
        assert_eq!((t.step, t.lang), (Step::Done, Lang::En), "{}", t.reply);
        assert!(path.join("alembic.ini").exists(), "{}", t.reply);
        assert!(e.store().load(&store::Key::new("me", "c")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_expired_conversation_is_forgotten() {
        let e = engine(Limits { ttl: Duration::from_millis(1), ..Limits::default() });
        assert_eq!(say(&e, "me", "DB 설정 해줘").await.step, Step::Asking);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(say(&e, "me", "./api").await.step, Step::Idle);
    }

    #[tokio::test]
    async fn owners_do_not_share_conversations_and_a_stale_press_does_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(Limits::default());
        let text = format!("set up the database in {} with sqlite:///./a.db", dir.path().join("a").display());
        let plan = say(&e, "a", &text).await;
        assert_eq!(plan.step, Step::Confirming, "{}", plan.reply);
        assert_eq!(say(&e, "b", "yes").await.step, Step::Idle);
        let press = |revision| Input::Press { action: Action::Apply, revision };
        let t = e.message("a", "a", "c", press(plan.revision + 1), None).await.unwrap();
        assert_eq!(t.step, Step::Confirming, "{}", t.reply);
        assert!(!dir.path().join("a").exists());
        let t = e.message("a", "a", "c", press(plan.revision), None).await.unwrap();
        assert_eq!(t.step, Step::Done, "{}", t.reply);
        assert!(dir.path().join("a/alembic.ini").exists());
    }
}
