//! `/mcp`: rmcp's Streamable HTTP service, and what this server adds in front of it.
//!
//! - **Origin** ([`check_origin`], before the token): a request carrying an `Origin` header that is
//!   not a loopback origin nor one given with `--allow-origin` gets 403, as the MCP transport
//!   specification requires (DNS rebinding). Clients that are not browsers send no `Origin`.
//! - **Sessions** ([`SessionGuard`]): a request that names no `Mcp-Session-Id` may open one, so it
//!   first reserves a slot in the store (bounded in all and per caller, atomically, across
//!   replicas with Redis: a burst of opens cannot pass the bound); the slot becomes the session's
//!   when rmcp answers with one, and is released otherwise. A session belongs to the caller that
//!   opened it (404 for anyone else); each use renews its expiry; `DELETE` frees it.
//! - **Takeover**: the client's `initialize` parameters are kept in the store ([`Restore`], rmcp's
//!   `SessionStore`), so with Redis a 2025-era session opened on one replica goes on on another
//!   (rmcp replays the handshake there). What rmcp keeps in memory stays there: the live session
//!   task, its in-flight requests and unsent SSE events; a request that was running on a replica
//!   that died is lost with it.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::{SessionState, SessionStore, SessionStoreError};
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use super::{Caller, Config, MAX_MCP_BODY_BYTES, error};
use crate::conversation::store::{Bounds, Kind, RESERVATION, Store, StoreError};
use crate::registry::Registry;

/// The `/mcp` service: rmcp behind the session guard. Every skill is loaded and checked first (the
/// MCP tools carry their input schemas): a broken one is the error.
pub fn service(
    registry: &Arc<Registry>,
    roots: &Arc<crate::locate::Roots>,
    config: &Config,
    store: Arc<dyn Store>,
    ct: CancellationToken,
) -> crate::Result<Router> {
    let server = crate::mcp::SkillServer::new(registry.clone(), CancellationToken::new(), roots.clone())?;
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ct)
        .with_max_request_body_bytes(MAX_MCP_BODY_BYTES);
    if !config.addr.ip().is_loopback() {
        // rmcp checks Host against loopback names by default; off loopback the token guards instead.
        mcp_config = mcp_config.disable_allowed_hosts();
    }
    let ttl = config.limits.ttl;
    mcp_config.session_store = Some(Arc::new(Restore { store: store.clone(), ttl }));
    let service =
        StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), mcp_config);
    let guard = Arc::new(SessionGuard {
        store,
        bounds: Bounds { all: config.limits.max_conversations, per_caller: config.limits.max_per_caller },
        ttl,
    });
    Ok(Router::new().fallback_service(service).layer(axum::middleware::from_fn(move |request: Request, next: Next| {
        let guard = guard.clone();
        async move { guard.check(request, next).await }
    })))
}

struct SessionGuard {
    store: Arc<dyn Store>,
    bounds: Bounds,
    ttl: std::time::Duration,
}

