//! OpenAI-compatible chat, vision, images and speech against a local server that behaves
//! like the API, and a whole session with a mock backend in every role.

mod common;
mod mocks;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use admint::config::{BackendSettings, Resources, RoleSettings, Settings};
use admint::domain::Critique;
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::llm::LlmRoles;
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::openai::OpenAi;

const KEY: &str = "sk-test-openai-0123456789abcdefghij";
const KEY_ENV: &str = "ADMINT_TEST_OPENAI_KEY";

fn backend(s: &mut Settings, base: &str) {
    std::env::set_var(KEY_ENV, KEY);
    s.scoring.backend = "none".into();
    s.backends.insert(
        "openai".into(),
        BackendSettings { base_url: base.into(), api_key_env: KEY_ENV.into(), retry_base_ms: 20, timeout_s: 5, paid: Some(true), ..Default::default() },
    );
}

fn role(s: &mut Settings, role: &str, chain: &[&str]) {
    s.roles.insert(role.into(), RoleSettings { chain: chain.iter().map(|c| c.to_string()).collect() });
}

fn set(base: &str, f: impl FnOnce(&mut Settings)) -> ProviderSet {
    let mut s = settings();
    backend(&mut s, base);
    f(&mut s);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap()
}

fn roles(ps: &ProviderSet) -> LlmRoles {
    LlmRoles { chat: ps.chat.clone().expect("a chat model"), resources: Resources::new(std::path::Path::new("/nonexistent")) }
}

async fn critique(ps: &ProviderSet) -> Result<Critique, ProviderError> {
    let r = roles(ps);
    let vars = admint::config::sample_prompt_vars(&r.resources);
    let v: serde_json::Value = r.ask("story_critic", vars, 1).await?;
    Ok(Critique { score: v["score"].as_f64().unwrap_or(-1.0), reasons: vec![], suggestions: vec![] })
}

