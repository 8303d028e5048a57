//! Session logs in sled: one tree of versioned, append-only event records per session,
//! flushed on every append, and the session index.

use std::path::{Path, PathBuf};

use super::{BlobStore, StoreError};
use crate::domain::{Event, EventEnvelope, SessionState, EVENT_VERSION};

/// The sled database: one tree per session log, a session index, and the cache index.
pub struct Store {
    db: sled::Db,
    index: sled::Tree,
    pub(super) cache: sled::Tree,
    pub blobs: BlobStore,
    path: PathBuf,
}

/// A stored session: its folded state, or why it cannot be read.
pub struct StoredSession {
    pub id: String,
    pub state: Result<SessionState, StoreError>,
}

/// Sortable, short, human-typable: `20261122-031522-a1b2c3`.
pub fn new_session_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_else(|_| crate::domain::now_ms().to_string());
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("{stamp}-{}", &rand[..6])
}

fn is_lock_error(e: &sled::Error) -> bool {
    match e {
        sled::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::WouldBlock
                || io.raw_os_error() == Some(11)
                || io.to_string().to_lowercase().contains("lock")
        }
        _ => false,
    }
}

fn log_tree_name(session: &str) -> String {
    format!("log/{session}")
}

impl Store {
    /// Open (or create) the store under `data_dir`. Fails fast, with a clear message,
    /// when another admint holds it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("store.sled");
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Open {
            path: data_dir.display().to_string(),
            message: e.to_string(),
        })?;
        let db = sled::Config::new().path(&path).open().map_err(|e| {
            if is_lock_error(&e) {
                StoreError::Locked { path: path.display().to_string() }
            } else {
                StoreError::Open { path: path.display().to_string(), message: e.to_string() }
            }
        })?;
        Ok(Store {
            index: db.open_tree("sessions")?,
            cache: db.open_tree("cache")?,
            blobs: BlobStore::open(data_dir)?,
            db,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn session_exists(&self, session: &str) -> Result<bool, StoreError> {
        Ok(self.index.contains_key(session.as_bytes())?)
    }

    /// Append one event to a session's log and flush it to disk before returning.
    pub fn append(&self, session: &str, event: Event) -> Result<EventEnvelope, StoreError> {
        let created = matches!(event, Event::SessionCreated { .. });
        if !created && !self.session_exists(session)? {
            return Err(StoreError::NoSuchSession(session.to_string()));
        }
        let tree = self.db.open_tree(log_tree_name(session))?;
        let seq = match tree.last()? {
            Some((k, _)) => u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8])) + 1,
            None => 1,
        };
        if created && seq != 1 {
            return Err(StoreError::Open {
                path: self.path.display().to_string(),
                message: format!("session {session} already exists"),
            });
        }
        let env = EventEnvelope { v: EVENT_VERSION, seq, at_ms: crate::domain::now_ms(), event };
        let bytes = serde_json::to_vec(&env).map_err(|e| StoreError::Corrupt {
            session: session.to_string(),
            seq,
            message: e.to_string(),
        })?;
        tree.insert(seq.to_be_bytes(), bytes)?;
        if created {
            self.index.insert(session.as_bytes(), &env.at_ms.to_be_bytes())?;
        }
        self.db.flush()?;
        Ok(env)
    }

    /// Every event of a session, in order. A corrupt or too-new record is an error naming
    /// the session and the record.
    pub fn events(&self, session: &str) -> Result<Vec<EventEnvelope>, StoreError> {
        if !self.session_exists(session)? {
            return Err(StoreError::NoSuchSession(session.to_string()));
        }
        let tree = self.db.open_tree(log_tree_name(session))?;
        let mut out = Vec::with_capacity(tree.len());
        for item in tree.iter() {
            let (k, v) = item?;
            let seq = k.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            let raw: serde_json::Value = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                session: session.to_string(),
                seq,
                message: e.to_string(),
            })?;
            let version = raw.get("v").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            if version > EVENT_VERSION {
                return Err(StoreError::UnsupportedVersion {
                    session: session.to_string(),
                    seq,
                    version,
                    supported: EVENT_VERSION,
                });
            }
            let env: EventEnvelope = serde_json::from_value(raw).map_err(|e| StoreError::Corrupt {
                session: session.to_string(),
                seq,
                message: e.to_string(),
            })?;
            out.push(env);
        }
        match out.first() {
            Some(EventEnvelope { event: Event::SessionCreated { .. }, .. }) => Ok(out),
            _ => Err(StoreError::MissingHeader { session: session.to_string() }),
        }
    }

    pub fn load(&self, session: &str) -> Result<SessionState, StoreError> {
        Ok(SessionState::fold(&self.events(session)?))
    }

    /// Session ids, newest first.
    pub fn session_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for item in self.index.iter() {
            let (k, _) = item?;
            ids.push(String::from_utf8_lossy(&k).into_owned());
        }
        ids.sort();
        ids.reverse();
        Ok(ids)
    }

    /// Every session, each folded on its own: one unreadable session does not hide the others.
    pub fn sessions(&self) -> Result<Vec<StoredSession>, StoreError> {
        Ok(self
            .session_ids()?
            .into_iter()
            .map(|id| StoredSession { state: self.load(&id), id })
            .collect())
    }

    pub fn remove_session(&self, session: &str) -> Result<(), StoreError> {
        if !self.session_exists(session)? {
            return Err(StoreError::NoSuchSession(session.to_string()));
        }
        self.db.drop_tree(log_tree_name(session))?;
        self.index.remove(session.as_bytes())?;
        self.db.flush()?;
        Ok(())
    }

    /// Test and repair hook: write raw bytes as a log record.
    #[doc(hidden)]
    pub fn put_raw_record(&self, session: &str, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let tree = self.db.open_tree(log_tree_name(session))?;
        tree.insert(seq.to_be_bytes(), bytes)?;
        self.db.flush()?;
        Ok(())
    }
}
