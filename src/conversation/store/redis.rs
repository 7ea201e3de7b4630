//! The Redis store (`--store redis://...`): what several replicas share and what outlives a
//! restart. A deadpool pool of multiplexed connections; each step that must be atomic (a save
//! that checks the revision and renews the slot, a reservation that checks both bounds) is one
//! Lua script; expiry is Redis's (`PEXPIRE`, and slot scores compared with Redis's own `TIME`).
//! Every call has a deadline (Redis must answer a command within the redis crate's response
//! timeout, 500 ms, and a call has [`CALL_TIMEOUT`] in all): a Redis that is down or slow is
//! [`StoreError::Unavailable`].
//!
//! Keys, all under `{PREFIX}:` (the braces keep them in one Redis Cluster hash slot):
//! `conv:<digest>` (hash: rev, state), `lock:<digest>`, `slots:<kind>` and
//! `slots:<kind>:<caller>` (sorted sets: member -> expiry in ms), `once:<mark>`,
//! `mcp:<session id>` (hash: owner, state).

use std::time::Duration;

use deadpool_redis::redis::{self, AsyncCommands, Script};
use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

use super::{Bounds, Key, Kind, Lock, McpSessions, Record, Result, Scope, Store, StoreError};

/// The longest a single Redis call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

pub struct RedisStore {
    pool: Pool,
    prefix: String,
    mcp: RedisMcp,
}

/// Now in ms by Redis's clock, then drop expired slots of both sets.
const PURGE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
";

/// KEYS: all, caller; ARGV: member, ttl ms, max all, max caller. 1, or -1 / -2 when full.
fn reserve_script() -> String {
    format!(
        "{PURGE}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -2 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1"
    )
}

