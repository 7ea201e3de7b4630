//! `POST /v1/chat`: one message of a conversation as JSON in, the engine's turn as JSON out.
//! Request: `{"conversation": "id" (optional: a new one is made), "text": "...", "lang": "ko"|"en"}`.
//! Response: the [`crate::conversation::Turn`] (`conversation`, `lang`, `step`, `field`, `reply`,
//! and `report` when a run finished). A conversation belongs to the token that started it.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, Caller, error, refusal_status};
use crate::conversation::{Input, Turn};
use crate::trigger::Lang;

/// The longest conversation id.
pub const MAX_ID_LEN: usize = 128;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatRequest {
    #[serde(default)]
    conversation: Option<String>,
    text: String,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn handle(State(state): State<Arc<AppState>>, Extension(caller): Extension<Caller>, body: Bytes) -> Response {
    let request: ChatRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body must be JSON like {{\"conversation\": \"c1\", \"text\": \"DB 설정 해줘\"}} ({e})"),
            );
        }
    };
    let lang = match request.lang.as_deref().map(|l| Lang::parse(l).ok_or(l)) {
        None => None,
        Some(Ok(lang)) => Some(lang),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "lang must be \"ko\" or \"en\""),
    };
    let id = match request.conversation {
        Some(id) if valid_id(&id) => id,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("conversation must be 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 . _ : -"),
            );
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let fallback = lang.or_else(|| Some(crate::trigger::detect_lang(&request.text)));
    match turn(&state, &caller.0, &caller.0, &id, Input::Text(request.text), lang).await {
        Ok(turn) => axum::Json(turn).into_response(),
        Err(refusal) => refusal_response(&refusal, fallback),
    }
}

/// Runs one engine turn.
pub(super) async fn turn(
    state: &AppState,
    caller: &str,
    owner: &str,
    id: &str,
    input: Input,
    lang: Option<Lang>,
) -> Result<Turn, crate::conversation::Refusal> {
    state.engine.message(caller, owner, id, input, lang).await
}

/// An engine refusal as an error response: 413 too long, 429 a bound, 503 store down or busy.
pub(super) fn refusal_response(refusal: &crate::conversation::Refusal, lang: Option<Lang>) -> Response {
    error(refusal_status(refusal), refusal.message(lang.unwrap_or(Lang::En)))
}

/// A conversation id a client may choose.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
}
