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
use crate::conversation::Turn;
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
    match turn(state, caller.0, id, request.text, lang).await {
        Ok(turn) => axum::Json(turn).into_response(),
        Err(response) => response,
    }
}

/// Runs one engine turn on a blocking thread (it may run the pipeline); a refusal is an error
/// response (413 too long, 429 too many conversations).
pub(super) async fn turn(
    state: Arc<AppState>,
    owner: String,
    id: String,
    text: String,
    lang: Option<Lang>,
) -> Result<Turn, Response> {
    let Ok(_permit) = state.turns.acquire().await else {
        return Err(error(StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down"));
    };
    let engine_state = state.clone();
    let result = tokio::task::spawn_blocking(move || engine_state.engine.message(&owner, &id, &text, lang)).await;
    match result {
        Ok(Ok(turn)) => Ok(turn),
        Ok(Err(refusal)) => Err(error(refusal_status(&refusal), refusal.message(lang.unwrap_or(Lang::En)))),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("the turn stopped unexpectedly: {e}"))),
    }
}

/// A conversation id a client may choose.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.chars().all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
}
