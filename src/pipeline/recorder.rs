//! The single writer of a session: append the event, flush it, fold it into the state,
//! then broadcast it. Nothing the user has seen can be lost by a crash.

use std::sync::Arc;
use tokio::sync::{broadcast, Mutex};

use crate::domain::{Event, EventEnvelope, SessionState};
use crate::store::{Store, StoreError};

/// What front ends hear about a run. (Events dominate the traffic; boxing them would
/// only add an allocation per message.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Update {
    /// A persisted event.
    Event { session: String, envelope: EventEnvelope },
    /// Live progress of one task (not persisted; sampled by front ends).
    Progress { session: String, task: super::Task, fraction: f32 },
    /// A human-readable note (e.g. "clip 3 served from cache").
    Note { session: String, text: String },
    /// The run waits for the user at a gate (sent after every event before it).
    Waiting { session: String, gate: super::Gate },
    /// The run ended (after every event it recorded): done, paused, or failed.
    Finished { session: String, result: Result<super::RunOutcome, String> },
}

pub struct Recorder {
    store: Arc<Store>,
    session: String,
    state: Mutex<SessionState>,
    tx: broadcast::Sender<Update>,
}

impl Recorder {
    pub fn new(store: Arc<Store>, state: SessionState, tx: broadcast::Sender<Update>) -> Recorder {
        Recorder { session: state.id.clone(), store, state: Mutex::new(state), tx }
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub async fn state(&self) -> SessionState {
        self.state.lock().await.clone()
    }

    /// Persist (and flush) an event, apply it, then tell listeners.
    pub async fn record(&self, event: Event) -> Result<EventEnvelope, StoreError> {
        let mut state = self.state.lock().await;
        let store = self.store.clone();
        let session = self.session.clone();
        let env = tokio::task::spawn_blocking(move || store.append(&session, event))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))??;
        state.apply(&env);
        drop(state);
        let _ = self.tx.send(Update::Event { session: self.session.clone(), envelope: env.clone() });
        Ok(env)
    }

    pub fn progress(&self, task: super::Task, fraction: f32) {
        let _ = self.tx.send(Update::Progress { session: self.session.clone(), task, fraction });
    }

    pub fn note(&self, text: impl Into<String>) {
        let _ = self.tx.send(Update::Note { session: self.session.clone(), text: text.into() });
    }
}
