//! Reading a session from its two copies — the sled log and the journal — as one: the
//! journal's whole lines win, sled fills what the journal lacks, and whatever neither holds
//! is named, never skipped in silence. Pure: the store does the I/O.

use std::collections::BTreeMap;
use std::fmt;

use super::journal::{record_seq, JournalRead};

/// What sled gave for a session's log.
#[derive(Debug, Clone)]
pub enum SledLog {
    Records(BTreeMap<u64, Vec<u8>>),
    /// The database (or this session's tree in it) could not be read.
    Unreadable(String),
}

/// Something wrong with one copy of a session, found while reading it.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    DatabaseUnreadable(String),
    /// Events the database does not have (a rollback or truncation); the journal does.
    DatabaseMissing(Vec<u64>),
    /// Database records that are damaged or disagree with the journal's whole lines.
    DatabaseDamaged(Vec<u64>),
    /// The session has no journal (made before journals): the database is its only copy.
    NoJournal,
    /// Events the journal lacks; the database has them.
    JournalMissing(Vec<u64>),
    /// Journal lines that are torn or damaged (1-based line numbers); they are skipped.
    JournalBadLines(Vec<usize>),
    /// Events neither copy holds whole: these and every later event are lost.
    Lost(Vec<u64>),
}

impl Finding {
    /// Whether this finding loses a recorded event (everything else `repair` fixes).
    pub fn loses_events(&self) -> bool {
        matches!(self, Finding::Lost(_))
    }
    /// Whether a copy is damaged (a session with no journal yet is not).
    pub fn is_damage(&self) -> bool {
        !matches!(self, Finding::NoJournal)
    }
}

/// `#3`, `#3–#7`, `#3–#7, #9`.
fn ranges(seqs: &[u64]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seqs.len() {
        let start = seqs[i];
        let mut end = start;
        while i + 1 < seqs.len() && seqs[i + 1] == end + 1 {
            i += 1;
            end = seqs[i];
        }
        out.push(if start == end { format!("#{start}") } else { format!("#{start}–#{end}") });
        i += 1;
    }
    out.join(", ")
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::DatabaseUnreadable(m) => write!(f, "the database cannot read its log ({m}); read from the journal"),
            Finding::DatabaseMissing(s) => write!(f, "the database lacks {} ({}); read from the journal", plural(s.len(), "event"), ranges(s)),
            Finding::DatabaseDamaged(s) => write!(f, "the database holds {} damaged ({}); read from the journal", plural(s.len(), "event"), ranges(s)),
            Finding::NoJournal => write!(f, "no journal yet (made before journals); the database is its only copy"),
            Finding::JournalMissing(s) => write!(f, "the journal lacks {} ({}); read from the database", plural(s.len(), "event"), ranges(s)),
            Finding::JournalBadLines(l) => write!(f, "the journal has {} torn or damaged (line {}); skipped", plural(l.len(), "line"), l.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")),
            Finding::Lost(s) => write!(f, "{} cannot be read from either copy ({}): the session ends before them", plural(s.len(), "event"), ranges(s)),
        }
    }
}

/// A session read from both copies.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// Event records `#1..=#n`, in order, with no gap.
    pub records: Vec<Vec<u8>>,
    pub findings: Vec<Finding>,
}

impl Merged {
    /// Whether both copies hold exactly these records.
    pub fn in_agreement(&self) -> bool {
        self.findings.is_empty()
    }
    /// Whether the database's copy differs from `records` (lost events are cut from both).
    pub fn database_needs_rewrite(&self) -> bool {
        self.findings.iter().any(|f| matches!(f, Finding::DatabaseUnreadable(_) | Finding::DatabaseMissing(_) | Finding::DatabaseDamaged(_) | Finding::Lost(_)))
    }
    /// Whether the journal's copy differs from `records` (lost events are cut from both).
    pub fn journal_needs_rewrite(&self) -> bool {
        self.findings.iter().any(|f| matches!(f, Finding::NoJournal | Finding::JournalMissing(_) | Finding::JournalBadLines(_) | Finding::Lost(_)))
    }
}

