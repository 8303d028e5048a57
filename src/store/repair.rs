//! `admint store check` and `admint store repair`: compare every session's two copies (the
//! sled log and the journal), and make both whole again — rebuilding a database sled can
//! no longer open from the journals, with the damaged one kept aside.

use std::path::{Path, PathBuf};

use super::{Finding, Store, StoreError};

/// One session as `check` found it.
#[derive(Debug, Clone)]
pub struct SessionCheck {
    pub id: String,
    /// Events that can be read (from either copy).
    pub events: usize,
    pub findings: Vec<Finding>,
    /// Why its events do not decode, when they do not.
    pub error: Option<String>,
}

impl SessionCheck {
    pub fn is_damaged(&self) -> bool {
        self.error.is_some() || self.findings.iter().any(Finding::is_damage)
    }
}

/// The whole store as `check` found it.
#[derive(Debug, Clone)]
pub struct StoreCheck {
    pub database: PathBuf,
    /// Why sled could not open the database, when it could not.
    pub database_damage: Option<String>,
    pub sessions: Vec<SessionCheck>,
    /// Cache entries the journal holds that the database lacks.
    pub cache_missing: usize,
}

impl StoreCheck {
    pub fn is_healthy(&self) -> bool {
        self.database_damage.is_none() && self.cache_missing == 0 && !self.sessions.iter().any(SessionCheck::is_damaged)
    }
    /// Whether some recorded event is in neither copy.
    pub fn loses_events(&self) -> bool {
        self.sessions.iter().any(|s| s.findings.iter().any(Finding::loses_events))
    }
}

/// Read every session from both copies and say what is wrong with either.
pub fn check(store: &Store) -> Result<StoreCheck, StoreError> {
    let mut sessions = Vec::new();
    for id in store.session_ids()? {
        let check = match store.read_session(&id) {
            Ok((events, findings)) => SessionCheck { events: events.len(), findings, error: None, id },
            // The records are there but do not decode: say how many, and why.
            Err(e) => {
                let merged = store.merged(&id)?;
                SessionCheck { events: merged.records.len(), findings: merged.findings, error: Some(e.to_string()), id }
            }
        };
        sessions.push(check);
    }
    Ok(StoreCheck { database: store.path().to_path_buf(), database_damage: store.damage().map(str::to_string), sessions, cache_missing: store.cache_behind()? })
}

/// What `repair` did.
#[derive(Debug)]
pub struct Repaired {
    pub before: StoreCheck,
    pub after: StoreCheck,
    /// Where the database sled could not open was moved (it was rebuilt from the journals).
    pub moved_aside: Option<PathBuf>,
    /// Cache entries put back from the journal into the database.
    pub cache_entries: usize,
}

/// Make both copies of every session whole: a database sled cannot open is moved aside and
/// rebuilt from the journals; a database log that is behind, damaged or unreadable is
/// rewritten from the journal; a journal that is missing, torn or behind is rewritten from
/// the database. Events neither copy holds are named in `before` and dropped, so the
/// session can go on from the last event that could be read.
pub fn repair(data_dir: &Path) -> Result<(Store, Repaired), StoreError> {
    let store = Store::open(data_dir)?;
    let before = check(&store)?;
    let (store, moved_aside) = match store.damage() {
        None => (store, None),
        Some(_) => {
            let path = store.path().to_path_buf();
            drop(store);
            let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let aside = path.with_file_name(format!("store.sled.damaged-{stamp}"));
            std::fs::rename(&path, &aside)?;
            let fresh = Store::open(data_dir)?;
            if let Some(why) = fresh.damage() {
                return Err(StoreError::Damaged { path: path.display().to_string(), message: format!("a new database could not be made: {why}") });
            }
            (fresh, Some(aside))
        }
    };
    let cache_entries = store.restore_cache()?;
    let db = store.db()?;
    for s in &before.sessions {
        let merged = store.merged(&s.id)?;
        store.write_both(db, &s.id, &merged)?;
    }
    let after = check(&store)?;
    Ok((store, Repaired { before, after, moved_aside, cache_entries }))
}
