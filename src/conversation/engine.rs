//! [`Engine`]: one message of a conversation, against the [`store`](super::store).
//!
//! A message takes the conversation's lock (messages of one conversation take turns, also across
//! replicas), loads its state, runs the turn on a blocking thread (it may run the pipeline),
//! then saves the new state at the revision it read, or removes it when the conversation is over.
//! A new conversation first reserves its slot (the bounds, in all and per caller), atomically.
//!
//! One apply per confirmation: a confirmed plan is first saved as `Applying` (at the revision
//! read, so only one of two racing confirmations can get there), and only then run; a
//! conversation found `Applying` is never run again. A store that fails before that point means
//! nothing was done (503); once the run has started, its result is returned even if the store
//! fails afterwards.

use std::sync::Arc;

use super::store::{Key, Kind, Store, StoreError};
use super::{Conversation, Core, Input, Limits, Next, Pending, Refusal, Step, Turn, finish};
use crate::registry::Registry;
use crate::trigger::Lang;

/// The conversation engine, shared by every transport.
pub struct Engine {
    core: Arc<Core>,
    store: Arc<dyn Store>,
    limits: Limits,
    /// Turn computations at once (each may run the pipeline on a blocking thread); taken after
    /// the conversation's lock, so a message waiting for its lock holds no place here.
    runs: tokio::sync::Semaphore,
}

impl Engine {
    /// An engine keeping conversations in this process.
    pub fn new(registry: Arc<Registry>, limits: Limits) -> Self {
        Self::with_store(registry, limits, Arc::new(super::store::MemoryStore::default()))
    }

    pub fn with_store(registry: Arc<Registry>, limits: Limits, store: Arc<dyn Store>) -> Self {
        let parallel = std::thread::available_parallelism().map_or(4, |n| n.get()).max(2);
        let runs = tokio::sync::Semaphore::new(parallel * 2);
        Engine { core: Arc::new(Core { registry, roots: Arc::default() }), store, limits, runs }
    }