impl SessionGuard {
    async fn check(&self, request: Request, next: Next) -> Response {
        let caller = request.extensions().get::<Caller>().map(|c| c.0.clone()).unwrap_or_default();
        let session = request.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let result = match session {
            Some(id) => self.in_session(&caller, &id, request, next).await,
            None => self.opening(&caller, request, next).await,
        };
        result.unwrap_or_else(|e| match e {
            StoreError::Full { max, .. } => error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many MCP sessions open (at most {max} for this caller or in all); try again later"),
            ),
            e => error(StatusCode::SERVICE_UNAVAILABLE, format!("{e}; nothing was done, try again")),
        })
    }

    async fn in_session(&self, caller: &str, id: &str, request: Request, next: Next) -> Result<Response, StoreError> {
        let sessions = self.store.mcp();
        if sessions.owner(id).await?.as_deref() != Some(caller) {
            return Ok(error(StatusCode::NOT_FOUND, "no such MCP session"));
        }
        let closing = request.method() == Method::DELETE;
        if closing {
            let response = next.run(request).await;
            sessions.forget(id).await?;
            self.store.release(Kind::McpSession, caller, id).await?;
            return Ok(response);
        }
        // In use: renew the session's slot and records (reserving an existing slot never fails).
        self.store.reserve(Kind::McpSession, caller, id, self.bounds, self.ttl).await?;
        sessions.set_owner(id, caller, self.ttl).await?;
        Ok(next.run(request).await)
    }

    async fn opening(&self, caller: &str, request: Request, next: Next) -> Result<Response, StoreError> {
        let reservation = format!("opening:{}", uuid::Uuid::new_v4());
        self.store.reserve(Kind::McpSession, caller, &reservation, self.bounds, RESERVATION).await?;
        let response = next.run(request).await;
        let opened = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let kept = async {
            if let Some(id) = &opened {
                // The reservation holds the place: the session takes it over (one more for a moment).
                let room = Bounds { all: self.bounds.all + 1, per_caller: self.bounds.per_caller + 1 };
                self.store.reserve(Kind::McpSession, caller, id, room, self.ttl).await?;
                self.store.mcp().set_owner(id, caller, self.ttl).await?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        self.store.release(Kind::McpSession, caller, &reservation).await?;
        kept.map(|()| response)
    }
}

/// rmcp's session store: the `initialize` parameters of each session, in our store.
struct Restore {
    store: Arc<dyn Store>,
    ttl: std::time::Duration,
}

#[async_trait::async_trait]
impl SessionStore for Restore {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        match self.store.mcp().state(id).await? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    async fn store(&self, id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        Ok(self.store.mcp().set_state(id, &serde_json::to_string(state)?, self.ttl).await?)
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        Ok(self.store.mcp().forget(id).await?)
    }
}

/// 403 for a request on `/mcp` whose `Origin` is neither loopback nor allowed.
pub async fn check_origin(allowed: Arc<Vec<String>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/mcp")
        && let Some(origin) = request.headers().get(axum::http::header::ORIGIN)
        && !origin.to_str().is_ok_and(|o| origin_allowed(o, &allowed))
    {
        tracing::warn!(?origin, "refused an MCP request from a foreign Origin");
        // The body was not read: close the connection rather than leave it for reuse.
        return super::listen::closing(error(
            StatusCode::FORBIDDEN,
            "this Origin may not use /mcp (see --allow-origin)",
        ));
    }
    next.run(request).await
}

/// Whether `origin` (`scheme://host[:port]`) is a loopback origin or one of `allowed` (exact,
/// scheme and host compared case-insensitively, the default port implied; `:*` any port).
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    let Some((scheme, host, port)) = split_origin(origin) else { return false };
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        || allowed
            .iter()
            .filter_map(|a| split_origin_pattern(a))
            .any(|(s, h, p)| s == scheme && h == host && p.is_none_or(|p| p == port))
}

/// (scheme, host, port) of an origin, lower case, the scheme's default port filled in.
fn split_origin(origin: &str) -> Option<(String, String, u16)> {
    let (scheme, host, port) = split_origin_pattern(origin)?;
    Some((scheme, host, port?))
}

/// Like [`split_origin`], but `:*` (any port) gives `None` for the port.
fn split_origin_pattern(origin: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (rest, None),
    };
    let port = match port {
        None => match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => return None,
        },
        Some("*") => None,
        Some(p) => Some(p.parse().ok()?),
    };
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_loopback_or_listed() {
        let allowed = vec!["https://app.example.com".to_owned(), "http://tools.example:*".to_owned()];
        for good in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "http://[::1]:8080",
            "https://APP.example.com:443",
            "http://tools.example:9",
        ] {
            assert!(origin_allowed(good, &allowed), "{good}");
        }
        for bad in [
            "https://evil.example",
            "null",
            "https://app.example.com:8443",
            "http://app.example.com",
            "https://app.example.com.evil",
            "http://localhost.evil:80",
        ] {
            assert!(!origin_allowed(bad, &allowed), "{bad}");
        }
    }
}