/// Merge the two copies of one session's log.
pub fn merge(sled: &SledLog, journal: Option<&JournalRead>) -> Merged {
    let mut findings = Vec::new();
    let empty = BTreeMap::new();
    let db = match sled {
        SledLog::Records(r) => r,
        SledLog::Unreadable(m) => {
            findings.push(Finding::DatabaseUnreadable(m.clone()));
            &empty
        }
    };
    let jr = journal.map(|j| &j.records).unwrap_or(&empty);
    match journal {
        None => findings.push(Finding::NoJournal),
        Some(j) if !j.bad_lines.is_empty() => findings.push(Finding::JournalBadLines(j.bad_lines.clone())),
        Some(_) => {}
    }
    let last = db.keys().chain(jr.keys()).copied().max().unwrap_or(0);
    let (mut records, mut db_missing, mut db_damaged, mut j_missing, mut lost) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for seq in 1..=last {
        match (jr.get(&seq), db.get(&seq)) {
            (Some(j), d) => {
                match d {
                    Some(d) if d != j => db_damaged.push(seq),
                    None if matches!(sled, SledLog::Records(_)) => db_missing.push(seq),
                    _ => {}
                }
                records.push(j.clone());
            }
            (None, Some(d)) if record_seq(d) == Some(seq) => {
                if journal.is_some() {
                    j_missing.push(seq);
                }
                records.push(d.clone());
            }
            (None, _) => {
                lost = (seq..=last).collect();
                break;
            }
        }
    }
    if !db_missing.is_empty() {
        findings.push(Finding::DatabaseMissing(db_missing));
    }
    if !db_damaged.is_empty() {
        findings.push(Finding::DatabaseDamaged(db_damaged));
    }
    if !j_missing.is_empty() {
        findings.push(Finding::JournalMissing(j_missing));
    }
    if !lost.is_empty() {
        findings.push(Finding::Lost(lost));
    }
    Merged { records, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, body: &str) -> Vec<u8> {
        format!(r#"{{"seq":{seq},"event":"{body}"}}"#).into_bytes()
    }
    fn log(seqs: &[u64], body: &str) -> BTreeMap<u64, Vec<u8>> {
        seqs.iter().map(|&s| (s, rec(s, body))).collect()
    }
    fn journal(seqs: &[u64], bad: &[usize]) -> JournalRead {
        JournalRead { records: log(seqs, "x"), bad_lines: bad.to_vec() }
    }

    #[test]
    fn copies_that_agree_merge_without_findings() {
        let m = merge(&SledLog::Records(log(&[1, 2, 3], "x")), Some(&journal(&[1, 2, 3], &[])));
        assert!(m.in_agreement(), "{:?}", m.findings);
        assert_eq!(m.records, vec![rec(1, "x"), rec(2, "x"), rec(3, "x")]);
    }

    #[test]
    fn a_rolled_back_database_is_read_from_the_journal_and_named() {
        let m = merge(&SledLog::Records(log(&[1, 2], "x")), Some(&journal(&[1, 2, 3, 4], &[])));
        assert_eq!(m.records.len(), 4);
        assert_eq!(m.findings, vec![Finding::DatabaseMissing(vec![3, 4])]);
        assert!(m.database_needs_rewrite() && !m.journal_needs_rewrite());
        assert_eq!(m.findings[0].to_string(), "the database lacks 2 events (#3–#4); read from the journal");
    }

    #[test]
    fn damaged_records_in_either_copy_are_taken_from_the_other() {
        let mut db = log(&[1, 2, 3], "x");
        db.insert(2, b"{not json".to_vec());
        db.insert(3, rec(3, "flipped"));
        let m = merge(&SledLog::Records(db), Some(&journal(&[1, 2, 3], &[])));
        assert_eq!(m.records, vec![rec(1, "x"), rec(2, "x"), rec(3, "x")]);
        assert_eq!(m.findings, vec![Finding::DatabaseDamaged(vec![2, 3])]);
        // A journal line torn in the middle: the database still has the event.
        let m = merge(&SledLog::Records(log(&[1, 2, 3], "x")), Some(&journal(&[1, 3], &[2])));
        assert_eq!(m.records.len(), 3);
        assert_eq!(m.findings, vec![Finding::JournalBadLines(vec![2]), Finding::JournalMissing(vec![2])]);
        assert!(m.journal_needs_rewrite() && !m.database_needs_rewrite());
    }

    #[test]
    fn an_unreadable_database_is_read_from_the_journal_and_a_lost_event_is_named() {
        let m = merge(&SledLog::Unreadable("Read corrupted data at file offset None".into()), Some(&journal(&[1, 2], &[])));
        assert_eq!(m.records.len(), 2);
        assert_eq!(m.findings.len(), 1);
        assert!(m.findings[0].to_string().contains("Read corrupted data"));
        // Neither copy has #2: #2 and #3 are named lost, #1 is kept.
        let mut db = log(&[1, 3], "x");
        db.insert(2, b"garbage".to_vec());
        let m = merge(&SledLog::Records(db), Some(&journal(&[1], &[2])));
        assert_eq!(m.records, vec![rec(1, "x")]);
        assert!(m.findings.contains(&Finding::Lost(vec![2, 3])), "{:?}", m.findings);
        assert!(m.findings.iter().any(Finding::loses_events));
        // No journal at all: the database alone, said so.
        let m = merge(&SledLog::Records(log(&[1, 2], "x")), None);
        assert_eq!((m.records.len(), m.findings.clone()), (2, vec![Finding::NoJournal]));
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "#1–#3, #5, #7–#8");
    }
}
