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
    note(&match lang {
        Lang::Ko => format!("이 계획은 <@{owner}>님만 진행할 수 있습니다. 아무것도 하지 않았습니다."),
        Lang::En => format!("Only <@{owner}> can answer this plan; nothing was done."),
    })
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": escape(&truncate(text))}})
}

fn buttons(value: &str, lang: Lang) -> Value {
    let ko = lang == Lang::Ko;
    let text = |ko_text: &str, en_text: &str| json!({"type": "plain_text", "text": if ko { ko_text } else { en_text }});
    let button = |action: Action, label: Value| json!({"type": "button", "action_id": action.as_str(), "text": label, "value": value});
    let mut apply = button(Action::Apply, text("적용", "Apply"));
    apply["style"] = json!("primary");
    apply["confirm"] = json!({
        "title": text("계획을 적용할까요?", "Apply this plan?"),
        "text": {"type": "mrkdwn", "text": if ko { "위 계획대로 프로젝트에 파일을 씁니다." } else { "skillrun will write the files above into the project." }},
        "confirm": text("적용", "Apply"),
        "deny": text("돌아가기", "Back"),
    });
    let mut cancel = button(Action::Cancel, text("취소", "Cancel"));
    cancel["style"] = json!("danger");
    json!({
        "type": "actions",
        "block_id": "skillrun-plan",
        "elements": [apply, button(Action::DryRunOnly, text("미리보기만", "Dry run only")), cancel],
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
