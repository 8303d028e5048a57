//! ElevenLabs speech with timestamps against a local server that behaves like its API,
//! a whole session whose captions are timed by it, and kill -9 while lines are spoken.

mod common;
mod mocks;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use admint::config::{BackendSettings, RoleSettings, Settings};
use admint::domain::CueSource;
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::elevenlabs::ElevenLabs;

const KEY: &str = "sk_test_elevenlabs_0123456789abcdef";
const KEY_ENV: &str = "ADMINT_TEST_ELEVENLABS_KEY";

fn configure(s: &mut Settings, base: &str, model: &str) {
    std::env::set_var(KEY_ENV, KEY);
    s.scoring.backend = "none".into();
    s.backends.insert("elevenlabs".into(), BackendSettings { base_url: base.into(), api_key_env: KEY_ENV.into(), retry_base_ms: 20, timeout_s: 5, ..Default::default() });
    s.roles.insert("speech".into(), RoleSettings { chain: vec![format!("elevenlabs:{model}")] });
    s.prices.insert(format!("elevenlabs:{model}"), admint::config::Price { per_1k_characters: 0.10, ..Default::default() });
}

fn speech(base: &str, model: &str) -> std::sync::Arc<dyn SpeechModel> {
    let mut s = settings();
    configure(&mut s, base, model);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap().speech.expect("a speech chain")
}

fn line(text: &str, voice: &str) -> SpeechRequest {
    SpeechRequest { text: text.into(), voice: voice.into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_comes_back_as_mp3_with_every_word_timed() {
    let (mock, base) = ElevenLabs::start(KEY);
    let c = ctx();
    let text = "Meet AirRun Pro. Built for \"fast\" feet: 20% lighter!";
    let spoken = speech(&base, "eleven_multilingual_v2").speak(&line(text, ""), &c.ctx).await.unwrap();
    let MediaRef::Local(path) = &spoken.produced.media else { panic!("not a file") };
    assert_eq!(&std::fs::read(path).unwrap()[..3], b"ID3", "an MP3 file");
    assert!(path.extension().is_some_and(|e| e == "mp3"));
    let d = Ffmpeg::locate().unwrap().probe(path).unwrap().duration_s;
    assert!((d - (0.06 * text.chars().count() as f64 + 0.1)).abs() < 0.1, "{d}");
    let words = spoken.words.expect("timestamps");
    let expect: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(), expect);
    assert!(words.windows(2).all(|w| w[0].end_s <= w[1].start_s + 1e-9 && w[0].start_s < w[0].end_s), "{words:?}");
    let (voice, format, body) = mock.requests.lock().unwrap()[0].clone();
    assert_eq!((voice.as_str(), format.as_str()), ("JBFqnCBsd6RMkjVDRZzb", "mp3_44100_128"), "the default voice, an MP3 every plan has");
    assert_eq!((body["text"].as_str(), body["model_id"].as_str()), (Some(text), Some("eleven_multilingual_v2")));
    // The brief's voice id is passed through.
    speech(&base, "eleven_multilingual_v2").speak(&line("Hello.", "21m00Tcm4TlvDq8ikWAM"), &c.ctx).await.unwrap();
    assert_eq!(mock.requests.lock().unwrap()[1].0, "21m00Tcm4TlvDq8ikWAM");
    assert_eq!(speech(&base, "eleven_multilingual_v2").estimate_usd(&line(text, "")), Some(0.10 * text.chars().count() as f64 / 1000.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_told_apart_and_never_show_the_key() {
    let (mock, base) = ElevenLabs::start(KEY);
    let c = ctx();
    let err = speech(&base, "eleven_quota").speak(&line("Meet it.", ""), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::QuotaExhausted(m) if m.contains("exceeds your quota")), "{err}");
    let err = speech(&base, "eleven_multilingual_v2").speak(&line("A forbidden line.", ""), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::ContentFiltered(m) if m.contains("content policy")), "{err}");
    let err = speech(&base, "eleven_busy").speak(&line("Meet it.", ""), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::RateLimited { .. }), "{err}");
    let err = speech(&base, "eleven_garbage").speak(&line("Meet it.", ""), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Protocol(m) if m.contains("cannot read")), "{err}");
    let err = speech(&base, "eleven_multilingual_v2").speak(&line("Meet it.", "nobody"), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::NotFound(m) if m.contains("was not found")), "{err}");
    let err = speech(&base, "eleven_multilingual_v2").speak(&line("Meet it.", "../../admin"), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest(m) if m.contains("voice id")), "{err}");
    std::env::set_var(KEY_ENV, "sk_wrong_key_9999");
    let mut s = settings();
    s.backends.insert("elevenlabs".into(), BackendSettings { base_url: base.clone(), api_key_env: KEY_ENV.into(), ..Default::default() });
    s.roles.insert("speech".into(), RoleSettings { chain: vec!["elevenlabs:eleven_multilingual_v2".into()] });
    let bad = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap().speech.unwrap();
    let err = bad.speak(&line("Meet it.", ""), &c.ctx).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Auth(m) if m.contains("Invalid API key") && !m.contains("sk_wrong")), "{err}");
    assert_eq!(mock.delivered.load(Ordering::SeqCst), 0, "no failed call delivered a line");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_voiced_by_elevenlabs_has_captions_timed_by_its_timestamps() {
    let (mock, base) = ElevenLabs::start(KEY);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, "eleven_multilingual_v2"));
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 8.0)).await;
    let out = h.out("out");
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&out)).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }));
    let st = p.load(&id).await.unwrap();
    let lines: Vec<_> = st.scenes.iter().filter(|s| !s.voiceover.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    assert_eq!(st.voices.len(), lines.len());
    assert!(st.voices.values().all(|t| t.cue_source == CueSource::Speech && t.provider == "elevenlabs:eleven_multilingual_v2"));
    assert_eq!(mock.delivered.load(Ordering::SeqCst), lines.len(), "one call per line");
    let srt = std::fs::read_to_string(out.join("captions.srt")).unwrap();
    for s in &lines {
        for w in s.voiceover.split_whitespace() {
            assert!(srt.contains(w), "{w} is not in the captions:\n{srt}");
        }
    }
    // The ledger has each line at its per-character price.
    let voice_costs: f64 = st.costs.iter().filter(|c| c.stage.starts_with("voice:")).map(|c| c.usd).sum();
    let chars: usize = lines.iter().map(|s| s.voiceover.trim().chars().count()).sum();
    assert!((voice_costs - 0.10 * chars as f64 / 1000.0).abs() < 1e-9, "{voice_costs}");
}

