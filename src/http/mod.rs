//! `skillrun serve --http ADDR`: the conversation engine and the MCP server over HTTP (axum on
//! hyper, accepted by [`listen`]).
//!
//! Routes: `POST /v1/chat` ([`chat`]), `/mcp` (the MCP server on Streamable HTTP, rmcp's
//! `StreamableHttpService`, guarded by [`mcp`]), `POST /v1/slack` and `POST /v1/slack/interactive`
//! ([`slack`], only when `SLACK_SIGNING_SECRET` is set), `POST /v1/mattermost` and
//! `POST /v1/mattermost/actions` ([`mattermost`], only when `MATTERMOST_TOKEN` is set).
//! Guards, all here: a bearer token from `SKILLRUN_TOKEN` (one or more, comma-separated; each is
//! one caller) on `/v1/chat` and `/mcp`; Slack's request signature and Mattermost's token on
//! theirs, each request accepted once; the server will not start without a token or without a
//! `--root`; every run's project must lie under a root; headers and bodies must arrive in time
//! and bodies are bounded; conversations and MCP sessions are bounded in all and per caller,
//! reserved before they are created; a conversation or an MCP session belongs to whoever opened
//! it. Conversations live in the [`store`](crate::conversation::store) (`--store`). The bound
//! address is printed to stderr.

pub mod chat;
mod listen;
pub mod mattermost;
mod mcp;
pub mod slack;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::conversation::store::Store;
use crate::conversation::{Engine, Limits, Refusal};
use crate::registry::Registry;

/// The largest request body on `/v1/chat`, Slack's and Mattermost's routes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest request body on `/mcp`.
pub const MAX_MCP_BODY_BYTES: usize = 1024 * 1024;
/// The environment variable holding the bearer token(s).
pub const TOKEN_VAR: &str = "SKILLRUN_TOKEN";
/// The environment variable holding Slack's signing secret.
pub const SLACK_SECRET_VAR: &str = "SLACK_SIGNING_SECRET";
/// The environment variable holding Mattermost's slash-command token(s), comma-separated.
pub const MATTERMOST_TOKEN_VAR: &str = "MATTERMOST_TOKEN";

/// What the server needs to start.
pub struct Config {
    pub addr: SocketAddr,
    /// Directories projects must lie under (as given; canonicalized at start).
    pub roots: Vec<PathBuf>,
    /// Bearer tokens; a caller is known by the index of its token.
    pub tokens: Vec<String>,
    pub slack_secret: Option<String>,
    pub mattermost_tokens: Vec<String>,
    /// Conversation and MCP session bounds; `max_per_caller` 0 means "an equal share".
    pub limits: Limits,
    /// `memory` or a `redis://` URL.
    pub store: String,
    /// The prefix of every Redis key.
    pub store_prefix: String,
    /// Browser origins (besides loopback ones) allowed on `/mcp`.
    pub allowed_origins: Vec<String>,
    /// The time a client has to send a request's headers, and its body.
    pub read_timeout: Duration,
    /// This server's address as Mattermost reaches it (for its button callbacks).
    pub public_url: Option<String>,
}

impl Config {
    /// A config with the tokens and the chat secrets from the environment, the rest default.
    pub fn from_env(addr: SocketAddr, roots: Vec<PathBuf>, limits: Limits) -> Self {
        let list = |var: &str| -> Vec<String> {
            std::env::var(var)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Config {
            addr,
            roots,
            tokens: list(TOKEN_VAR),
            slack_secret: std::env::var(SLACK_SECRET_VAR).ok().filter(|s| !s.is_empty()),
            mattermost_tokens: list(MATTERMOST_TOKEN_VAR),
            limits,
            store: "memory".into(),
            store_prefix: "skillrun".into(),
            allowed_origins: Vec::new(),
            read_timeout: Duration::from_secs(10),
            public_url: None,
        }
    }

    /// The callers that share the bounds: each token, Slack, Mattermost.
    fn callers(&self) -> usize {
        self.tokens.len() + usize::from(self.slack_secret.is_some()) + usize::from(!self.mattermost_tokens.is_empty())
    }
}

/// What every handler shares.
pub struct AppState {
    pub engine: Engine,
    tokens: Vec<String>,
    pub slack_secret: Option<String>,
    pub mattermost_tokens: Vec<String>,
    pub public_url: Option<String>,
    /// Posts answers to Slack's `response_url`.
    pub client: reqwest::Client,
}

impl AppState {
    pub fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }
}

