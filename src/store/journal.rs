//! The journal: beside the sled database, one append-only JSON-lines file per session
//! (`journal/sessions/ID.jsonl`) and one for the cache index (`journal/cache.jsonl`).
//! Every line is written and fsync'd before the same bytes go into sled, so a damaged or
//! rolled-back database can always be rebuilt from it.
//!
//! A line is `{"sum":"<16 hex>","rec":<record>}` where the sum is the first 8 bytes of the
//! sha256 of the record's exact bytes: a torn or flipped line is recognised and skipped,
//! never misread.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const HEAD: &[u8] = b"{\"sum\":\"";
const MID: &[u8] = b"\",\"rec\":";
const SUM_LEN: usize = 16;

fn sum(record: &[u8]) -> String {
    hex::encode(&Sha256::digest(record)[..SUM_LEN / 2])
}

/// One journal line (with its newline) holding `record`.
pub fn line(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + HEAD.len() + MID.len() + SUM_LEN + 2);
    out.extend_from_slice(HEAD);
    out.extend_from_slice(sum(record).as_bytes());
    out.extend_from_slice(MID);
    out.extend_from_slice(record);
    out.extend_from_slice(b"}\n");
    out
}

/// The record a line holds, if its checksum says it is whole.
pub fn parse_line(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(HEAD)?;
    let (given, rest) = (rest.get(..SUM_LEN)?, rest.get(SUM_LEN..)?);
    let record = rest.strip_prefix(MID)?.strip_suffix(b"}")?;
    (given == sum(record).as_bytes()).then_some(record)
}

/// What a session's journal holds: the whole records by sequence number (the first whole
/// line for a number wins), and the lines that are not whole (1-based line numbers).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct JournalRead {
    pub records: BTreeMap<u64, Vec<u8>>,
    pub bad_lines: Vec<usize>,
}

/// The sequence number of an event record, read without decoding the event: from the
/// `{"v":N,"seq":N,` that admint writes first, else by parsing the record.
pub fn record_seq(record: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    let fast = || {
        let rest = record.strip_prefix(b"{\"v\":")?;
        let rest = &rest[rest.iter().position(|b| !b.is_ascii_digit())?..];
        let rest = rest.strip_prefix(b",\"seq\":")?;
        let end = rest.iter().position(|b| !b.is_ascii_digit())?;
        (rest.get(end) == Some(&b',')).then(|| std::str::from_utf8(&rest[..end]).ok()?.parse().ok())?
    };
    fast().or_else(|| serde_json::from_slice::<Seq>(record).ok().map(|s| s.seq))
}

/// Session ids name files: only what `new_session_id` makes (letters, digits, `-`, `_`).
pub fn valid_id(session: &str) -> bool {
    !session.is_empty() && session.len() <= 64 && session.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Debug, Clone)]
pub struct Journal {
    sessions: PathBuf,
    cache: PathBuf,
}

impl Journal {
    pub fn open(data_dir: &Path) -> io::Result<Journal> {
        let root = data_dir.join("journal");
        let sessions = root.join("sessions");
        fs::create_dir_all(&sessions)?;
        Ok(Journal { sessions, cache: root.join("cache.jsonl") })
    }

    pub fn dir(&self) -> &Path {
        &self.sessions
    }

    fn path(&self, session: &str) -> PathBuf {
        self.sessions.join(format!("{session}.jsonl"))
    }

    pub fn exists(&self, session: &str) -> bool {
        valid_id(session) && self.path(session).is_file()
    }

