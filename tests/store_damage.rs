//! The store survives damage: byte flips, truncations, garbage snapshots and a deleted
//! database lose no flushed event (each session's journal holds them), a damaged store
//! still lists and opens its sessions, `store check` names the damage and `store repair`
//! makes both copies whole; a crash between the journal and sled loses nothing and
//! reuses no sequence number.

mod common;

use std::path::Path;

use admint::domain::{Event, EventEnvelope, Stage};
use admint::store::{self, Finding, Store};
use common::*;

/// Two sessions: a short one and one with `n` more events after its creation.
fn fill(h: &Harness, n: usize) -> Vec<(String, Vec<EventEnvelope>)> {
    let store = h.store();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let p = h.pipeline(store.clone());
    let a = rt.block_on(new_session(&p, brief_input("wireless earbuds", 6.0)));
    let b = rt.block_on(new_session(&p, brief_input("a rain jacket: 100% \"dry\"", 6.0)));
    for i in 0..n {
        let event = match i % 3 {
            0 => Event::StoryFeedback { text: format!("round {i}: more energy, less \"corporate\"\n\t%s {{}}") },
            1 => Event::StageStarted { stage: Stage::Story },
            _ => Event::Resumed,
        };
        store.append(&b, event).unwrap();
    }
    store.append(&a, Event::StoryFeedback { text: "short".into() }).unwrap();
    store.cache_put("clip-key", &serde_json::json!({ "video": "ab12.mp4", "usd": 0.4 })).unwrap();
    let out = [a, b].into_iter().map(|id| { let e = store.events(&id).unwrap(); (id, e) }).collect();
    drop(p);
    drop(store);
    out
}

