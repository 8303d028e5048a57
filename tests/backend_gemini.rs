//! Gemini images and Veo video against a local server that behaves like the Gemini API.

mod common;
mod mocks;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use admint::config::{BackendSettings, RoleSettings, Settings};
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::gemini::Gemini;

const KEY: &str = "AIzaTestKey-0123456789abcdefghijklmn";
const KEY_ENV: &str = "ADMINT_TEST_GEMINI_KEY";

fn configure(s: &mut Settings, base: &str, video: &str, image: &str) {
    std::env::set_var(KEY_ENV, KEY);
    s.scoring.backend = "none".into();
    s.backends.insert("gemini".into(), BackendSettings { base_url: base.into(), api_key_env: KEY_ENV.into(), poll_ms: 20, retry_base_ms: 20, timeout_s: 5, ..Default::default() });
    s.roles.insert("video".into(), RoleSettings { chain: vec![video.into()] });
    s.roles.insert("image".into(), RoleSettings { chain: vec![image.into()] });
    for m in ["veo-ok", "veo-filtered", "veo-error", "veo-busy"] {
        s.prices.insert(format!("gemini:{m}"), admint::config::Price { per_second: 0.15, ..Default::default() });
    }
    for m in ["img-ok", "img-blocked", "img-safety"] {
        s.prices.insert(format!("gemini:{m}"), admint::config::Price { per_image: 0.039, ..Default::default() });
    }
}

fn providers(base: &str, video: &str, image: &str) -> ProviderSet {
    let mut s = settings();
    configure(&mut s, base, video, image);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veo_operations_are_polled_until_done_and_downloaded_with_the_key() {
    let (mock, base) = Gemini::start(KEY);
    let ps = providers(&base, "gemini:veo-ok", "offline");
    let c = ctx();
    let (path, _) = generate(&ps, &c).await.unwrap();
    assert_eq!(Ffmpeg::locate().unwrap().probe(&path).unwrap().video_codec, "h264");
    assert_eq!((mock.creates.load(Ordering::SeqCst), mock.polls.load(Ordering::SeqCst), mock.downloads.load(Ordering::SeqCst)), (1, 3, 1));
    let body = mock.bodies.lock().unwrap()[0].clone();
    assert_eq!((body["parameters"]["durationSeconds"].as_u64(), body["parameters"]["aspectRatio"].as_str()), (Some(4), Some("16:9")));
    // A 4 s scene is billed as Veo's 4 s clip.
    assert_eq!(ps.video.estimate_usd(&video_req(path)), Some(0.6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veo_filters_errors_and_rate_limits_are_told_apart() {
    let (mock, base) = Gemini::start(KEY);
    let err = generate(&providers(&base, "gemini:veo-filtered", "offline"), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::ContentFiltered(m) if m.contains("usage guidelines")), "{err}");
    let err = generate(&providers(&base, "gemini:veo-error", "offline"), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::JobFailed(m) if m.contains("internal error")), "{err}");
    let t = Instant::now();
    generate(&providers(&base, "gemini:veo-busy", "offline"), &ctx()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1), "the RetryInfo delay was honoured");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 3, "no operation was started twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_come_inline_and_blocks_are_reported_as_filtered() {
    let (mock, base) = Gemini::start(KEY);
    let c = ctx();
    let (png, _) = run(providers(&base, "offline", "gemini:img-ok").image.head(), &image_req(), &c).await.unwrap();
    assert_eq!(image::image_dimensions(&png).unwrap(), (400, 240));
    assert_eq!(mock.bodies.lock().unwrap()[0]["generationConfig"]["imageConfig"]["aspectRatio"], "16:9");
    for model in ["gemini:img-blocked", "gemini:img-safety"] {
        let err = run(providers(&base, "offline", model).image.head(), &image_req(), &c).await.unwrap_err();
        assert!(matches!(err, ProviderError::ContentFiltered(_)), "{model}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_an_auth_error_even_as_a_400() {
    let (_mock, base) = Gemini::start("the-right-key");
    let err = generate(&providers(&base, "gemini:veo-ok", "offline"), &ctx()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Auth(ref m) if m.contains("API key not valid") && !m.contains(KEY)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_on_gemini() {
    let (_mock, base) = Gemini::start(KEY);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, "gemini:veo-ok", "gemini:img-ok"));
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&h.out("out"))).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }));
    let st = p.load(&id).await.unwrap();
    assert!(st.clips.values().all(|c| c.provider == "gemini:veo-ok"));
    drop(p);
    assert_nowhere(h.dir.path(), KEY);
}
