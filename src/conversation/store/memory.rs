//! The in-process store (the default): everything in maps under one mutex, expiry by the clock.
//! It holds for one process only: a restart forgets every conversation, and replicas do not
//! share it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Bounds, Key, Kind, Lock, McpSessions, Record, Result, Scope, Store, StoreError};

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    /// Per-conversation locks; a waiter queues on the tokio mutex (first come, first served).
    locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    held: Mutex<HashMap<String, tokio::sync::OwnedMutexGuard<()>>>,
    mcp: MemoryMcp,
}

#[derive(Default)]
struct Inner {
    records: HashMap<Key, (Record, Instant)>,
    /// (kind, member) -> (caller, expiry)
    slots: HashMap<(Kind, String), (String, Instant)>,
    marks: HashMap<String, Instant>,
}

impl Inner {
    fn purge(&mut self, now: Instant) {
        self.records.retain(|_, (_, expiry)| *expiry > now);
        self.slots.retain(|_, (_, expiry)| *expiry > now);
        self.marks.retain(|_, expiry| *expiry > now);
    }

    fn take_slot(&mut self, kind: Kind, caller: &str, member: &str, bounds: Bounds, ttl: Duration) -> Result<()> {
        let now = Instant::now();
        self.purge(now);
        let slot = (kind, member.to_owned());
        if !self.slots.contains_key(&slot) {
            let held = self.slots.iter().filter(|((k, _), _)| *k == kind);
            let (all, mine) = held.fold((0, 0), |(all, mine), (_, (c, _))| (all + 1, mine + usize::from(c == caller)));
            if all >= bounds.all {
                return Err(StoreError::Full { kind, scope: Scope::All, max: bounds.all });
            }
            if mine >= bounds.per_caller {
                return Err(StoreError::Full { kind, scope: Scope::Caller, max: bounds.per_caller });
            }
        }
        self.slots.insert(slot, (caller.to_owned(), now + ttl));
        Ok(())
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn lock(&self, key: &Key) -> Result<Lock> {
        let mutex = self.locks.lock().expect("locks").entry(key.clone()).or_default().clone();
        let guard = tokio::time::timeout(super::LOCK_WAIT, mutex.lock_owned()).await.map_err(|_| StoreError::Busy)?;
        let lock = Lock::new();
        self.held.lock().expect("held locks").insert(lock.token.clone(), guard);
        Ok(lock)
    }

    async fn unlock(&self, key: &Key, lock: Lock) {
        drop(self.held.lock().expect("held locks").remove(&lock.token));
        // Forget the mutex when nobody else holds or waits for it.
        let mut locks = self.locks.lock().expect("locks");
        if locks.get(key).is_some_and(|m| Arc::strong_count(m) == 1) {
            locks.remove(key);
        }
    }

    async fn load(&self, key: &Key) -> Result<Option<Record>> {
        let mut inner = self.inner.lock().expect("store");
        inner.purge(Instant::now());
        Ok(inner.records.get(key).map(|(record, _)| record.clone()))
    }

    async fn save(&self, key: &Key, caller: &str, expected: u64, state: &str, ttl: Duration) -> Result<u64> {
        let mut inner = self.inner.lock().expect("store");
        let now = Instant::now();
        inner.purge(now);
        if inner.records.get(key).map_or(0, |(r, _)| r.revision) != expected {
            return Err(StoreError::Conflict);
        }
        let revision = expected + 1;
        inner.records.insert(key.clone(), (Record { revision, state: state.to_owned() }, now + ttl));
        inner.slots.insert((Kind::Conversation, key.digest()), (caller.to_owned(), now + ttl));
        Ok(revision)
    }

    async fn remove(&self, key: &Key, _caller: &str, expected: u64) -> Result<()> {
        let mut inner = self.inner.lock().expect("store");
        inner.purge(Instant::now());
        if inner.records.get(key).map_or(0, |(r, _)| r.revision) != expected {
            return Err(StoreError::Conflict);
        }
        inner.records.remove(key);
        inner.slots.remove(&(Kind::Conversation, key.digest()));
        Ok(())
    }

    async fn reserve(&self, kind: Kind, caller: &str, member: &str, bounds: Bounds, ttl: Duration) -> Result<()> {
        self.inner.lock().expect("store").take_slot(kind, caller, member, bounds, ttl)
    }

    async fn release(&self, kind: Kind, _caller: &str, member: &str) -> Result<()> {
        self.inner.lock().expect("store").slots.remove(&(kind, member.to_owned()));
        Ok(())
    }

    async fn first_time(&self, mark: &str, window: Duration) -> Result<bool> {
        let mut inner = self.inner.lock().expect("store");
        let now = Instant::now();
        inner.purge(now);
        Ok(inner.marks.insert(mark.to_owned(), now + window).is_none())
    }

    fn mcp(&self) -> &dyn McpSessions {
        &self.mcp
    }
}

/// Session id -> (owner, state, expiry).
type Sessions = HashMap<String, (Option<String>, Option<String>, Instant)>;

#[derive(Default)]
struct MemoryMcp {
    sessions: Mutex<Sessions>,
}

impl MemoryMcp {
    fn with<T>(&self, f: impl FnOnce(&mut Sessions) -> T) -> T {
        let mut sessions = self.sessions.lock().expect("mcp sessions");
        let now = Instant::now();
        sessions.retain(|_, (_, _, expiry)| *expiry > now);
        f(&mut sessions)
    }
}

#[async_trait::async_trait]
impl McpSessions for MemoryMcp {
    async fn owner(&self, id: &str) -> Result<Option<String>> {
        Ok(self.with(|s| s.get(id).and_then(|(owner, _, _)| owner.clone())))
    }

    async fn set_owner(&self, id: &str, caller: &str, ttl: Duration) -> Result<()> {
        self.with(|s| {
            let entry = s.entry(id.to_owned()).or_insert((None, None, Instant::now()));
            entry.0 = Some(caller.to_owned());
            entry.2 = Instant::now() + ttl;
        });
        Ok(())
    }

    async fn state(&self, id: &str) -> Result<Option<String>> {
        Ok(self.with(|s| s.get(id).and_then(|(_, state, _)| state.clone())))
    }

    async fn set_state(&self, id: &str, state: &str, ttl: Duration) -> Result<()> {
        self.with(|s| {
            let entry = s.entry(id.to_owned()).or_insert((None, None, Instant::now()));
            entry.1 = Some(state.to_owned());
            entry.2 = Instant::now() + ttl;
        });
        Ok(())
    }

    async fn forget(&self, id: &str) -> Result<()> {
        self.with(|s| s.remove(id));
        Ok(())
    }
}