#[test]
fn kill_9_while_lines_are_spoken_then_resume_pays_for_no_line_twice() {
    let (mock, base) = ElevenLabs::start(KEY);
    let dir = root_with_config(&format!(
        "[scoring]\nbackend = \"none\"\n[backends.elevenlabs]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\ntimeout_s = 4\npoll_ms = 200\n[roles.speech]\nchain = [\"elevenlabs:eleven_slow\"]\n[prices.\"elevenlabs:eleven_slow\"]\nper_1k_characters = 0.1\n"));
    let root = dir.path();
    let mut child = spawn_generate(root, (KEY_ENV, KEY), "12");
    let session = jsonl_until(&mut child, "voice_ready", 1);
    // One line is recorded and others are being spoken: kill admint.
    let t = Instant::now();
    while mock.requests.lock().unwrap().len() <= mock.delivered.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = mock.delivered.load(Ordering::SeqCst);
    assert!(before >= 1);

    let out = admint_cmd(root, (KEY_ENV, KEY)).args(["resume", &session, "--auto", "--output", "out"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(root.join("out/final.mp4").is_file() && root.join("out/captions.srt").is_file());
    // Every line was delivered (and paid for) exactly once, and each is in the cut.
    let delivered = mock.delivered_texts.lock().unwrap().clone();
    let mut unique = delivered.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), delivered.len(), "a line was paid for twice: {delivered:?}");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    let lines: Vec<String> = manifest["scenes"].as_array().unwrap().iter().filter_map(|s| s["scene"]["voiceover"].as_str()).filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_string()).collect();
    assert!(lines.iter().all(|l| delivered.contains(l)), "{lines:?} vs {delivered:?}");
    let ledger = manifest["cost"]["ledger"].as_array().unwrap().iter().filter(|c| c["stage"].as_str().unwrap_or("").starts_with("voice:")).count();
    assert_eq!(ledger, delivered.len(), "one ledger entry per delivered line");
    assert!(mock.history_reads.load(Ordering::SeqCst) >= 1, "the cut-off lines were looked up");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("history: not paid for twice"), "{log}");
    assert_nowhere(root, KEY);
}
