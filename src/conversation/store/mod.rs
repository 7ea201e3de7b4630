//! Where conversations live between messages, behind one interface ([`Store`]): in this process
//! ([`MemoryStore`], the default) or in Redis ([`RedisStore`], `--store redis://...`), which
//! several `serve --http` replicas share and which outlives any one of them.
//!
//! What a store keeps:
//! - **Conversations**, one record each (a JSON state and a revision). A save or a removal names
//!   the revision it read and fails with [`StoreError::Conflict`] if the record moved on, so two
//!   replicas can never both act on one state; a per-conversation lock ([`Store::lock`], a lease)
//!   makes the messages of one conversation take turns, in arrival order at the lock.
//! - **Slots**: the bounds. Each conversation and each MCP session holds one slot of its
//!   [`Kind`], counted in all and per caller (a bearer token, Slack, Mattermost); a slot is
//!   reserved atomically, before anything is created, and lapses with its expiry.
//! - **Marks** ([`Store::first_time`]): a request id seen once within a window (Slack and
//!   Mattermost replays).
//! - **MCP sessions**: who opened each one and the `initialize` parameters rmcp needs to restore
//!   it on another replica ([`McpSessions`]).
//!
//! Every record expires by itself (Redis's expiry, or the clock here); a store that cannot be
//! reached answers [`StoreError::Unavailable`] (HTTP 503), never a guess.

mod memory;
mod redis;

use std::time::Duration;

pub use memory::MemoryStore;
pub use redis::RedisStore;

/// A conversation's identity: who may drive it and its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub owner: String,
    pub id: String,
}

impl Key {
    pub fn new(owner: &str, id: &str) -> Self {
        Key { owner: owner.to_owned(), id: id.to_owned() }
    }

    /// A fixed-length name for the key (owner and id may hold any character).
    pub fn digest(&self) -> String {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        hash.update(self.owner.as_bytes());
        hash.update([0]);
        hash.update(self.id.as_bytes());
        hex::encode(&hash.finalize()[..20])
    }
}

/// A stored conversation: its state (JSON) and the revision it is at (1 for a new one).
#[derive(Debug, Clone)]
pub struct Record {
    pub revision: u64,
    pub state: String,
}

/// What a slot bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Conversation,
    McpSession,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Conversation => "conversations",
            Kind::McpSession => "mcp-sessions",
        }
    }
}

/// How many slots of one kind may be held at once, in all and by one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub all: usize,
    pub per_caller: usize,
}

/// Which bound refused a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Caller,
}

/// Proof of holding a conversation's lock; give it back to [`Store::unlock`].
#[derive(Debug)]
pub struct Lock {
    token: String,
}

impl Lock {
    fn new() -> Self {
        Lock { token: uuid::Uuid::new_v4().to_string() }
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached in time (Redis down or slow).
    #[error("the conversation store is unavailable ({0})")]
    Unavailable(String),
    /// Another message of the conversation held it for longer than the wait.
    #[error("another message of this conversation is still being handled")]
    Busy,
    /// The record is no longer at the revision named.
    #[error("the conversation changed meanwhile")]
    Conflict,
    /// A bound is reached.
    #[error("too many {} ({scope:?} bound of {max})", kind.name())]
    Full { kind: Kind, scope: Scope, max: usize },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// How long a lock is held at most (a replica that dies holding one frees it after this).
pub const LOCK_LEASE: Duration = Duration::from_secs(60);
/// How long a message waits for the conversation's lock before the answer is "busy".
pub const LOCK_WAIT: Duration = Duration::from_secs(30);
/// How long a reservation made before a conversation or session exists is held.
pub const RESERVATION: Duration = Duration::from_secs(60);

/// The conversation store. Every method is atomic on its own.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Waits (up to [`LOCK_WAIT`]) for the conversation's lock.
    async fn lock(&self, key: &Key) -> Result<Lock>;
    /// Gives the lock back (if it is still this holder's).
    async fn unlock(&self, key: &Key, lock: Lock);
    async fn load(&self, key: &Key) -> Result<Option<Record>>;
    /// Writes `state` if the record is at `expected` (0: there is none), keeps it for `ttl` and
    /// holds `caller`'s conversation slot as long; returns the new revision.
    async fn save(&self, key: &Key, caller: &str, expected: u64, state: &str, ttl: Duration) -> Result<u64>;
    /// Deletes the record if it is at `expected`, and frees its slot.
    async fn remove(&self, key: &Key, caller: &str, expected: u64) -> Result<()>;
    /// Takes (or renews) a slot named `member` for `ttl`, unless a bound is reached.
    async fn reserve(&self, kind: Kind, caller: &str, member: &str, bounds: Bounds, ttl: Duration) -> Result<()>;
    async fn release(&self, kind: Kind, caller: &str, member: &str) -> Result<()>;
    /// True the first time `mark` is given within `window`, false after.
    async fn first_time(&self, mark: &str, window: Duration) -> Result<bool>;
    /// The MCP session records.
    fn mcp(&self) -> &dyn McpSessions;
}

/// What the HTTP MCP transport keeps per session: the caller that opened it and the client's
/// `initialize` parameters (rmcp's [`SessionState`](rmcp::transport::streamable_http_server::session::SessionState),
/// as JSON), so that another replica can take the session over.
#[async_trait::async_trait]
pub trait McpSessions: Send + Sync {
    async fn owner(&self, id: &str) -> Result<Option<String>>;
    async fn set_owner(&self, id: &str, caller: &str, ttl: Duration) -> Result<()>;
    async fn state(&self, id: &str) -> Result<Option<String>>;
    async fn set_state(&self, id: &str, state: &str, ttl: Duration) -> Result<()>;
    /// Forgets the session (owner and state).
    async fn forget(&self, id: &str) -> Result<()>;
}

/// Opens the store `spec` names: `memory`, or a `redis://` / `rediss://` URL; `prefix` starts
/// every Redis key (so several deployments or tests can share one Redis).
pub async fn open(spec: &str, prefix: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    if spec == "memory" {
        return Ok(std::sync::Arc::new(MemoryStore::default()));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") || spec.starts_with("redis+unix://") {
        return Ok(std::sync::Arc::new(RedisStore::connect(spec, prefix).await?));
    }
    // The spec is not echoed: a Redis URL may hold a password.
    anyhow::bail!("--store: expected `memory` or a redis:// (or rediss://) URL")
}