fn json(events: &[EventEnvelope]) -> Vec<String> {
    events.iter().map(|e| serde_json::to_string(e).unwrap()).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Damage a copy of the data dir with `damage(store.sled)` and check that everything
/// recorded is still read, and is whole in both copies after `repair`.
fn survives(original: &Path, sessions: &[(String, Vec<EventEnvelope>)], name: &str, damage: impl FnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(original, &data);
    damage(&data.join("store.sled"));
    {
        let store = Store::open(&data).unwrap_or_else(|e| panic!("{name}: a damaged store still opens: {e}"));
        let listed = store.sessions().unwrap();
        assert_eq!(listed.len(), sessions.len(), "{name}: every session is listed");
        for (id, events) in sessions {
            let (read, _) = store.read_session(id).unwrap_or_else(|e| panic!("{name}: {id}: {e}"));
            assert_eq!(json(&read), json(events), "{name}: {id} reads every flushed event");
        }
        let c = store::check(&store).unwrap();
        assert!(!c.loses_events(), "{name}: nothing is lost: {:?}", c.sessions);
    }
    let (store, r) = store::repair(&data).unwrap_or_else(|e| panic!("{name}: repair: {e}"));
    assert!(r.after.is_healthy(), "{name}: after repair: {:?} {:?}", r.after.database_damage, r.after.sessions);
    for (id, events) in sessions {
        assert_eq!(json(&store.events(id).unwrap()), json(events), "{name}: {id} after repair");
        assert!(store.merged(id).unwrap().in_agreement(), "{name}: both copies agree");
    }
    assert!(store.cache_get::<serde_json::Value>("clip-key").unwrap().is_some(), "{name}: the cache entry is kept or restored");
    // The repaired store takes new events where the session left off.
    let (id, events) = &sessions[0];
    let env = store.append(id, Event::Resumed).unwrap();
    assert_eq!(env.seq, events.len() as u64 + 1, "{name}");
}

#[test]
fn byte_flips_truncations_and_lost_files_lose_no_flushed_event() {
    let h = Harness::new();
    let sessions = fill(&h, 300);
    let original = h.paths.data_dir.clone();
    let db_len = std::fs::metadata(original.join("store.sled/db")).unwrap().len();
    assert!(db_len > 20_000, "a database worth damaging: {db_len} bytes");
    for i in 0..16u64 {
        let at = 64 + i * (db_len - 128) / 15;
        survives(&original, &sessions, &format!("flip at {at}"), |sled| {
            let mut bytes = std::fs::read(sled.join("db")).unwrap();
            bytes[at as usize] ^= 0x5a;
            std::fs::write(sled.join("db"), bytes).unwrap();
        });
    }
    for cut in [16, 100, 2000, db_len / 3, db_len / 2, db_len - 10] {
        survives(&original, &sessions, &format!("truncated by {cut}"), |sled| {
            let f = std::fs::OpenOptions::new().write(true).open(sled.join("db")).unwrap();
            f.set_len(db_len - cut).unwrap();
        });
    }
    survives(&original, &sessions, "garbage snapshot", |sled| std::fs::write(sled.join("snap.0000000000001234"), b"garbage").unwrap());
    survives(&original, &sessions, "flipped conf", |sled| {
        let mut bytes = std::fs::read(sled.join("conf")).unwrap();
        bytes[10] ^= 0xff;
        std::fs::write(sled.join("conf"), bytes).unwrap();
    });
    survives(&original, &sessions, "database deleted", |sled| std::fs::remove_dir_all(sled).unwrap());
}

#[test]
fn a_crash_between_journal_and_database_and_a_torn_journal_line_lose_nothing() {
    let h = Harness::new();
    let sessions = fill(&h, 5);
    let (id, events) = &sessions[1];
    let n = events.len() as u64;
    let store = h.store();
    // The journal has #n+1 (fsync'd), the crash came before sled's append.
    let next = format!(r#"{{"v":1,"seq":{},"at_ms":1,"event":{{"type":"story_feedback","text":"journalled"}}}}"#, n + 1);
    store.put_raw_journal_record(id, next.as_bytes()).unwrap();
    let (read, findings) = store.read_session(id).unwrap();
    assert_eq!(read.len() as u64, n + 1, "the journalled event is read");
    assert_eq!(findings, vec![Finding::DatabaseMissing(vec![n + 1])]);
    // A torn last line (a crash mid-write of #n+2): skipped, and the next append stands alone.
    let journal = h.paths.data_dir.join(format!("journal/sessions/{id}.jsonl"));
    let mut f = std::fs::OpenOptions::new().append(true).open(&journal).unwrap();
    std::io::Write::write_all(&mut f, br#"{"sum":"0011223344556677","rec":{"v":1,"seq":"#).unwrap();
    drop(f);
    let env = store.append(id, Event::Resumed).unwrap();
    assert_eq!(env.seq, n + 2, "no sequence number is reused");
    drop(store);
    let store = h.store();
    let (read, findings) = store.read_session(id).unwrap();
    assert_eq!(read.len() as u64, n + 2);
    assert!(findings.is_empty(), "the first append healed both copies: {findings:?}");
    assert_eq!(read.last().unwrap().seq, n + 2);
}

#[test]
fn store_check_names_the_damage_and_repair_rebuilds_from_the_journals() {
    let h = Harness::new();
    let sessions = fill(&h, 40);
    let root = h.dir.path();
    std::fs::write(h.paths.data_dir.join("store.sled/snap.0000000000001234"), b"garbage").unwrap();
    let run = |args: &[&str]| admint_cmd(root, ("ADMINT_TEST", "1")).args(args).output().unwrap();
    // A database that does not open: the sessions are still listed, read and exported.
    let list = run(&["sessions", "list"]);
    assert_eq!(list.status.code(), Some(0), "{}", String::from_utf8_lossy(&list.stderr));
    let (out, err) = (String::from_utf8_lossy(&list.stdout), String::from_utf8_lossy(&list.stderr));
    assert!(sessions.iter().all(|(id, _)| out.contains(id.as_str())), "{out}");
    assert!(err.contains("store repair"), "{err}");
    let show = run(&["sessions", "show", &sessions[1].0, "--events", "--format", "jsonl"]);
    assert_eq!(String::from_utf8_lossy(&show.stdout).lines().count(), sessions[1].1.len());
    let check = run(&["store", "check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("DAMAGED") && text.contains("does not open"), "{text}");
    let j = run(&["store", "check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    assert_eq!((v["healthy"].as_bool(), v["loses_events"].as_bool()), (Some(false), Some(false)), "{v}");
    // A new run is refused with the way out, and writes nothing.
    let gen = run(&["generate", "--prompt", "a lamp", "--auto"]);
    assert_ne!(gen.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&gen.stderr).contains("admint store repair"), "{}", String::from_utf8_lossy(&gen.stderr));
    let repair = run(&["store", "repair"]);
    assert_eq!(repair.status.code(), Some(0), "{}", String::from_utf8_lossy(&repair.stderr));
    let text = String::from_utf8_lossy(&repair.stdout);
    assert!(text.contains("moved it to") && text.contains("every event in both copies"), "{text}");
    let check = run(&["store", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let show = run(&["sessions", "show", &sessions[1].0, "--events", "--format", "jsonl"]);
    let lines: Vec<String> = String::from_utf8_lossy(&show.stdout).lines().map(str::to_string).collect();
    assert_eq!(lines, json(&sessions[1].1), "every event, byte for byte");
    // The cache index came back from its journal too.
    let store = h.store();
    assert_eq!(store.cache_get::<serde_json::Value>("clip-key").unwrap(), Some(serde_json::json!({ "video": "ab12.mp4", "usd": 0.4 })));
}