    /// Session ids that have a journal.
    pub fn sessions(&self) -> io::Result<Vec<String>> {
        let mut ids = Vec::new();
        for entry in fs::read_dir(&self.sessions)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".jsonl").filter(|id| valid_id(id)) {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    /// Append one event record and fsync it before returning.
    pub fn append(&self, session: &str, record: &[u8]) -> io::Result<()> {
        append_synced(&self.path(session), &line(record))
    }

    /// Append one cache entry (`{"key":…,"value":…}`), fsync'd.
    pub fn append_cache(&self, record: &[u8]) -> io::Result<()> {
        append_synced(&self.cache, &line(record))
    }

    /// A session's journal, or `None` when it has none (made before journals existed).
    pub fn read(&self, session: &str) -> io::Result<Option<JournalRead>> {
        if !valid_id(session) {
            return Ok(None);
        }
        let bytes = match fs::read(self.path(session)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut out = JournalRead::default();
        for (i, l) in lines(&bytes) {
            match parse_line(l).and_then(|r| record_seq(r).map(|s| (s, r))) {
                Some((seq, r)) => {
                    out.records.entry(seq).or_insert_with(|| r.to_vec());
                }
                None => out.bad_lines.push(i),
            }
        }
        Ok(Some(out))
    }

    /// The cache entries the journal holds (whole lines only), oldest first.
    pub fn read_cache(&self) -> io::Result<Vec<Vec<u8>>> {
        let bytes = match fs::read(&self.cache) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(lines(&bytes).filter_map(|(_, l)| parse_line(l).map(<[u8]>::to_vec)).collect())
    }

    /// Replace a session's journal with exactly `records`: written beside it, fsync'd,
    /// renamed over it.
    pub fn rewrite(&self, session: &str, records: &[Vec<u8>]) -> io::Result<()> {
        let path = self.path(session);
        let tmp = path.with_extension("jsonl.tmp");
        {
            let mut f = File::create(&tmp)?;
            for r in records {
                f.write_all(&line(r))?;
            }
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.sessions)
    }

    pub fn remove(&self, session: &str) -> io::Result<()> {
        match fs::remove_file(self.path(session)) {
            Ok(()) => sync_dir(&self.sessions),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Non-empty lines with their 1-based numbers.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes.split(|b| *b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()).map(|(i, l)| (i + 1, l))
}

/// Append `line` to `path` and fsync it. A file whose last line was torn by a crash gets a
/// newline first, so the new line stands on its own.
fn append_synced(path: &Path, line: &[u8]) -> io::Result<()> {
    let new = !path.exists();
    let mut f = OpenOptions::new().create(true).read(true).append(true).open(path)?;
    let len = f.metadata()?.len();
    if len > 0 {
        let mut last = [0u8];
        f.seek(SeekFrom::Start(len - 1))?;
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            f.write_all(b"\n")?;
        }
    }
    f.write_all(line)?;
    f.sync_data()?;
    if new {
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Make a directory's entries (a new or renamed file) durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_any_flipped_byte_is_caught() {
        let rec = br#"{"v":1,"seq":7,"at_ms":0,"event":{"type":"note","text":"a \"quoted\" 100% line"}}"#;
        let l = line(rec);
        assert_eq!(l.last(), Some(&b'\n'));
        let body = &l[..l.len() - 1];
        assert_eq!(parse_line(body), Some(&rec[..]));
        serde_json::from_slice::<serde_json::Value>(body).expect("every line is JSON");
        for i in 0..body.len() {
            let mut bad = body.to_vec();
            bad[i] ^= 0x04;
            assert_eq!(parse_line(&bad), None, "flip at byte {i} went unnoticed");
        }
        assert_eq!(parse_line(&body[..body.len() - 3]), None, "a torn line");
        assert_eq!(record_seq(rec), Some(7));
        assert_eq!(record_seq(br#"{"event":{"type":"x"},"seq":12}"#), Some(12), "any field order");
        assert_eq!(record_seq(br#"{"v":1,"seq":12"#), None, "a torn record");
    }

    #[test]
    fn a_torn_tail_is_skipped_and_the_next_append_stands_alone() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let rec = |n: u64| format!(r#"{{"seq":{n},"event":"e{n}"}}"#).into_bytes();
        j.append("s1", &rec(1)).unwrap();
        j.append("s1", &rec(2)).unwrap();
        // A crash in the middle of writing the third line.
        let torn = line(&rec(3));
        let mut f = OpenOptions::new().append(true).open(j.path("s1")).unwrap();
        f.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(f);
        j.append("s1", &rec(3)).unwrap();
        let r = j.read("s1").unwrap().unwrap();
        assert_eq!(r.records.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(r.records[&3], rec(3));
        assert_eq!(r.bad_lines, vec![3]);
        assert_eq!(j.sessions().unwrap(), vec!["s1".to_string()]);
        assert_eq!(j.read("nope").unwrap(), None);
        assert_eq!(j.read("../etc/passwd").unwrap(), None, "an id is never a path");
    }
}
