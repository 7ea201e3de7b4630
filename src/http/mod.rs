//! `skillrun serve --http ADDR`: the conversation engine and the MCP server over HTTP (axum).
//!
//! Routes: `POST /v1/chat` ([`chat`]), `/mcp` (the MCP server on Streamable HTTP, rmcp's
//! `StreamableHttpService`), `POST /v1/slack` ([`slack`], only when `SLACK_SIGNING_SECRET` is set).
//! Guards, all here: a bearer token from `SKILLRUN_TOKEN` (one or more, comma-separated; each is
//! one caller) on every route but `/v1/slack`, which Slack's request signature guards instead; the
//! server will not start without a token or without a `--root`; every run's project must lie under
//! a root; bodies, messages, conversations and MCP sessions are bounded; a conversation or an MCP
//! session belongs to the token that opened it. The bound address is printed to stderr.

pub mod chat;
pub mod slack;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::conversation::{Engine, Limits};
use crate::registry::Registry;

/// The largest request body on `/v1/chat` and `/v1/slack`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest request body on `/mcp`.
pub const MAX_MCP_BODY_BYTES: usize = 1024 * 1024;
/// The environment variable holding the bearer token(s).
pub const TOKEN_VAR: &str = "SKILLRUN_TOKEN";
/// The environment variable holding Slack's signing secret.
pub const SLACK_SECRET_VAR: &str = "SLACK_SIGNING_SECRET";

/// What the server needs to start.
pub struct Config {
    pub addr: SocketAddr,
    /// Directories projects must lie under (as given; canonicalized at start).
    pub roots: Vec<PathBuf>,
    /// Bearer tokens; a caller is known by the index of its token.
    pub tokens: Vec<String>,
    pub slack_secret: Option<String>,
    pub limits: Limits,
}

impl Config {
    /// A config with the tokens and the Slack secret from the environment.
    pub fn from_env(addr: SocketAddr, roots: Vec<PathBuf>, limits: Limits) -> Self {
        let tokens = std::env::var(TOKEN_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let slack_secret = std::env::var(SLACK_SECRET_VAR).ok().filter(|s| !s.is_empty());
        Config { addr, roots, tokens, slack_secret, limits }
    }
}

/// What every handler shares.
pub struct AppState {
    pub engine: Engine,
    tokens: Vec<String>,
    pub slack_secret: Option<String>,
    /// Engine turns at once (each may run the pipeline on a blocking thread); the rest wait.
    pub turns: Semaphore,
}

/// The caller a bearer token proved: `token#N` (never the token itself).
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// Runs the server until the process is stopped.
pub fn serve(registry: Registry, config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("skillrun-http").build()?;
    runtime.block_on(run(registry, config))
}

async fn run(registry: Registry, config: Config) -> anyhow::Result<()> {
    if config.tokens.is_empty() {
        let why = if config.addr.ip().is_loopback() {
            "every route needs a bearer token"
        } else {
            "refusing to listen on a non-loopback address without a bearer token"
        };
        anyhow::bail!(
            "{TOKEN_VAR} is not set: {why}; set {TOKEN_VAR} to a long random string (e.g. `openssl rand -hex 32`)"
        );
    }
    if config.roots.is_empty() {
        anyhow::bail!("give at least one --root DIR: the only directories the server may write projects under");
    }
    let roots = open_roots(&config.roots)?;
    let registry = Arc::new(registry);
    let ct = CancellationToken::new();
    let mcp_server = crate::mcp::SkillServer::new(registry.clone(), CancellationToken::new(), roots.clone());
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_cancellation_token(ct.child_token())
        .with_max_request_body_bytes(MAX_MCP_BODY_BYTES);
    if !config.addr.ip().is_loopback() {
        // rmcp checks Host against loopback names by default; off loopback the token guards instead.
        mcp_config = mcp_config.disable_allowed_hosts();
    }
    let sessions = Arc::new(LocalSessionManager::default());
    let mcp = StreamableHttpService::new(move || Ok(mcp_server.clone()), sessions.clone(), mcp_config);
    let guard = Arc::new(SessionGuard { sessions, max: config.limits.max_conversations, owners: Default::default() });
    let mcp =
        Router::new().fallback_service(mcp).layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let guard = guard.clone();
            async move { guard.check(request, next).await }
        }));
    let parallel = std::thread::available_parallelism().map_or(4, |n| n.get()).max(2);
    let state = Arc::new(AppState {
        engine: Engine::new(registry, config.limits).with_roots(roots.clone()),
        tokens: config.tokens,
        slack_secret: config.slack_secret,
        turns: Semaphore::new(parallel * 2),
    });
    let guarded = Router::new()
        .route("/v1/chat", axum::routing::post(chat::handle))
        .nest_service("/mcp", mcp)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_token));
    let app = Router::new()
        .route("/v1/slack", axum::routing::post(slack::handle))
        .merge(guarded)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let bound = listener.local_addr()?;
    eprintln!("skillrun: listening on http://{bound} (roots: {})", roots.describe());
    tracing::info!(%bound, "serving HTTP");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            ct.cancel();
        })
        .await?;
    Ok(())
}