/// The caller a credential proved: `token#N` (never the token itself), `slack`, `mattermost`.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// Runs the server until the process is stopped.
pub fn serve(registry: Registry, config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("skillrun-http").build()?;
    runtime.block_on(run(registry, config))
}

async fn run(registry: Registry, mut config: Config) -> anyhow::Result<()> {
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
    if config.limits.max_per_caller == 0 {
        config.limits.max_per_caller = (config.limits.max_conversations / config.callers().max(1)).max(1);
    }
    let roots = open_roots(&config.roots)?;
    let store = crate::conversation::store::open(&config.store, &config.store_prefix).await?;
    let registry = Arc::new(registry);
    let ct = CancellationToken::new();
    let mcp = mcp::service(&registry, &roots, &config, store.clone(), ct.child_token())?;
    // Slack's response_url is https: rustls with ring, the platform's certificates.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let state = Arc::new(AppState {
        engine: Engine::with_store(registry, config.limits, store).with_roots(roots.clone()),
        tokens: config.tokens,
        slack_secret: config.slack_secret,
        mattermost_tokens: config.mattermost_tokens,
        public_url: config.public_url,
        client,
    });
    let guarded = Router::new()
        .route("/v1/chat", axum::routing::post(chat::handle))
        .nest_service("/mcp", mcp)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_token));
    let read_timeout = config.read_timeout;
    let allowed_origins = Arc::new(config.allowed_origins);
    let app = Router::new()
        .route("/v1/slack", axum::routing::post(slack::command))
        .route("/v1/slack/interactive", axum::routing::post(slack::interactive))
        .route("/v1/mattermost", axum::routing::post(mattermost::command))
        .route("/v1/mattermost/actions", axum::routing::post(mattermost::action))
        .merge(guarded)
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            listen::read_body(request, next, read_timeout)
        }))
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            mcp::check_origin(allowed_origins.clone(), request, next)
        }))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let bound = listener.local_addr()?;
    eprintln!("skillrun: listening on http://{bound} (roots: {})", roots.describe());
    tracing::info!(%bound, "serving HTTP");
    listen::serve(listener, app, read_timeout, async move {
        let _ = tokio::signal::ctrl_c().await;
        ct.cancel();
    })
    .await;
    Ok(())
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
    one_of(tokens, token.trim()).map(|i| Caller(format!("token#{i}")))
}

/// The index of the secret `given` equals, compared with each in constant time (so the time
/// taken does not say which one was close).
pub fn one_of(secrets: &[String], given: &str) -> Option<usize> {
    let mut found = None;
    for (i, known) in secrets.iter().enumerate() {
        if bool::from(known.as_bytes().ct_eq(given.as_bytes())) {
            found = Some(i);
        }
    }
    found
}

/// A JSON error body `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response = (status, axum::Json(json!({ "error": message.into() }))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// The status for an engine refusal.
pub fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Unavailable | Refusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Lets a request (named by `mark`, e.g. its signature) through the first time within `window`
/// only: 401 for a replay, 503 when the store cannot tell.
pub(crate) async fn accept_once(state: &AppState, mark: &str, window: Duration) -> Result<(), Response> {
    use sha2::Digest;
    let mark = hex::encode(sha2::Sha256::digest(mark.as_bytes()));
    match state.store().first_time(&mark, window).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            tracing::warn!("refused a replayed request");
            Err(error(StatusCode::UNAUTHORIZED, "this request was already accepted once (a replay); nothing was done"))
        }
        Err(e) => Err(error(StatusCode::SERVICE_UNAVAILABLE, format!("{e}; nothing was done, try again"))),
    }
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
