//! Mattermost: its slash command (`POST /v1/mattermost`, form-encoded, checked against
//! `MATTERMOST_TOKEN`) and its interactive message buttons (`POST /v1/mattermost/actions`, JSON)
//! drive the same conversations as Slack and `/v1/chat`.
//!
//! The command is answered in the response itself (Mattermost waits for it), posted in the
//! channel; under a dry-run plan the message carries the buttons apply / dry run only / cancel.
//! A button calls back with the `context` given to it: the conversation, the person who may press,
//! the plan's revision and an HMAC of all that keyed by the command's token, so a press cannot be
//! forged, is accepted once (a replay is refused, across replicas with Redis), and is refused
//! (to the presser alone) when someone else presses it. A command carrying a `trigger_id` is
//! accepted once too. A conversation is the person's in one channel: owner
//! `mattermost:{team_id}:{user_id}`, id `{channel_id}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AppState, error};
use crate::conversation::{Action, Input, Step, Turn};
use crate::trigger::Lang;

/// The caller whose share of the bounds Mattermost's conversations use.
const CALLER: &str = "mattermost";
/// How long an accepted request or press is remembered (a replay within it is refused; a press
/// replayed later finds its plan gone or moved on, and does nothing).
const ONCE_WINDOW: Duration = Duration::from_secs(10 * 60);

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Deserialize)]
struct SlashCommand {
    token: String,
    #[serde(default)]
    team_id: String,
    channel_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_id: String,
}

/// `POST /v1/mattermost`: a slash command.
pub async fn command(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if state.mattermost_tokens.is_empty() {
        return error(StatusCode::NOT_FOUND, "Mattermost is not configured: set MATTERMOST_TOKEN");
    }
    let command: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a slash-command body: {e}")),
    };
    let Some(index) = super::one_of(&state.mattermost_tokens, &command.token) else {
        tracing::warn!("refused a Mattermost command with a wrong token");
        return error(StatusCode::UNAUTHORIZED, "wrong Mattermost command token");
    };
    if !command.trigger_id.is_empty()
        && let Err(refused) =
            super::accept_once(&state, &format!("mattermost:{}", command.trigger_id), ONCE_WINDOW).await
    {
        return refused;
    }
    let owner = owner(&command.team_id, &command.user_id);
    let fallback = Some(crate::trigger::detect_lang(&command.text));
    match super::chat::turn(&state, CALLER, &owner, &command.channel_id, Input::Text(command.text), None).await {
        Ok(turn) => {
            let context = Context::for_turn(&turn, &command.team_id, &command.user_id);
            let key = &state.mattermost_tokens[index];
            let url = format!("{}/v1/mattermost/actions", base_url(&state, &headers));
            let attachments = attachments(&turn, context.map(|c| c.signed(key)), &url);
            axum::Json(json!({"response_type": "in_channel", "text": turn.reply, "attachments": attachments}))
                .into_response()
        }
        Err(refusal) => super::chat::refusal_response(&refusal, fallback),
    }
}

/// What a button carries back: who may press it, on which plan, and the signature over both.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Context {
    #[serde(default)]
    action: String,
    team: String,
    channel: String,
    user: String,
    revision: u64,
    lang: Lang,
    #[serde(default)]
    sig: String,
}

impl Context {
    fn for_turn(turn: &Turn, team: &str, user: &str) -> Option<Context> {
        (turn.step == Step::Confirming && turn.revision > 0).then(|| Context {
            action: String::new(),
            team: team.to_owned(),
            channel: turn.conversation.clone(),
            user: user.to_owned(),
            revision: turn.revision,
            lang: turn.lang,
            sig: String::new(),
        })
    }

    fn mac(&self, key: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        let fields = [&self.action, &self.team, &self.channel, &self.user, &self.revision.to_string()];
        for field in fields {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac.update(self.lang.code().as_bytes());
        mac
    }

    /// One context per button: the same fields with the action, signed.
    fn signed(self, key: &str) -> Vec<Context> {
        [Action::Apply, Action::DryRunOnly, Action::Cancel]
            .into_iter()
            .map(|action| {
                let mut context = Context { action: action.as_str().to_owned(), ..self.clone() };
                context.sig = hex::encode(context.mac(key).finalize().into_bytes());
                context
            })
            .collect()
    }

    fn verify(&self, keys: &[String]) -> bool {
        let Ok(given) = hex::decode(&self.sig) else { return false };
        keys.iter().fold(false, |ok, key| self.mac(key).verify_slice(&given).is_ok() | ok)
    }
}

#[derive(Deserialize)]
struct ActionRequest {
    user_id: String,
    #[serde(default)]
    context: Option<Context>,
}

/// `POST /v1/mattermost/actions`: a button pressed under a plan.
pub async fn action(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    if state.mattermost_tokens.is_empty() {
        return error(StatusCode::NOT_FOUND, "Mattermost is not configured: set MATTERMOST_TOKEN");
    }
    let request: ActionRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not an interactive message action: {e}")),
    };
    let Some(context) = request.context.filter(|c| c.verify(&state.mattermost_tokens)) else {
        tracing::warn!("refused a Mattermost action with a missing or wrong signature");
        return error(StatusCode::UNAUTHORIZED, "this action's context is not signed by this server");
    };
    let Some(action) = Action::parse(&context.action) else {
        return error(StatusCode::BAD_REQUEST, "unknown action");
    };
    if request.user_id != context.user {
        tracing::warn!(conversation = %context.channel, "refused a button pressed by someone else");
        let text = crate::messages::of(context.lang).not_the_starter();
        return axum::Json(json!({"ephemeral_text": text})).into_response();
    }
    if let Err(refused) = super::accept_once(&state, &format!("mattermost-action:{}", context.sig), ONCE_WINDOW).await {
        return refused;
    }
    let owner = owner(&context.team, &context.user);
    let input = Input::Press { action, revision: context.revision };
    match super::chat::turn(&state, CALLER, &owner, &context.channel, input, Some(context.lang)).await {
        // The plan's post becomes the result, without buttons.
        Ok(turn) => {
            axum::Json(json!({"update": {"message": turn.reply, "props": {"attachments": []}}})).into_response()
        }
        Err(refusal) => {
            let mut response = super::chat::refusal_response(&refusal, Some(context.lang));
            response.headers_mut().remove(header::RETRY_AFTER);
            response
        }
    }
}

fn owner(team: &str, user: &str) -> String {
    format!("mattermost:{team}:{user}")
}

/// Where Mattermost reaches this server: `--public-url`, else `http://` + the request's `Host`.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// The buttons under a plan (none for any other turn).
fn attachments(turn: &Turn, contexts: Option<Vec<Context>>, url: &str) -> Vec<Value> {
    let Some(contexts) = contexts else { return Vec::new() };
    let say = crate::messages::of(turn.lang);
    let actions: Vec<Value> = contexts
        .into_iter()
        .map(|context| {
            let (id, name, style) = match context.action.as_str() {
                "apply" => ("apply", say.button_apply(), "primary"),
                "dry-run" => ("dryrun", say.button_dry_run_only(), "default"),
                _ => ("cancel", say.button_cancel(), "danger"),
            };
            json!({"id": id, "name": name, "style": style, "integration": {"url": url, "context": context}})
        })
        .collect();
    vec![json!({"text": say.apply_this_plan(), "actions": actions})]
}
