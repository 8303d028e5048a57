//! Persistence: sled session logs (append-only events) with a journal beside them that is
//! written first, the content-addressed cache index, and blob files named by their sha256.
//! sled is synchronous: async callers use `spawn_blocking`.

mod blobs;
mod cache;
pub mod journal;
pub mod recover;
mod repair;
mod sessions;

pub use blobs::{sha256_file, BlobStore};
pub use recover::Finding;
pub use repair::{check, repair, Repaired, SessionCheck, StoreCheck};
pub use sessions::{new_session_id, StoredSession, Store};

use thiserror::Error;

/// sled's own message for an I/O error is the error's debug form; say it in words.
fn sled_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(io) => crate::text::io_words(io),
        e => e.to_string(),
    }
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the admint store at {path} is in use by another admint process; wait for it to finish or stop it (only one admint can use a data dir at a time)")]
    Locked { path: String },
    #[error("cannot open the admint store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("session {0} does not exist (see `admint sessions list`)")]
    NoSuchSession(String),
    #[error("session {session}: event #{seq} is corrupt ({message}); other sessions are unaffected")]
    Corrupt { session: String, seq: u64, message: String },
    #[error("session {session}: event #{seq} has schema version {version}, this admint reads up to version {supported}; upgrade admint to open it")]
    UnsupportedVersion { session: String, seq: u64, version: u32, supported: u32 },
    #[error("session {session}: the first event must be session_created")]
    MissingHeader { session: String },
    #[error("the admint database at {path} is damaged ({message}); sessions are read from their journals — `admint store check` says what is damaged, `admint store repair` rebuilds it")]
    Damaged { path: String, message: String },
    #[error("store database error: {}", sled_words(.0))]
    Db(#[from] sled::Error),
    #[error("blob store: {}", crate::text::io_words(.0))]
    Io(#[from] std::io::Error),
    #[error("blob {0} is missing from the data dir (was it deleted?)")]
    MissingBlob(String),
}
