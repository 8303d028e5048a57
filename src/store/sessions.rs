//! Session logs: one tree of versioned, append-only event records per session in sled,
//! each record first written to the session's journal; reads merge the two copies.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::journal::{self, Journal};
use super::recover::{merge, Finding, Merged, SledLog};
use super::{BlobStore, StoreError};
use crate::domain::{Event, EventEnvelope, SessionState, EVENT_VERSION};

/// The sled database's handles.
pub(super) struct Db {
    pub(super) db: sled::Db,
    index: sled::Tree,
    pub(super) cache: sled::Tree,
}

/// The store: the sled database (one tree per session log, a session index, the cache
/// index), the journal beside it (the same records, fsync'd first), and the blob files.
/// When sled cannot open the database, the store still opens: sessions are read from
/// their journals and every write is refused until `admint store repair`.
pub struct Store {
    sled: Result<Db, String>,
    pub(super) journal: Journal,
    pub blobs: BlobStore,
    path: PathBuf,
    /// Sessions whose two copies this process has reconciled, with their last sequence
    /// number (this process holds sled's lock, so nobody else appends meanwhile).
    last: Mutex<HashMap<String, u64>>,
}

/// A stored session: its folded state, or why it cannot be read, and what is wrong with
/// either copy of its log.
pub struct StoredSession {
    pub id: String,
    pub state: Result<SessionState, StoreError>,
    pub findings: Vec<Finding>,
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

/// Open sled, turning a panic on a damaged file into an error.
fn open_sled(path: &Path) -> Result<Db, sled::Error> {
    let opened = std::panic::catch_unwind(|| sled::Config::new().path(path).open());
    let db = match opened {
        Ok(r) => r?,
        Err(p) => {
            let why = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            return Err(sled::Error::ReportableBug(format!("sled stopped reading it: {why}")));
        }
    };
    Ok(Db { index: db.open_tree("sessions")?, cache: db.open_tree("cache")?, db })
}

/// Decode one record into an event, checking its schema version.
fn decode(session: &str, seq: u64, record: &[u8]) -> Result<EventEnvelope, StoreError> {
    let too_new = |version: u32| StoreError::UnsupportedVersion { session: session.to_string(), seq, version, supported: EVENT_VERSION };
    match serde_json::from_slice::<EventEnvelope>(record) {
        Ok(env) if env.v > EVENT_VERSION => Err(too_new(env.v)),
        Ok(env) => Ok(env),
        // Say why: a newer admint's record, or damage.
        Err(e) => match serde_json::from_slice::<serde_json::Value>(record).ok().and_then(|raw| raw.get("v")?.as_u64()) {
            Some(v) if v as u32 > EVENT_VERSION => Err(too_new(v as u32)),
            _ => Err(StoreError::Corrupt { session: session.to_string(), seq, message: e.to_string() }),
        },
    }
}

impl Store {
    /// Open (or create) the store under `data_dir`. Fails fast, with a clear message,
    /// when another admint holds it. A database sled cannot read opens damaged (see
    /// [`Store::damage`]) rather than failing: the journals still hold every session.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("store.sled");
        let open_err = |e: std::io::Error| StoreError::Open { path: data_dir.display().to_string(), message: e.to_string() };
        std::fs::create_dir_all(data_dir).map_err(open_err)?;
        let journal = Journal::open(data_dir).map_err(open_err)?;
        // A lock held a moment longer (a process just exiting, sled's flusher thread
        // letting go after a drop) is waited out for up to 1.5 s; a real holder is
        // reported then, not waited for.
        let mut opened = open_sled(&path);
        for _ in 0..15 {
            match &opened {
                Err(e) if is_lock_error(e) => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    opened = open_sled(&path);
                }
                _ => break,
            }
        }
        let sled = match opened {
            Ok(db) => Ok(db),
            Err(e) if is_lock_error(&e) => return Err(StoreError::Locked { path: path.display().to_string() }),
            Err(e) => {
                // sled's corruption error carries an (empty) backtrace in its text.
                let why = e.to_string().split(" backtrace").next().unwrap_or_default().to_string();
                tracing::error!("the database at {} did not open: {why}; reading sessions from their journals", path.display());
                Err(why)
            }
        };
        Ok(Store { sled, journal, blobs: BlobStore::open(data_dir)?, path, last: Mutex::new(HashMap::new()) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why the database could not be opened, when it could not.
    pub fn damage(&self) -> Option<&str> {
        self.sled.as_ref().err().map(String::as_str)
    }

    pub(super) fn db(&self) -> Result<&Db, StoreError> {
        self.sled.as_ref().map_err(|m| StoreError::Damaged { path: self.path.display().to_string(), message: m.clone() })
    }

    pub fn session_exists(&self, session: &str) -> Result<bool, StoreError> {
        if self.journal.exists(session) {
            return Ok(true);
        }
        match &self.sled {
            Ok(db) => Ok(db.index.contains_key(session.as_bytes())?),
            Err(_) => Ok(false),
        }
    }

    /// Append one event to a session's log: written to the session's journal and fsync'd,
    /// then to sled and flushed, before returning.
    pub fn append(&self, session: &str, event: Event) -> Result<EventEnvelope, StoreError> {
        let db = self.db()?;
        let created = matches!(event, Event::SessionCreated { .. });
        if !journal::valid_id(session) {
            return Err(if created {
                StoreError::Open { path: self.path.display().to_string(), message: format!("{session:?} is not a session id") }
            } else {
                StoreError::NoSuchSession(session.to_string())
            });
        }
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let prev = match (last.get(session), created) {
            (Some(&n), _) => n,
            (None, true) => 0,
            (None, false) if self.session_exists(session)? => self.reconcile(db, session)?,
            (None, false) => return Err(StoreError::NoSuchSession(session.to_string())),
        };
        if created && (prev != 0 || self.session_exists(session)?) {
            return Err(StoreError::Open { path: self.path.display().to_string(), message: format!("session {session} already exists") });
        }
        let seq = prev + 1;
        let env = EventEnvelope { v: EVENT_VERSION, seq, at_ms: crate::domain::now_ms(), event };
        let bytes = serde_json::to_vec(&env).map_err(|e| StoreError::Corrupt { session: session.to_string(), seq, message: e.to_string() })?;
        self.journal.append(session, &bytes)?;
        let tree = db.db.open_tree(log_tree_name(session))?;
        tree.insert(seq.to_be_bytes(), bytes)?;
        if created {
            db.index.insert(session.as_bytes(), &env.at_ms.to_be_bytes())?;
        }
        db.db.flush()?;
        last.insert(session.to_string(), seq);
        Ok(env)
    }

    /// What sled holds for a session's log.
    fn sled_log(&self, session: &str) -> SledLog {
        let db = match &self.sled {
            Ok(db) => db,
            Err(_) => return SledLog::Unreadable("it does not open".into()),
        };
        let name = log_tree_name(session);
        let read = || -> Result<BTreeMap<u64, Vec<u8>>, sled::Error> {
            if !db.db.tree_names().iter().any(|n| n.as_ref() == name.as_bytes()) {
                return Ok(BTreeMap::new());
            }
            let mut out = BTreeMap::new();
            for item in db.db.open_tree(&name)?.iter() {
                let (k, v) = item?;
                if let Ok(k) = <[u8; 8]>::try_from(k.as_ref()) {
                    out.insert(u64::from_be_bytes(k), v.to_vec());
                }
            }
            Ok(out)
        };
        match read() {
            Ok(records) => SledLog::Records(records),
            Err(e) => SledLog::Unreadable(e.to_string()),
        }
    }

    /// A session's log read from both copies (see [`merge`]).
    pub fn merged(&self, session: &str) -> Result<Merged, StoreError> {
        let journal = self.journal.read(session)?;
        Ok(merge(&self.sled_log(session), journal.as_ref()))
    }

    /// Make both copies of a session hold what [`Store::merged`] reads, and return its last
    /// sequence number. Refuses (naming them) when events were lost: `store repair` is
    /// the user's explicit word to go on without them.
    fn reconcile(&self, db: &Db, session: &str) -> Result<u64, StoreError> {
        let merged = self.merged(session)?;
        if let Some(lost) = merged.findings.iter().find(|f| f.loses_events()) {
            return Err(StoreError::Damaged {
                path: self.path.display().to_string(),
                message: format!("session {session}: {lost}; `admint store repair` keeps the events before them"),
            });
        }
        self.write_both(db, session, &merged)?;
        Ok(merged.records.len() as u64)
    }

    /// Rewrite whichever copy of a session disagrees with `merged`.
    pub(super) fn write_both(&self, db: &Db, session: &str, merged: &Merged) -> Result<(), StoreError> {
        if merged.journal_needs_rewrite() {
            tracing::warn!("session {session}: rewriting its journal ({:?})", merged.findings);
            self.journal.rewrite(session, &merged.records)?;
        }
        if merged.database_needs_rewrite() {
            tracing::warn!("session {session}: rewriting its database log ({:?})", merged.findings);
            let name = log_tree_name(session);
            let _ = db.db.drop_tree(name.as_bytes());
            let tree = db.db.open_tree(&name)?;
            for (i, r) in merged.records.iter().enumerate() {
                tree.insert((i as u64 + 1).to_be_bytes(), r.as_slice())?;
            }
            if !db.index.contains_key(session.as_bytes())? {
                let at = merged.records.first().and_then(|r| decode(session, 1, r).ok()).map_or(0, |e| e.at_ms);
                db.index.insert(session.as_bytes(), &at.to_be_bytes())?;
            }
            db.db.flush()?;
        }
        Ok(())
    }

    /// Every event of a session that either copy holds whole, in order, with what is
    /// wrong with either copy. A record that does not decode, or is too new, is an error
    /// naming the session and the record.
    pub fn read_session(&self, session: &str) -> Result<(Vec<EventEnvelope>, Vec<Finding>), StoreError> {
        if !self.session_exists(session)? {
            return Err(StoreError::NoSuchSession(session.to_string()));
        }
        let merged = self.merged(session)?;
        let events = merged.records.iter().enumerate().map(|(i, r)| decode(session, i as u64 + 1, r)).collect::<Result<Vec<_>, _>>()?;
        match events.first() {
            Some(EventEnvelope { event: Event::SessionCreated { .. }, .. }) => Ok((events, merged.findings)),
            _ => Err(StoreError::MissingHeader { session: session.to_string() }),
        }
    }

    /// Every event of a session, in order (see [`Store::read_session`]).
    pub fn events(&self, session: &str) -> Result<Vec<EventEnvelope>, StoreError> {
        let (events, findings) = self.read_session(session)?;
        for f in findings.iter().filter(|f| f.is_damage()) {
            tracing::warn!("session {session}: {f}");
        }
        Ok(events)
    }

    pub fn load(&self, session: &str) -> Result<SessionState, StoreError> {
        Ok(SessionState::fold(&self.events(session)?))
    }

    /// Session ids, newest first: those in the database's index and those with a journal.
    pub fn session_ids(&self) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self.journal.sessions()?;
        if let Ok(db) = &self.sled {
            for item in db.index.iter() {
                let (k, _) = item?;
                ids.push(String::from_utf8_lossy(&k).into_owned());
            }
        }
        ids.sort();
        ids.dedup();
        ids.reverse();
        Ok(ids)
    }

    /// Every session, each read on its own: one unreadable session does not hide the others.
    pub fn sessions(&self) -> Result<Vec<StoredSession>, StoreError> {
        Ok(self
            .session_ids()?
            .into_iter()
            .map(|id| match self.read_session(&id) {
                Ok((events, findings)) => StoredSession { state: Ok(SessionState::fold(&events)), findings, id },
                Err(e) => StoredSession { state: Err(e), findings: Vec::new(), id },
            })
            .collect())
    }

    pub fn remove_session(&self, session: &str) -> Result<(), StoreError> {
        let db = self.db()?;
        if !self.session_exists(session)? {
            return Err(StoreError::NoSuchSession(session.to_string()));
        }
        self.journal.remove(session)?;
        db.db.drop_tree(log_tree_name(session))?;
        db.index.remove(session.as_bytes())?;
        db.db.flush()?;
        self.last.lock().unwrap_or_else(|p| p.into_inner()).remove(session);
        Ok(())
    }

    /// Test hook: write raw bytes as a database log record (the journal is untouched).
    #[doc(hidden)]
    pub fn put_raw_record(&self, session: &str, seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let db = self.db()?;
        let tree = db.db.open_tree(log_tree_name(session))?;
        tree.insert(seq.to_be_bytes(), bytes)?;
        db.db.flush()?;
        Ok(())
    }

    /// Test hook: append raw bytes to a session's journal as a whole line.
    #[doc(hidden)]
    pub fn put_raw_journal_record(&self, session: &str, bytes: &[u8]) -> Result<(), StoreError> {
        Ok(self.journal.append(session, bytes)?)
    }
}