/// KEYS: all, caller, record; ARGV: member, ttl ms, expected revision, state. New revision or -1.
fn save_script() -> String {
    format!(
        "{PURGE}
local rev = tonumber(redis.call('HGET', KEYS[3], 'rev') or '0')
if rev ~= tonumber(ARGV[3]) then return -1 end
rev = rev + 1
redis.call('HSET', KEYS[3], 'rev', rev, 'state', ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return rev"
    )
}

/// KEYS: all, caller, record; ARGV: member, expected revision. 1 or -1.
const REMOVE: &str = r"
local rev = tonumber(redis.call('HGET', KEYS[3], 'rev') or '0')
if rev ~= tonumber(ARGV[2]) then return -1 end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1";

/// KEYS: lock; ARGV: token.
const UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0";

impl RedisStore {
    /// A pool for `url`; fails unless Redis answers a PING.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let mut config = Config::from_url(url);
        config.pool = Some(PoolConfig {
            max_size: 32,
            timeouts: Timeouts { wait: Some(CALL_TIMEOUT), create: Some(CALL_TIMEOUT), recycle: Some(CALL_TIMEOUT) },
            ..PoolConfig::default()
        });
        let pool = config.create_pool(Some(Runtime::Tokio1)).map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        let prefix = format!("{{{prefix}}}");
        let store = RedisStore { pool: pool.clone(), prefix: prefix.clone(), mcp: RedisMcp { pool, prefix } };
        let mut conn = store.conn().await.map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        call(redis::cmd("PING").query_async::<String>(&mut conn)).await.map_err(|e| anyhow::anyhow!("--store: {e}"))?;
        Ok(store)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection> {
        connection(&self.pool).await
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn slot_keys(&self, kind: Kind, caller: &str) -> (String, String) {
        let all = self.key(&format!("slots:{}", kind.name()));
        let mine = format!("{all}:{}", hex::encode(caller));
        (all, mine)
    }
}

/// Tries for a while to delete the lock `name` if it holds `token`.
async fn release_later(pool: &Pool, name: &str, token: &str) {
    for _ in 0..20 {
        let released = async {
            let mut conn = connection(pool).await?;
            call(Script::new(UNLOCK).key(name).arg(token).invoke_async::<i64>(&mut conn)).await
        };
        if released.await.is_ok() {
            return;
        }
        tokio::time::sleep(CALL_TIMEOUT).await;
    }
}

async fn connection(pool: &Pool) -> Result<deadpool_redis::Connection> {
    pool.get().await.map_err(|e| StoreError::Unavailable(format!("cannot get a Redis connection: {e}")))
}

/// Runs one Redis call with the deadline.
async fn call<T>(future: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("Redis: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!("Redis did not answer within {CALL_TIMEOUT:?}"))),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl Store for RedisStore {
    async fn lock(&self, key: &Key) -> Result<Lock> {
        let name = self.key(&format!("lock:{}", key.digest()));
        let lock = Lock::new();
        let deadline = tokio::time::Instant::now() + super::LOCK_WAIT;
        let mut pause = Duration::from_millis(5);
        loop {
            let mut conn = self.conn().await?;
            let mut set = redis::cmd("SET");
            set.arg(&name).arg(&lock.token).arg("NX").arg("PX").arg(millis(super::LOCK_LEASE));
            let taken: Option<String> = match call(set.query_async(&mut conn)).await {
                Ok(taken) => taken,
                Err(e) => {
                    // A SET that timed out may still be carried out later: take it back then,
                    // rather than leave the conversation locked for the whole lease.
                    let (pool, name, token) = (self.pool.clone(), name.clone(), lock.token.clone());
                    tokio::spawn(async move { release_later(&pool, &name, &token).await });
                    return Err(e);
                }
            };
            if taken.is_some() {
                return Ok(lock);
            }
            drop(conn);
            if tokio::time::Instant::now() + pause > deadline {
                return Err(StoreError::Busy);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    async fn unlock(&self, key: &Key, lock: Lock) {
        let name = self.key(&format!("lock:{}", key.digest()));
        let released = async {
            let mut conn = self.conn().await?;
            call(Script::new(UNLOCK).key(&name).arg(&lock.token).invoke_async::<i64>(&mut conn)).await
        };
        if let Err(e) = released.await {
            tracing::warn!(error = %e, "cannot release a conversation lock; trying again in the background");
            let (pool, token) = (self.pool.clone(), lock.token);
            tokio::spawn(async move { release_later(&pool, &name, &token).await });
        }
    }

    async fn load(&self, key: &Key) -> Result<Option<Record>> {
        let mut conn = self.conn().await?;
        let mut hmget = redis::cmd("HMGET");
        hmget.arg(self.key(&format!("conv:{}", key.digest()))).arg("rev").arg("state");
        let (rev, state): (Option<u64>, Option<String>) = call(hmget.query_async(&mut conn)).await?;
        Ok(rev.zip(state).map(|(revision, state)| Record { revision, state }))
    }

    async fn save(&self, key: &Key, caller: &str, expected: u64, state: &str, ttl: Duration) -> Result<u64> {
        let (all, mine) = self.slot_keys(Kind::Conversation, caller);
        let digest = key.digest();
        let mut conn = self.conn().await?;
        let script = Script::new(&save_script());
        let mut invocation = script.key(all);
        invocation.key(mine).key(self.key(&format!("conv:{digest}")));
        invocation.arg(&digest).arg(millis(ttl)).arg(expected).arg(state);
        let revision: i64 = call(invocation.invoke_async(&mut conn)).await?;
        u64::try_from(revision).map_err(|_| StoreError::Conflict)
    }

    async fn remove(&self, key: &Key, caller: &str, expected: u64) -> Result<()> {
        let (all, mine) = self.slot_keys(Kind::Conversation, caller);
        let digest = key.digest();
        let mut conn = self.conn().await?;
        let script = Script::new(REMOVE);
        let mut invocation = script.key(all);
        invocation.key(mine).key(self.key(&format!("conv:{digest}")));
        invocation.arg(&digest).arg(expected);
        let done: i64 = call(invocation.invoke_async(&mut conn)).await?;
        if done == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn reserve(&self, kind: Kind, caller: &str, member: &str, bounds: Bounds, ttl: Duration) -> Result<()> {
        let (all, mine) = self.slot_keys(kind, caller);
        let mut conn = self.conn().await?;
        let script = Script::new(&reserve_script());
        let mut invocation = script.key(all);
        invocation.key(mine).arg(member).arg(millis(ttl)).arg(bounds.all).arg(bounds.per_caller);
        match call(invocation.invoke_async::<i64>(&mut conn)).await? {
            -1 => Err(StoreError::Full { kind, scope: Scope::All, max: bounds.all }),
            -2 => Err(StoreError::Full { kind, scope: Scope::Caller, max: bounds.per_caller }),
            _ => Ok(()),
        }
    }

    async fn release(&self, kind: Kind, caller: &str, member: &str) -> Result<()> {
        let (all, mine) = self.slot_keys(kind, caller);
        let mut conn = self.conn().await?;
        let mut pipe = redis::pipe();
        pipe.atomic().zrem(all, member).ignore().zrem(mine, member).ignore();
        call(pipe.query_async::<()>(&mut conn)).await
    }

    async fn first_time(&self, mark: &str, window: Duration) -> Result<bool> {
        let mut conn = self.conn().await?;
        let set: Option<String> = call(
            redis::cmd("SET")
                .arg(self.key(&format!("once:{mark}")))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis(window))
                .query_async(&mut conn),
        )
        .await?;
        Ok(set.is_some())
    }

    fn mcp(&self) -> &dyn McpSessions {
        &self.mcp
    }
}

struct RedisMcp {
    pool: Pool,
    prefix: String,
}

impl RedisMcp {
    fn key(&self, id: &str) -> String {
        format!("{}:mcp:{id}", self.prefix)
    }

    async fn get(&self, id: &str, field: &str) -> Result<Option<String>> {
        let mut conn = connection(&self.pool).await?;
        call(conn.hget(self.key(id), field)).await
    }

    async fn set(&self, id: &str, field: &str, value: &str, ttl: Duration) -> Result<()> {
        let mut conn = connection(&self.pool).await?;
        let mut pipe = redis::pipe();
        pipe.atomic().hset(self.key(id), field, value).ignore().pexpire(self.key(id), millis(ttl) as i64).ignore();
        call(pipe.query_async::<()>(&mut conn)).await
    }
}

#[async_trait::async_trait]
impl McpSessions for RedisMcp {
    async fn owner(&self, id: &str) -> Result<Option<String>> {
        self.get(id, "owner").await
    }

    async fn set_owner(&self, id: &str, caller: &str, ttl: Duration) -> Result<()> {
        self.set(id, "owner", caller, ttl).await
    }

    async fn state(&self, id: &str) -> Result<Option<String>> {
        self.get(id, "state").await
    }

    async fn set_state(&self, id: &str, state: &str, ttl: Duration) -> Result<()> {
        self.set(id, "state", state, ttl).await
    }

    async fn forget(&self, id: &str) -> Result<()> {
        let mut conn = connection(&self.pool).await?;
        call(conn.del::<_, ()>(self.key(id))).await
    }
}