fn formats(mock: &OpenAi) -> Vec<String> {
    mock.requests.lock().unwrap().iter().map(|r| r["response_format"]["type"].as_str().unwrap_or("none").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_output_steps_down_to_what_the_server_accepts_and_remembers_it() {
    for (model, expect) in [("gpt-ok", vec!["json_schema"]), ("old-server", vec!["json_schema", "json_object"]), ("bare-server", vec!["json_schema", "json_object", "none"])] {
        let (mock, base) = OpenAi::start(KEY);
        let ps = set(&base, |s| role(s, "writer", &[&format!("openai:{model}")]));
        assert_eq!(critique(&ps).await.unwrap().score, 8.5, "{model}");
        assert_eq!(formats(&mock), expect, "{model}");
        // The next call goes straight to the level that worked.
        critique(&ps).await.unwrap();
        assert_eq!(formats(&mock).last().map(String::as_str), expect.last().copied(), "{model}");
        assert_eq!(mock.chats.load(Ordering::SeqCst), expect.len() + 1);
        let last = mock.requests.lock().unwrap().last().cloned().unwrap();
        if model == "bare-server" {
            assert!(last["messages"][0]["content"].as_str().unwrap().contains("JSON schema"), "the schema goes into the prompt");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fenced_and_truncated_answers_are_repaired_once_garbage_is_a_clear_error() {
    let (mock, base) = OpenAi::start(KEY);
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:fenced"]))).await.unwrap().score, 8.5);
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:truncating"]))).await.unwrap().score, 8.5);
    let repair = mock.requests.lock().unwrap().last().cloned().unwrap();
    assert!(repair["messages"][1]["content"].as_str().unwrap().contains("cut off at the length limit"));
    let err = critique(&set(&base, |s| role(s, "writer", &["openai:garbage"]))).await.unwrap_err();
    assert!(err.to_string().contains("unusable JSON twice"), "{err}");
    assert_eq!(mock.chats.load(Ordering::SeqCst), 1 + 2 + 2);
    let err = critique(&set(&base, |s| role(s, "writer", &["openai:refusing"]))).await.unwrap_err();
    assert!(matches!(err, ProviderError::ContentFiltered(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_auth_rate_limits_and_outages_are_told_apart() {
    let (mock, base) = OpenAi::start(KEY);
    let err = critique(&set(&base, |s| role(s, "writer", &["openai:broke"]))).await.unwrap_err();
    assert!(matches!(err, ProviderError::QuotaExhausted(ref m) if m.contains("add credit")), "{err}");
    assert_eq!(mock.chats.load(Ordering::SeqCst), 1, "an exhausted quota is not retried");

    let t = Instant::now();
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:busy"]))).await.unwrap().score, 8.5);
    assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After honoured");
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:flaky"]))).await.unwrap().score, 8.5);

    let (_m2, base2) = OpenAi::start("sk-another-key");
    let err = critique(&set(&base2, |s| role(s, "writer", &["openai:gpt-ok"]))).await.unwrap_err();
    assert!(matches!(err, ProviderError::Auth(_)) && !err.to_string().contains(KEY), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_speech_and_vision_use_their_endpoints() {
    let (mock, base) = OpenAi::start(KEY);
    let ps = set(&base, |s| {
        role(s, "image", &["openai:gpt-image-1"]);
        role(s, "speech", &["openai:tts-1"]);
    });
    let c = ctx();
    let (png, _) = run(ps.image.head(), &image_req(), &c).await.unwrap();
    assert_eq!(image::image_dimensions(&png).unwrap(), (400, 240));
    assert_eq!(ps.image.estimate_usd(&image_req()), Some(0.042), "the shipped price of gpt-image-1");
    let speech = ps.speech.clone().unwrap();
    let said = speech.speak(&SpeechRequest { text: "Run pink. 20% off: today only!".into(), voice: String::new() }, &c.ctx).await.unwrap();
    let MediaRef::Local(wav) = said.produced.media else { panic!() };
    assert_eq!(Ffmpeg::locate().unwrap().probe(&wav).unwrap().audio_channels, 1);
    let req = SpeechRequest { text: "Run pink. 20% off: today only!".into(), voice: String::new() };
    assert!((speech.estimate_usd(&req).unwrap() - 30.0 * 0.015 / 1000.0).abs() < 1e-12, "priced per character");
    assert_eq!(said.produced.cost_usd, None, "the speech API reports no usage");
    assert_eq!(said.words, None, "and no timings");
    assert_eq!((mock.images.load(Ordering::SeqCst), mock.speeches.load(Ordering::SeqCst)), (1, 1));

    let err = run(set(&base, |s| role(s, "image", &["openai:html-image"])).image.head(), &image_req(), &c).await.unwrap_err();
    assert!(err.to_string().contains("HTML page"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_with_a_mock_backend_in_every_role() {
    let (oa, oa_base) = OpenAi::start(KEY);
    let (rep, rep_base) = mocks::replicate::Replicate::start("r8_every_role_key");
    std::env::set_var("ADMINT_TEST_EVERY_ROLE_REPLICATE", "r8_every_role_key");
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| {
        backend(s, &oa_base);
        s.backends.insert(
            "replicate".into(),
            BackendSettings { base_url: rep_base.clone(), api_key_env: "ADMINT_TEST_EVERY_ROLE_REPLICATE".into(), poll_ms: 20, timeout_s: 2, ..Default::default() },
        );
        s.prices.insert("replicate:acme/ok".into(), admint::config::Price { per_second: 0.05, ..Default::default() });
        role(s, "writer", &["openai:gpt-4o-mini"]);
        role(s, "vision", &["openai:gpt-4o-mini"]);
        role(s, "image", &["openai:gpt-image-1"]);
        role(s, "speech", &["openai:tts-1"]);
        role(s, "transcription", &["openai:whisper-1"]);
        role(s, "video", &["replicate:acme/ok"]);
    });
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let out = h.out("out");
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&out)).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }), "{outcome:?}");
    let st = p.load(&id).await.unwrap();
    assert_eq!(st.story.as_ref().unwrap().title, "Run Pink", "the story came from the chat model");
    assert!(st.references.values().all(|r| r.analysis.style == "bright street photography"), "the vision model analysed the references");
    assert!(st.scenes.iter().all(|s| s.description.contains("pink running shoes on a wet street")));
    assert!(st.clips.values().all(|c| c.provider == "replicate:acme/ok"));
    assert_eq!(oa.images.load(Ordering::SeqCst), 3 + st.scenes.len());
    assert_eq!(rep.creates.load(Ordering::SeqCst), st.scenes.len());
    // Chat calls are booked from their usage: 1000 in, 200 out at gpt-4o-mini's price.
    let chat: Vec<_> = st.costs.iter().filter(|c| c.model == "openai:gpt-4o-mini").collect();
    assert!(!chat.is_empty() && chat.iter().all(|c| (c.usd - (1000.0 * 0.15 + 200.0 * 0.60) / 1e6).abs() < 1e-12 && c.note == "reported by the provider"));
    assert!(chat.iter().any(|c| c.stage == "story") && chat.iter().any(|c| c.stage.starts_with("reference:")));
    assert!(out.join("final.mp4").is_file());
    // Every voice line was spoken and its captions timed by the transcription model.
    let lines = st.scenes.iter().filter(|s| !s.voiceover.trim().is_empty()).count();
    assert!(lines > 0);
    assert_eq!((oa.speeches.load(Ordering::SeqCst), oa.transcriptions.load(Ordering::SeqCst)), (lines, lines));
    assert!(st.voices.values().all(|t| t.cue_source == admint::domain::CueSource::Transcription), "{:?}", st.voices.values().map(|t| t.cue_source).collect::<Vec<_>>());
    let form = oa.transcription_forms.lock().unwrap()[0].clone();
    assert_eq!((form["model"].as_str(), form["response_format"].as_str(), form["timestamp_granularities[]"].as_str(), form["language"].as_str()), ("whisper-1", "verbose_json", "word", "en"));
    assert!(st.costs.iter().any(|c| c.model == "openai:whisper-1" && c.usd > 0.0), "transcription is booked per minute");
    assert!(std::fs::read_to_string(out.join("captions.srt")).unwrap().contains(st.scenes.iter().find(|s| !s.voiceover.is_empty()).unwrap().voiceover.split_whitespace().next().unwrap()));
    drop(p);
    assert_nowhere(h.dir.path(), KEY);
    assert_nowhere(h.dir.path(), "r8_every_role_key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcription_returns_word_timings_and_its_errors_are_told_apart() {
    let (mock, base) = OpenAi::start(KEY);
    let model = |m: &str| set(&base, |s| role(s, "transcription", &[&format!("openai:{m}")])).transcription.expect("a transcription chain");
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("line.wav");
    std::fs::write(&audio, &mocks::fixtures().wav).unwrap();
    let req = TranscriptionRequest { audio: audio.clone(), script: "Meet AirRun: 20% lighter.".into(), language: "en".into(), duration_s: 1.0 };
    let words = model("whisper-1").transcribe(&req).await.unwrap();
    assert_eq!(words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>(), ["meet", "airrun", "20", "lighter"]);
    assert!(words.windows(2).all(|w| w[0].end_s <= w[1].start_s + 1e-9) && (words[3].end_s - 1.0).abs() < 0.05, "{words:?}");
    assert!((model("whisper-1").estimate_usd(&TranscriptionRequest { duration_s: 60.0, ..req.clone() }).unwrap() - 0.006).abs() < 1e-12, "per minute of audio");
    let form = mock.transcription_forms.lock().unwrap()[0].clone();
    assert_eq!(form["file"], mocks::fixtures().wav.len().to_string(), "the whole file was sent");
    assert_eq!(form["prompt"], "Meet AirRun: 20% lighter.", "the script is the recogniser's hint");
    let err = model("gpt-4o-mini").transcribe(&req).await.unwrap_err();
    assert!(matches!(&err, ProviderError::NotFound(m) if m.contains("does not exist")), "{err}");
    let err = model("whisper-broken").transcribe(&req).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Protocol(m) if m.contains("cannot read")), "{err}");
    std::env::set_var("ADMINT_TEST_OPENAI_BADKEY", "sk-wrong-0000");
    let mut s = settings();
    s.backends.insert("openai".into(), BackendSettings { base_url: base.clone(), api_key_env: "ADMINT_TEST_OPENAI_BADKEY".into(), retry_base_ms: 20, timeout_s: 5, ..Default::default() });
    role(&mut s, "transcription", &["openai:whisper-1"]);
    let bad = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap().transcription.unwrap();
    let err = bad.transcribe(&req).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Auth(m) if !m.contains("sk-wrong")), "{err}");
}

fn requests(mock: &OpenAi) -> Vec<serde_json::Value> {
    mock.requests.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_servers_are_read_by_what_they_say_and_every_answer_is_bounded() {
    // llama-cpp-python: a 500 naming the format steps down at once (no five retries).
    let (mock, base) = OpenAi::start(KEY);
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:llama-cpp-python"]))).await.unwrap().score, 8.5);
    assert_eq!(formats(&mock), vec!["json_schema", "json_object"]);

    // llama-server: "output does not match the expected format" is an unusable answer,
    // repaired once with another seed, not resent as it was.
    let (mock, base) = OpenAi::start(KEY);
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:llama-server-full"]))).await.unwrap().score, 8.5);
    let r = requests(&mock);
    assert_eq!(r.len(), 2, "one repair, no retries of the same request");
    assert_ne!(r[0]["seed"], r[1]["seed"], "a retry after a bad answer changes the seed");
    assert!(r[1]["messages"][1]["content"].as_str().unwrap().contains("could not be used"), "{}", r[1]);

    // A server that generates for ever without a bound: every call carries max_tokens.
    let (mock, base) = OpenAi::start(KEY);
    let t = Instant::now();
    assert_eq!(critique(&set(&base, |s| role(s, "writer", &["openai:cpu-slow"]))).await.unwrap().score, 8.5);
    assert!(t.elapsed() < Duration::from_secs(5), "bounded answers come back: {:?}", t.elapsed());
    assert_eq!(requests(&mock)[0]["max_tokens"], 800, "the critic's own bound");

    // A cut-off answer is repaired with room for a longer one and another seed.
    let (mock, base) = OpenAi::start(KEY);
    critique(&set(&base, |s| role(s, "writer", &["openai:truncating"]))).await.unwrap();
    let r = requests(&mock);
    assert_eq!((r[0]["max_tokens"].as_u64(), r[1]["max_tokens"].as_u64()), (Some(800), Some(1600)));
    assert_ne!(r[0]["seed"], r[1]["seed"]);

    // The config bounds every call of a backend and forces its structured-output level.
    let (mock, base) = OpenAi::start(KEY);
    let ps = set(&base, |s| {
        role(s, "writer", &["openai:gpt-ok"]);
        let b = s.backends.get_mut("openai").unwrap();
        b.max_tokens = 256;
        b.structured_output = "prompt".into();
    });
    critique(&ps).await.unwrap();
    let r = requests(&mock);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["max_tokens"], 256);
    assert!(r[0].get("response_format").is_none(), "{}", r[0]);
    assert!(r[0]["messages"][0]["content"].as_str().unwrap().contains("JSON schema"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_without_image_input_is_passed_over_at_once_and_the_fallback_is_named() {
    use admint::providers::attribution::attributed;
    let (mock, base) = OpenAi::start(KEY);
    let ps = set(&base, |s| role(s, "vision", &["openai:text-only", "offline"]));
    let dir = tempfile::tempdir().unwrap();
    let png = keyframe(dir.path());
    let res = Resources::new(std::path::Path::new("/nonexistent"));
    let brief = brief_input("pink running shoes", 6.0).validate(&res).unwrap().0;
    let (a, who) = attributed(ps.analyst.analyse(&png, admint::domain::ReferenceKind::Product, &brief)).await;
    assert!(!a.unwrap().palette.is_empty(), "the offline analyst answered");
    assert_eq!(mock.chats.load(Ordering::SeqCst), 1, "a capability error is not retried");
    assert_eq!(who.by.as_deref(), Some("offline/pixel-analyst"));
    assert!(who.fell_back() && who.failed[0].contains("openai:text-only"), "{who:?}");
    // Remembered: the next image goes straight to the next model.
    let _ = ps.analyst.analyse(&png, admint::domain::ReferenceKind::Product, &brief).await.unwrap();
    assert_eq!(mock.chats.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_that_really_wrote_the_story_is_recorded_and_shown() {
    let (_mock, base) = OpenAi::start(KEY);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| {
        backend(s, &base);
        role(s, "writer", &["openai:garbage", "offline"]);
        role(s, "vision", &["openai:text-only", "offline"]);
    });
    let mut updates = p.subscribe();
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let out = h.out("out");
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&out)).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }), "{outcome:?}");
    let events = p.store.events(&id).unwrap();
    let drafted = events.iter().find_map(|e| match &e.event {
        admint::domain::Event::StoryDrafted { provider, .. } => Some(provider.clone()),
        _ => None,
    });
    assert_eq!(drafted.as_deref(), Some("offline/template-director"), "not the chain's name");
    let mut notes = vec![];
    while let Ok(u) = updates.try_recv() {
        if let admint::pipeline::Update::Note { text, .. } = u {
            notes.push(text);
        }
    }
    assert!(notes.iter().any(|n| n.starts_with("story:") && n.contains("openai:garbage") && n.contains("written by offline/template-director")), "{notes:?}");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["written_by"]["story"], "offline/template-director");
    let board = std::fs::read_to_string(out.join("storyboard.md")).unwrap();
    assert!(board.contains("- Story by: offline/template-director"), "{board}");
    let st = p.load(&id).await.unwrap();
    let line = admint::pipeline::narrate::describe_event(&events.iter().find(|e| e.event.kind() == "story_drafted").unwrap().event, &st).unwrap();
    assert!(line.ends_with("(by offline/template-director)"), "{line}");
    assert!(st.references.values().all(|r| r.analysed_by == "offline/pixel-analyst"), "{:?}", st.references.values().map(|r| &r.analysed_by).collect::<Vec<_>>());
    assert!(m["references"][0]["analysed_by"] == "offline/pixel-analyst");
}

#[test]
fn doctor_checks_that_the_server_serves_the_configured_models() {
    let (_mock, base) = OpenAi::start(KEY);
    let dir = root_with_config(&format!(
        "[backends.openai]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npaid = false\n[roles.writer]\nchain = [\"openai:gpt-4o-mini\", \"openai:tiny-llama\", \"offline\"]\n"
    ));
    let out = admint_cmd(dir.path(), (KEY_ENV, KEY)).arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok     openai:gpt-4o-mini: served"), "{text}");
    assert!(text.contains("FAIL   openai:tiny-llama: openai does not serve a model named tiny-llama (it lists: gpt-4o-mini,"), "{text}");
    assert!(!out.status.success());
    // With every model served, the last line says what a run uses.
    let dir = root_with_config(&format!("[backends.openai]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npaid = false\n[roles.writer]\nchain = [\"openai:gpt-4o-mini\", \"offline\"]\n"));
    let out = admint_cmd(dir.path(), (KEY_ENV, KEY)).arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.trim_end().ends_with("makes an advert with writer on openai:gpt-4o-mini (the rest offline)."), "{text}");
}
