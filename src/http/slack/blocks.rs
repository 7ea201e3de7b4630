//! Slack messages in Block Kit: a turn's reply as a section, and under a dry-run plan the
//! buttons apply (primary, behind a `confirm` dialog) / dry run only / cancel (danger), worded in
//! the conversation's language. Each button's value names the conversation, the person who may
//! press it and the plan's revision ([`ButtonValue`]).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::conversation::{Action, Step, Turn};
use crate::trigger::Lang;

/// Slack's limit on a section's text.
const MAX_SECTION_CHARS: usize = 3000;

/// What a button carries back when pressed.
#[derive(Debug, Serialize, Deserialize)]
pub struct ButtonValue {
    #[serde(rename = "c")]
    pub conversation: String,
    /// The Slack user id of the person who started the conversation.
    #[serde(rename = "u")]
    pub user: String,
    #[serde(rename = "r")]
    pub revision: u64,
    #[serde(rename = "l")]
    pub lang: Lang,
}

/// The message for a turn, for the person `user`; `replace` replaces the message whose button
/// was pressed.
pub fn message(turn: &Turn, user: &str, replace: bool) -> Value {
    let mut blocks = vec![section(&turn.reply)];
    if turn.step == Step::Confirming && turn.revision > 0 {
        let value = ButtonValue {
            conversation: turn.conversation.clone(),
            user: user.to_owned(),
            revision: turn.revision,
            lang: turn.lang,
        };
        blocks.push(buttons(&serde_json::to_string(&value).expect("a button value serializes"), turn.lang));
    }
    json!({
        "response_type": "ephemeral",
        "replace_original": replace,
        "text": truncate(&turn.reply),
        "blocks": blocks,
    })
}

/// A note to the presser alone, leaving the message with the buttons as it is.
pub fn note(text: &str) -> Value {
    json!({"response_type": "ephemeral", "replace_original": false, "text": truncate(text)})
}

/// The refusal for a button pressed by someone other than `owner`.
pub fn not_yours(owner: &str, lang: Lang) -> Value {
    note(&crate::messages::of(lang).not_yours(owner))
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": escape(&truncate(text))}})
}

fn buttons(value: &str, lang: Lang) -> Value {
    let say = crate::messages::of(lang);
    let text = |text: String| json!({"type": "plain_text", "text": text});
    let button = |action: Action, label: Value| json!({"type": "button", "action_id": action.as_str(), "text": label, "value": value});
    let mut apply = button(Action::Apply, text(say.button_apply()));
    apply["style"] = json!("primary");
    apply["confirm"] = json!({
        "title": text(say.apply_this_plan()),
        "text": {"type": "mrkdwn", "text": say.apply_will_write()},
        "confirm": text(say.button_apply()),
        "deny": text(say.button_back()),
    });
    let mut cancel = button(Action::Cancel, text(say.button_cancel()));
    cancel["style"] = json!("danger");
    json!({
        "type": "actions",
        "block_id": "skillrun-plan",
        "elements": [apply, button(Action::DryRunOnly, text(say.button_dry_run_only())), cancel],
    })
}

/// Slack's mrkdwn control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn truncate(text: &str) -> String {
    // Room for the escapes, which lengthen the text.
    let max = MAX_SECTION_CHARS / 2;
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
