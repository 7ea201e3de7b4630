//! Slack: the slash command (`POST /v1/slack`) and the interactivity endpoint for its buttons
//! (`POST /v1/slack/interactive`).
//!
//! Slack signs each request instead of sending a bearer token: `X-Slack-Signature` is
//! `v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}` keyed by the app's signing
//! secret (`SLACK_SIGNING_SECRET`). A request is refused (401) unless the signature matches
//! (checked in constant time), the timestamp is within five minutes of now, and the signature was
//! not seen before (a replay; remembered in the store, so across replicas with Redis).
//!
//! Slack wants an answer within 3 seconds, so both routes acknowledge at once (an empty 200) and
//! deliver the turn later through the request's `response_url`: the reply, and under a dry-run
//! plan the buttons apply (with a confirmation dialog) / dry run only / cancel ([`blocks`]). A
//! pressed button replaces the plan's message with the result. A conversation is the person's in
//! one channel: owner `slack:{team_id}:{user_id}`, id `{channel_id}`; a button pressed by anyone
//! else is refused with a note to them alone. A slash command without a `response_url` (a
//! hand-made request) is answered in the response itself.

mod blocks;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;

use super::{AppState, error};
use crate::conversation::{Action, Input};

/// How old (or how far in the future) a signed request may be.
pub const MAX_SKEW_SECS: i64 = 5 * 60;
/// The caller whose share of the bounds Slack's conversations use.
const CALLER: &str = "slack";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    user_id: String,
    #[serde(default)]
    team_id: String,
    channel_id: String,
    #[serde(default)]
    response_url: Option<String>,
}

/// `POST /v1/slack`: a slash command.
pub async fn command(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = accept(&state, &headers, &body).await {
        return refused;
    }
    if form_field(&body, "ssl_check").is_some() {
        return StatusCode::OK.into_response();
    }
    let command: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a slash-command body: {e}")),
    };
    let owner = owner(&command.team_id, &command.user_id);
    let fallback = crate::trigger::detect_lang(&command.text);
    let Some(response_url) = command.response_url.filter(|u| !u.is_empty()) else {
        let turn =
            super::chat::turn(&state, CALLER, &owner, &command.channel_id, Input::Text(command.text), None).await;
        return match turn {
            Ok(turn) => axum::Json(blocks::message(&turn, &command.user_id, false)).into_response(),
            Err(refusal) => super::chat::refusal_response(&refusal, Some(fallback)),
        };
    };
    tokio::spawn(async move {
        let input = Input::Text(command.text);
        let turn = super::chat::turn(&state, CALLER, &owner, &command.channel_id, input, None).await;
        let message = match turn {
            Ok(turn) => blocks::message(&turn, &command.user_id, false),
            Err(refusal) => blocks::note(&refusal.message(fallback)),
        };
        deliver(&state.client, &response_url, &message).await;
    });
    StatusCode::OK.into_response()
}

#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: Id,
    #[serde(default)]
    team: Option<Id>,
    response_url: String,
    #[serde(default)]
    actions: Vec<PressedAction>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
    #[serde(default)]
    team_id: Option<String>,
}

#[derive(Deserialize)]
struct PressedAction {
    action_id: String,
    #[serde(default)]
    value: String,
}