    /// Projects must lie under one of `roots`.
    pub fn with_roots(mut self, roots: Arc<crate::locate::Roots>) -> Self {
        self.core = Arc::new(Core { registry: self.core.registry.clone(), roots });
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one message of conversation `id` of `owner`, who speaks for `caller` (the credential
    /// whose share of the bounds it uses). `lang` overrides the language the text is written in.
    pub async fn message(
        &self,
        caller: &str,
        owner: &str,
        id: &str,
        input: Input,
        lang: Option<Lang>,
    ) -> Result<Turn, Refusal> {
        if let Input::Text(text) = &input
            && text.len() > self.limits.max_text_bytes
        {
            return Err(Refusal::TooLong { max: self.limits.max_text_bytes });
        }
        let key = Key::new(owner, id);
        let lock = self.store.lock(&key).await.map_err(refusal)?;
        let result = self.locked(&key, caller, input, lang).await;
        self.store.unlock(&key, lock).await;
        if let Ok(turn) = &result {
            tracing::debug!(conversation = %id, step = ?turn.step, "chat turn");
        }
        result
    }

    async fn locked(&self, key: &Key, caller: &str, input: Input, lang: Option<Lang>) -> Result<Turn, Refusal> {
        let Some(record) = self.store.load(key).await.map_err(refusal)? else {
            return self.start(key, caller, input, lang).await;
        };
        let ttl = self.limits.ttl;
        let mut conversation: Conversation = match serde_json::from_str(&record.state) {
            Ok(c) => c,
            Err(e) => {
                // Written by another version, or damaged: forget it and start again.
                tracing::warn!(error = %e, "forgetting a conversation whose state cannot be read");
                self.store.remove(key, caller, record.revision).await.map_err(refusal)?;
                return self.start(key, caller, input, lang).await;
            }
        };
        if conversation.pending == Pending::Applying {
            // Another turn took the confirmation and started the run (it may still be running on
            // a replica whose lease lapsed, or have died part-way): never run it twice.
            self.store.remove(key, caller, record.revision).await.map_err(refusal)?;
            return Ok(finish(&conversation, &key.id, Step::Done, |say| say.already_applying()));
        }
        let core = self.core.clone();
        let id = key.id.clone();
        let (next, mut conversation) = self
            .blocking(move || {
                let next = match input {
                    Input::Text(text) => core.continue_with(&mut conversation, &id, &text, lang),
                    Input::Press { revision, .. } if revision != record.revision => {
                        Next::Turn(super::stale(&conversation, &id))
                    }
                    Input::Press { action, .. } => core.press(&mut conversation, &id, action),
                };
                (next, conversation)
            })
            .await?;
        match next {
            Next::Turn(mut turn) => {
                let state = serde_json::to_string(&conversation).expect("a conversation serializes");
                if turn.step.ongoing() && state == record.state {
                    // Nothing changed (a re-asked question, a stale press): the plan on offer
                    // keeps its revision, so its buttons still work.
                    turn.revision = record.revision;
                    return Ok(turn);
                }
                self.keep(key, caller, record.revision, &conversation, turn).await
            }
            Next::Apply => {
                let confirming = serde_json::to_string(&conversation).expect("a conversation serializes");
                conversation.pending = Pending::Applying;
                let state = serde_json::to_string(&conversation).expect("a conversation serializes");
                let revision = match self.store.save(key, caller, record.revision, &state, ttl).await {
                    Ok(revision) => revision,
                    Err(e) => {
                        // Nothing was run. A save that timed out may still land: put the plan back
                        // on offer if it did (a no-op if it did not), so "yes" can be said again.
                        let _ = self.store.save(key, caller, record.revision + 1, &confirming, ttl).await;
                        return Err(refusal(e));
                    }
                };
                let core = self.core.clone();
                let id = key.id.clone();
                let (turn, conversation) = self
                    .blocking(move || {
                        let turn = core.apply(&mut conversation, &id);
                        (turn, conversation)
                    })
                    .await?;
                // The run happened: its result is the answer, whatever the store says now.
                match self.keep(key, caller, revision, &conversation, turn.clone()).await {
                    Ok(turn) => Ok(turn),
                    Err(refused) => {
                        tracing::warn!(?refused, "the run finished but its conversation could not be updated");
                        Ok(turn)
                    }
                }
            }
        }
    }

    /// No conversation in progress: begin one if the text asks for a skill.
    async fn start(&self, key: &Key, caller: &str, input: Input, lang: Option<Lang>) -> Result<Turn, Refusal> {
        let text = match input {
            Input::Text(text) => text,
            Input::Press { .. } => return Ok(nothing_to_press(&key.id, lang.unwrap_or(Lang::En))),
        };
        let member = key.digest();
        self.store
            .reserve(Kind::Conversation, caller, &member, self.limits.bounds(), super::store::RESERVATION)
            .await
            .map_err(refusal)?;
        let core = self.core.clone();
        let id = key.id.clone();
        let started = self.blocking(move || core.start(&id, &text, lang)).await;
        let saved = match started {
            Ok((mut turn, Some(conversation))) => {
                let state = serde_json::to_string(&conversation).expect("a conversation serializes");
                self.store.save(key, caller, 0, &state, self.limits.ttl).await.map(|revision| {
                    tracing::info!(conversation = %key.id, skill = %conversation.skill, "conversation started");
                    turn.revision = revision;
                    turn
                })
            }
            Ok((turn, None)) => {
                self.release(caller, &member).await;
                return Ok(turn);
            }
            Err(refused) => {
                self.release(caller, &member).await;
                return Err(refused);
            }
        };
        saved.map_err(|e| {
            let refused = refusal(e);
            let store = self.store.clone();
            let caller = caller.to_owned();
            tokio::spawn(async move { store.release(Kind::Conversation, &caller, &member).await });
            refused
        })
    }

    /// Saves a conversation that goes on at the revision after `revision`, or removes one that is over.
    async fn keep(
        &self,
        key: &Key,
        caller: &str,
        revision: u64,
        conversation: &Conversation,
        mut turn: Turn,
    ) -> Result<Turn, Refusal> {
        if turn.step.ongoing() {
            let state = serde_json::to_string(conversation).expect("a conversation serializes");
            turn.revision = self.store.save(key, caller, revision, &state, self.limits.ttl).await.map_err(refusal)?;
        } else {
            self.store.remove(key, caller, revision).await.map_err(refusal)?;
        }
        Ok(turn)
    }

    /// Runs `f` (which may run the pipeline) on a blocking thread, when a place is free.
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Refusal> {
        let _permit = self.runs.acquire().await.map_err(|_| Refusal::Busy)?;
        tokio::task::spawn_blocking(f).await.map_err(|e| {
            tracing::error!(error = %e, "a conversation turn stopped unexpectedly");
            Refusal::Busy
        })
    }

    async fn release(&self, caller: &str, member: &str) {
        if let Err(e) = self.store.release(Kind::Conversation, caller, member).await {
            tracing::warn!(error = %e, "cannot release a conversation slot; it lapses by itself");
        }
    }
}

/// A button pressed when no conversation is in progress (it ended, expired, or never was).
fn nothing_to_press(id: &str, lang: Lang) -> Turn {
    Turn {
        conversation: id.to_owned(),
        lang,
        step: Step::Idle,
        skill: None,
        field: None,
        reply: crate::messages::of(lang).nothing_to_press(),
        report: None,
        revision: 0,
    }
}

fn refusal(e: StoreError) -> Refusal {
    match e {
        StoreError::Unavailable(why) => {
            tracing::error!(why, "conversation store unavailable");
            Refusal::Unavailable
        }
        StoreError::Busy | StoreError::Conflict => Refusal::Busy,
        StoreError::Full { max, scope, .. } => Refusal::TooMany { max, scope },
    }
}
