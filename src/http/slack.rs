//! `POST /v1/slack`: Slack's slash-command format. The body is form-encoded (`text`, `user_id`,
//! `team_id`, `channel_id`, ...); the answer is `{"response_type": "ephemeral", "text": ...}`
//! (ephemeral: only the person who typed the command sees it).
//!
//! Slack signs each request instead of sending a bearer token: `X-Slack-Signature` is
//! `v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}` keyed by the app's signing
//! secret (`SLACK_SIGNING_SECRET`). A request is refused (401) unless the signature matches
//! (checked in constant time) and the timestamp is within five minutes of now. A conversation is
//! the person's in one channel: owner `slack:{team_id}:{user_id}`, id `{channel_id}`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, error};

/// How old (or how far in the future) a signed request may be.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    user_id: String,
    #[serde(default)]
    team_id: String,
    channel_id: String,
}

pub async fn handle(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.slack_secret.as_deref() else {
        return error(StatusCode::NOT_FOUND, "Slack is not configured: set SLACK_SIGNING_SECRET");
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if let Err(why) = verify(secret, header("x-slack-request-timestamp"), header("x-slack-signature"), &body, now) {
        tracing::warn!(why, "refused a Slack request");
        return error(StatusCode::UNAUTHORIZED, format!("bad Slack request signature: {why}"));
    }
    let command: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a slash-command body: {e}")),
    };
    let owner = format!("slack:{}:{}", command.team_id, command.user_id);
    match super::chat::turn(state, owner, command.channel_id, command.text, None).await {
        Ok(turn) => axum::Json(json!({"response_type": "ephemeral", "text": turn.reply})).into_response(),
        Err(response) => response,
    }
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