/// `POST /v1/slack/interactive`: a button under a plan (`block_actions`).
pub async fn interactive(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refused) = accept(&state, &headers, &body).await {
        return refused;
    }
    let Some(payload) = form_field(&body, "payload") else {
        return error(StatusCode::BAD_REQUEST, "an interaction must carry a `payload` form field");
    };
    let interaction: Interaction = match serde_json::from_str(&payload) {
        Ok(i) => i,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not an interaction payload: {e}")),
    };
    let pressed = interaction.actions.first().and_then(|a| {
        let action = Action::parse(&a.action_id)?;
        let value: blocks::ButtonValue = serde_json::from_str(&a.value).ok()?;
        Some((action, value))
    });
    let Some((action, value)) = pressed.filter(|_| interaction.kind == "block_actions") else {
        // Another kind of interaction, or a button that is not ours: nothing to do.
        return StatusCode::OK.into_response();
    };
    let team = interaction.team.map(|t| t.id).or(interaction.user.team_id).unwrap_or_default();
    let presser = interaction.user.id;
    tokio::spawn(async move {
        let message = if presser != value.user {
            tracing::warn!(conversation = %value.conversation, "refused a button pressed by someone else");
            blocks::not_yours(&value.user, value.lang)
        } else {
            let input = Input::Press { action, revision: value.revision };
            match super::chat::turn(
                &state,
                CALLER,
                &owner(&team, &presser),
                &value.conversation,
                input,
                Some(value.lang),
            )
            .await
            {
                Ok(turn) => blocks::message(&turn, &presser, true),
                Err(refusal) => blocks::note(&refusal.message(value.lang)),
            }
        };
        deliver(&state.client, &interaction.response_url, &message).await;
    });
    StatusCode::OK.into_response()
}

fn owner(team: &str, user: &str) -> String {
    format!("slack:{team}:{user}")
}

/// Checks the signature and that the request is new; the refusal to answer otherwise.
async fn accept(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), Response> {
    let Some(secret) = state.slack_secret.as_deref() else {
        return Err(error(StatusCode::NOT_FOUND, "Slack is not configured: set SLACK_SIGNING_SECRET"));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let signature = header("x-slack-signature");
    if let Err(why) = verify(secret, header("x-slack-request-timestamp"), signature, body, super::now_secs()) {
        tracing::warn!(why, "refused a Slack request");
        return Err(error(StatusCode::UNAUTHORIZED, format!("bad Slack request signature: {why}")));
    }
    super::accept_once(state, &format!("slack:{signature}"), Duration::from_secs(2 * MAX_SKEW_SECS as u64)).await
}

/// Checks a Slack signature over `body` at `now` (Unix seconds); the reason when it fails.
pub fn verify(secret: &str, timestamp: &str, signature: &str, body: &[u8], now: i64) -> Result<(), &'static str> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| "missing or malformed X-Slack-Request-Timestamp")?;
    if (now - ts).abs() > MAX_SKEW_SECS {
        return Err("the timestamp is more than five minutes from now");
    }
    let hex = signature.strip_prefix("v0=").ok_or("X-Slack-Signature must start with v0=")?;
    let given = hex::decode(hex).map_err(|_| "X-Slack-Signature is not hex")?;
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| "unusable signing secret")?;
    mac.update(b"v0:");
    mac.update(timestamp.trim().as_bytes());
    mac.update(b":");
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&given).map_err(|_| "the signature does not match")
}

/// The signature Slack would send (for tests and tools that replay requests).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Posts `message` to a `response_url`, trying a few times if Slack (or the network) fails.
/// The URL is not logged: it lets anyone post into the conversation.
async fn deliver(client: &reqwest::Client, url: &str, message: &Value) {
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=4 {
        match client.post(url).json(message).send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) if !response.status().is_server_error() => {
                tracing::warn!(status = %response.status(), "Slack refused a response_url message");
                return;
            }
            Ok(response) => tracing::warn!(attempt, status = %response.status(), "cannot post to response_url"),
            Err(e) => tracing::warn!(attempt, error = %e.without_url(), "cannot post to response_url"),
        }
        tokio::time::sleep(pause).await;
        pause *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_with_the_secret_and_the_time() {
        let body = b"text=hi&user_id=U1&channel_id=C1";
        let good = sign("s3cret", "1000", body);
        assert_eq!(verify("s3cret", "1000", &good, body, 1000 + MAX_SKEW_SECS), Ok(()));
        assert!(verify("other", "1000", &good, body, 1000).is_err());
        assert!(verify("s3cret", "1000", &good, b"text=bye&user_id=U1&channel_id=C1", 1000).is_err());
        assert!(verify("s3cret", "1000", &good, body, 1001 + MAX_SKEW_SECS).is_err());
        assert!(verify("s3cret", "1000", "v1=00", body, 1000).is_err());
    }
}