/// MCP sessions, like conversations, are bounded and belong to the caller that opened them: a
/// request that would open one (it names no `Mcp-Session-Id`) is refused with 429 while `max`
/// are open, and a session id used with another caller's token is unknown (404).
/// rmcp closes idle sessions itself; their owners are forgotten when the next one opens.
struct SessionGuard {
    sessions: Arc<LocalSessionManager>,
    max: usize,
    owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl SessionGuard {
    async fn check(&self, request: Request, next: Next) -> Response {
        let caller = request.extensions().get::<Caller>().map(|c| c.0.clone()).unwrap_or_default();
        let session = request.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(id) = &session {
            let owner = self.owners.lock().expect("session owners").get(id).cloned();
            if owner.is_some_and(|owner| owner != caller) {
                return error(StatusCode::NOT_FOUND, "no such MCP session");
            }
            return next.run(request).await;
        }
        let open = self.sessions.sessions.read().await.len();
        if open >= self.max {
            let message = format!("too many MCP sessions open (at most {}); try again later", self.max);
            return error(StatusCode::TOO_MANY_REQUESTS, message);
        }
        let response = next.run(request).await;
        if let Some(id) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            let live: std::collections::HashSet<String> =
                self.sessions.sessions.read().await.keys().map(|k| k.to_string()).collect();
            let mut owners = self.owners.lock().expect("session owners");
            owners.retain(|id, _| live.contains(id));
            owners.insert(id.to_owned(), caller);
        }
        response
    }
}

/// Opens each root once (an existing directory; symbolic links in the path given are followed):
/// the handles every project of the server is opened beneath.
pub fn open_roots(roots: &[PathBuf]) -> anyhow::Result<Arc<crate::locate::Roots>> {
    for root in roots {
        let canonical = root
            .canonicalize()
            .map_err(|e| anyhow::anyhow!("--root {}: {e}; give an existing directory", root.display()))?;
        anyhow::ensure!(canonical.is_dir(), "--root {}: not a directory", root.display());
    }
    let opened = crate::locate::Roots::open(roots).map_err(|e| anyhow::anyhow!("--root: {e}"))?;
    Ok(Arc::new(opened))
}

/// Lets a request through only with `Authorization: Bearer <one of the tokens>` (compared in
/// constant time), and tells the handler which caller it is.
async fn require_token(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    match caller(&state.tokens, request.headers()) {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            let mut response =
                error(StatusCode::UNAUTHORIZED, "a bearer token is required: Authorization: Bearer <SKILLRUN_TOKEN>");
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            // The body was not read: close the connection rather than leave it for reuse.
            response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            response
        }
    }
}

fn caller(tokens: &[String], headers: &HeaderMap) -> Option<Caller> {
    let given = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = given.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim().as_bytes();
    // Compare with every token, so the time taken does not say which one was close.
    let mut found = None;
    for (i, known) in tokens.iter().enumerate() {
        if bool::from(known.as_bytes().ct_eq(token)) {
            found = Some(i);
        }
    }
    found.map(|i| Caller(format!("token#{i}")))
}

/// A JSON error body `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// The status for an engine refusal.
pub fn refusal_status(refusal: &crate::conversation::Refusal) -> StatusCode {
    match refusal {
        crate::conversation::Refusal::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        crate::conversation::Refusal::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}
