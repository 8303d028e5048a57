//! The Replicate backend against a local server that behaves like Replicate's API, and
//! whole sessions that use it: fallback, budgets, kill and resume, secrets.

mod common;
mod mocks;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use admint::config::{BackendSettings, Price, RoleSettings, Settings};
use admint::domain::Event;
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::replicate::Replicate;

const TOKEN: &str = "r8_TESTKEY_0123456789abcdef";
const KEY_ENV: &str = "ADMINT_TEST_REPLICATE_TOKEN";

fn configure(s: &mut Settings, base: &str, video: &[&str], image: &[&str]) {
    std::env::set_var(KEY_ENV, TOKEN);
    s.scoring.backend = "none".into();
    s.backends.insert(
        "replicate".into(),
        BackendSettings { base_url: base.into(), api_key_env: KEY_ENV.into(), poll_ms: 20, retry_base_ms: 20, timeout_s: 1, wait_s: Some(1), ..Default::default() },
    );
    let chain = |c: &[&str]| RoleSettings { chain: c.iter().map(|s| s.to_string()).collect() };
    s.roles.insert("video".into(), chain(video));
    s.roles.insert("image".into(), chain(image));
    for m in ["ok", "fast", "flaky", "slowpoll", "fail", "nsfw", "html", "hold", "malformed", "pricey"] {
        s.prices.insert(format!("replicate:acme/{m}"), Price { per_second: 0.05, ..Default::default() });
    }
}

fn providers(base: &str, video: &[&str]) -> ProviderSet {
    let mut s = settings();
    configure(&mut s, base, video, &["offline"]);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prediction_is_created_once_polled_with_progress_and_downloaded() {
    let (mock, base) = Replicate::start(TOKEN);
    let mut s = settings();
    configure(&mut s, &base, &["replicate:acme/ok"], &["offline"]);
    s.prices.insert("replicate:acme/ok".into(), Price { per_predict_second: 0.002, expected_predict_s: 10.0, ..Default::default() });
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let c = ctx();
    assert_eq!(ps.video.estimate_usd(&video_req(PathBuf::new())), Some(0.02));
    let (path, cost) = generate(&ps, &c).await.unwrap();
    let probe = Ffmpeg::locate().unwrap().probe(&path).unwrap();
    assert_eq!((probe.width, probe.height, probe.video_codec.as_str()), (320, 180, "h264"));
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
    assert!(mock.polls.load(Ordering::SeqCst) >= 3);
    // metrics.predict_time (12.5 s) × the per-second price.
    assert!((cost.unwrap() - 0.025).abs() < 1e-9, "{cost:?}");
    let progress = c.progress.lock().unwrap().clone();
    assert!(progress.iter().any(|p| (*p - 0.5).abs() < 1e-6), "tqdm progress reported: {progress:?}");
    assert_eq!(progress.last(), Some(&1.0));
    let input = mock.inputs.lock().unwrap()[0].clone();
    assert_eq!(input["prompt"], "pink running shoes: 100% \"fresh\"");
    assert!(input["image"].as_str().unwrap().starts_with("data:image/png;base64,"), "a small keyframe goes inline");
    assert_eq!((input["duration"].as_u64(), input["aspect_ratio"].as_str(), input["seed"].as_u64()), (Some(4), Some("16:9"), Some(7)));
    assert!(mock.auth_headers.lock().unwrap().iter().all(|h| h == &format!("Bearer {TOKEN}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_model_is_run_by_its_version() {
    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:someone/model:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"]);
    generate(&ps, &ctx()).await.unwrap();
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_wait_returns_a_finished_prediction_without_polling() {
    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:acme/fast"]);
    generate(&ps, &ctx()).await.unwrap();
    assert_eq!((mock.creates.load(Ordering::SeqCst), mock.polls.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_ride_out_a_500_a_429_with_retry_after_and_a_timeout() {
    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:acme/flaky"]);
    let t = Instant::now();
    generate(&ps, &ctx()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was honoured");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1, "the create is never repeated");

    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:acme/slowpoll"]);
    generate(&ps, &ctx()).await.unwrap();
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_named_and_never_resubmitted() {
    let (mock, base) = Replicate::start(TOKEN);
    let err = generate(&providers(&base, &["replicate:acme/fail"]), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::JobFailed(m) if m.contains("CUDA out of memory")), "{err}");
    let err = generate(&providers(&base, &["replicate:acme/nsfw"]), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::ContentFiltered(m) if m.contains("NSFW")), "{err}");
    let err = generate(&providers(&base, &["replicate:acme/malformed"]), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Protocol(m) if m.contains("cannot read")), "{err}");
    let err = generate(&providers(&base, &["replicate:acme/html"]), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Protocol(m) if m.contains("text/html") && m.contains("HTML page")), "{err}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 4, "one create per call, none repeated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_or_no_key_fails_at_once_without_leaking_it() {
    let (mock, base) = Replicate::start("the-real-token");
    let err = generate(&providers(&base, &["replicate:acme/ok"]), &ctx()).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ProviderError::Auth(_)) && msg.contains("401") && msg.contains("check the API key"), "{msg}");
    assert!(!msg.contains(TOKEN));
    assert_eq!(mock.creates.load(Ordering::SeqCst), 0);

    let mut s = settings();
    configure(&mut s, &base, &["replicate:acme/ok"], &["offline"]);
    s.backends.get_mut("replicate").unwrap().api_key_env = "ADMINT_TEST_UNSET_KEY".into();
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let err = generate(&ps, &ctx()).await.unwrap_err();
    assert!(err.to_string().contains("set the environment variable ADMINT_TEST_UNSET_KEY"), "{err}");
    assert_eq!(mock.auth_headers.lock().unwrap().len(), 1, "no request was sent without a key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_a_422_with_the_servers_reason() {
    let (mock, base) = Replicate::start(TOKEN);
    let mut s = settings();
    configure(&mut s, &base, &["replicate:acme/ok"], &["offline"]);
    s.inputs.insert("replicate:acme/ok".into(), serde_json::json!({ "image": "{image}" }));
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let err = generate(&ps, &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest(m) if m.contains("422") && m.contains("prompt is required")), "{err}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_the_prediction_on_replicate() {
    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:acme/hold"]);
    let c = ctx();
    let cancel = c.ctx.cancel.clone();
    let progress = c.progress.clone();
    tokio::spawn(async move {
        while progress.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.store(true, Ordering::SeqCst);
    });
    let err = generate(&ps, &c).await.unwrap_err();
    assert!(matches!(err, ProviderError::Cancelled), "{err}");
    assert_eq!(mock.cancels.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_inputs_are_uploaded_not_inlined() {
    let (mock, base) = Replicate::start(TOKEN);
    let ps = providers(&base, &["replicate:acme/ok"]);
    let c = ctx();
    // Noise compresses badly: this PNG is well over the 1 MB data-URI limit.
    let big = c.ctx.work_dir.join("big.png");
    let mut rng = 1u32;
    let img = image::RgbImage::from_fn(900, 900, |_, _| {
        rng = rng.wrapping_mul(1664525).wrapping_add(1013904223);
        image::Rgb([(rng >> 24) as u8, (rng >> 16) as u8, (rng >> 8) as u8])
    });
    img.save(&big).unwrap();
    assert!(std::fs::metadata(&big).unwrap().len() > 1 << 20);
    let m = ps.video.head().clone();
    let sub = m.submit(&video_req(big), &c.ctx).await.unwrap();
    assert!(matches!(sub, Submitted::Pending(_)));
    assert_eq!(mock.uploads.load(Ordering::SeqCst), 1);
    assert!(mock.inputs.lock().unwrap()[0]["image"].as_str().unwrap().ends_with("/files/upload1.png"));
}

fn auto() -> AutoDecider {
    AutoDecider { retry_failed: false }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_runs_on_replicate_and_records_models_and_costs() {
    let (mock, base) = Replicate::start(TOKEN);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, &["replicate:acme/ok"], &["replicate:acme/fast"]));
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 8.0)).await;
    let out = h.out("out");
    let outcome = p.run(&id, &mut auto(), Some(&out)).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }), "{outcome:?}");
    let st = p.load(&id).await.unwrap();
    let scenes = st.scenes.len();
    assert_eq!(mock.creates.load(Ordering::SeqCst), 3 + 2 * scenes, "3 references, a keyframe and a clip per scene, each created once");
    assert!(st.clips.values().all(|c| c.provider == "replicate:acme/ok"));
    assert!(st.references.values().all(|r| r.source == "replicate:acme/fast"));
    let clip_costs: Vec<_> = st.costs.iter().filter(|c| c.stage.starts_with("clip:")).collect();
    assert_eq!(clip_costs.len(), scenes);
    assert!(clip_costs.iter().all(|c| c.model == "replicate:acme/ok" && c.provider == "replicate" && c.usd > 0.0));
    let events = p.store.events(&id).unwrap();
    // The `fast` image model finishes within Prefer: wait, so only the clips leave a job to poll.
    assert_eq!(count(&events, |e| matches!(e, Event::JobSubmitted { .. })), scenes);
    let probe = Ffmpeg::locate().unwrap().probe(&out.join("final.mp4")).unwrap();
    assert_eq!((probe.width, probe.height), (320, 180));
    // The key is nowhere on disk: not in sled, blobs, work files, logs or the outputs.
    drop(p);
    assert_nowhere(h.dir.path(), TOKEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_falls_back_to_the_next_in_the_chain() {
    let (mock, base) = Replicate::start(TOKEN);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, &["replicate:acme/fail", "offline"], &["offline"]));
    let id = new_session(&p, brief_input("a coffee subscription for busy parents", 6.0)).await;
    p.run(&id, &mut auto(), None).await.unwrap();
    let st = p.load(&id).await.unwrap();
    assert!(!st.clips.is_empty() && st.clips.values().all(|c| c.provider == "offline/camera-animator"));
    assert_eq!(mock.creates.load(Ordering::SeqCst), st.clips.len(), "each clip tried the paid model once");
    let events = p.store.events(&id).unwrap();
    assert_eq!(count(&events, |e| matches!(e, Event::JobEnded { error, .. } if error.contains("CUDA"))), st.clips.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_below_the_estimate_submits_nothing() {
    let (mock, base) = Replicate::start(TOKEN);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, &["replicate:acme/ok"], &["offline"]));
    let mut input = brief_input("pink running shoes", 8.0);
    input.budget_usd = Some(0.10);
    let id = new_session(&p, input).await;
    let outcome = p.run(&id, &mut auto(), None).await.unwrap();
    let RunOutcome::Paused { gate: admint::pipeline::Gate::Budget(msg), .. } = outcome else { panic!("a budget stop is a pause: {outcome:?}") };
    assert!(msg.contains("over the $0.10 budget") && msg.contains("clips on replicate:acme/ok"), "{msg}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 0);
    let st = p.load(&id).await.unwrap();
    assert!(st.failure.is_none(), "not stored as failed: {:?}", st.failure);
    // Raised, the run goes on from where it stopped and finishes.
    p.command(&id, &admint::domain::Command::SetBudget { usd: Some(100.0) }).await.unwrap();
    let outcome = p.run(&id, &mut auto(), None).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }), "{outcome:?}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), p.load(&id).await.unwrap().scenes.len());

    // A paid model with no known price cannot be capped: refused too, with the fix.
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, &["replicate:acme/unpriced"], &["offline"]));
    let mut input = brief_input("pink running shoes", 8.0);
    input.budget_usd = Some(100.0);
    let id = new_session(&p, input).await;
    let before = mock.creates.load(Ordering::SeqCst);
    let outcome = p.run(&id, &mut auto(), None).await.unwrap();
    let RunOutcome::Paused { gate: admint::pipeline::Gate::Budget(err), .. } = outcome else { panic!("{outcome:?}") };
    assert!(err.contains("no price is known for replicate:acme/unpriced") && err.contains("[prices."), "{err}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_actual_costs_outgrow_the_estimate_stops_before_the_call_that_would_exceed() {
    let (mock, base) = Replicate::start(TOKEN);
    *mock.predict_time.lock().unwrap() = 30.0;
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| {
        configure(s, &base, &["replicate:acme/pricey"], &["offline"]);
        s.pipeline.clip_concurrency = 1;
        // Estimated at 5 s of compute ($0.05 a clip); each really takes 30 s ($0.30).
        s.prices.insert("replicate:acme/pricey".into(), Price { per_predict_second: 0.01, expected_predict_s: 5.0, ..Default::default() });
    });
    let mut input = brief_input("pink running shoes", 8.0);
    input.budget_usd = Some(0.32);
    let id = new_session(&p, input).await;
    let outcome = p.run(&id, &mut auto(), None).await.unwrap();
    let st = p.load(&id).await.unwrap();
    assert!(st.scenes.len() >= 2, "needs two clips: {}", st.scenes.len());
    let RunOutcome::Paused { gate: admint::pipeline::Gate::Budget(err), .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1, "the second clip was not submitted: {err}");
    assert!((st.total_cost() - 0.30).abs() < 1e-9, "the ledger holds the actual cost: {}", st.total_cost());
    assert!(st.total_cost() <= 0.32);
}

#[test]
fn kill_9_after_a_remote_job_is_submitted_then_resume_reattaches_without_a_second_create() {
    let (mock, base) = Replicate::start(TOKEN);
    let dir = root_with_config(&format!(
        "[pipeline]\nclip_concurrency = 1\n[scoring]\nbackend = \"none\"\n[backends.replicate]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npoll_ms = 50\n[roles.video]\nchain = [\"replicate:acme/hold\"]\n"));
    let root = dir.path();
    let mut child = spawn_generate(root, (KEY_ENV, TOKEN), "8");
    let session = jsonl_until(&mut child, "job_submitted", 1);
    // The job is recorded and being polled: kill admint mid-job.
    let t = Instant::now();
    while mock.polls.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);

    mock.release.store(true, Ordering::SeqCst);
    let out = admint_cmd(root, (KEY_ENV, TOKEN)).args(["resume", &session, "--auto", "--output", "out"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("re-attaching to job pred0001"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(root.join("out/final.mp4").is_file());
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    let clips = manifest["clips"].as_array().unwrap().len();
    assert!(clips >= 2);
    assert_eq!(mock.creates.load(Ordering::SeqCst), clips, "every clip was created exactly once, the killed one included");
    let export = admint_cmd(root, (KEY_ENV, TOKEN)).args(["sessions", "export", &session, "exported"]).output().unwrap();
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    assert!(root.join("exported").read_dir().unwrap().count() > 0);
    // The data dir, the log, the outputs and the export: no key anywhere.
    assert!(root.join("state/admint.log").is_file());
    assert_nowhere(root, TOKEN);
}

#[test]
fn doctor_lists_the_chains_and_checks_keys_prices_and_reachability() {
    let (_mock, base) = Replicate::start(TOKEN);
    let dir = root_with_config(&format!(
        "[backends.replicate]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\n[backends.fal]\napi_key_env = \"ADMINT_TEST_NO_SUCH_KEY\"\n[roles.video]\nchain = [\"replicate:acme/ok\", \"fal:acme/x/image-to-video\", \"offline\"]\n[prices.\"replicate:acme/ok\"]\nper_second = 0.1\n"));
    let root = dir.path();
    let out = admint_cmd(root, (KEY_ENV, TOKEN)).arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a missing key fails the doctor:\n{text}");
    assert!(text.contains("role video: replicate:acme/ok → fal:acme/x/image-to-video → offline"), "{text}");
    assert!(text.contains("ok     backend replicate:") && text.contains("accepts the key"), "{text}");
    assert!(text.contains("FAIL   backend fal:") && text.contains("set the environment variable ADMINT_TEST_NO_SUCH_KEY"), "{text}");
    assert!(text.contains("FAIL   fal:acme/x/image-to-video price: unknown"), "{text}");
    assert!(!text.contains(TOKEN));
}

#[test]
fn dry_run_prices_the_chain_and_says_when_the_budget_is_short() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("config.toml"), "[roles.video]\nchain = [\"replicate:google/veo-3-fast\", \"offline\"]\n").unwrap();
    let out = admint_cmd(root, (KEY_ENV, TOKEN)).args(["generate", "--prompt", "pink running shoes", "--duration", "16", "--budget", "1", "--dry-run", "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every clip is sent to Veo 3 Fast as 8 s (its input template), billed at the shipped
    // $0.40/s: $3.20 a clip, whatever the scene's length.
    let clips = v["estimate"].as_array().unwrap().iter().find(|l| l["what"] == "clips").expect("a clips line").clone();
    let n = clips["calls"].as_f64().unwrap();
    assert!(n >= 2.0 && (clips["usd"].as_f64().unwrap() - 3.2 * n).abs() < 1e-9, "{clips}");
    assert!((v["estimated_cost_usd"].as_f64().unwrap() - 3.2 * n).abs() < 1e-9, "{v}");
    assert_eq!(v["within_budget"], false);
    assert_eq!(v["roles"]["video"], serde_json::json!(["replicate:google/veo-3-fast", "offline"]));
    assert!(!root.join("data").exists(), "a dry run writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_and_global_limits_cap_the_jobs_in_flight() {
    for (backend_limit, global_limit) in [(1, 8), (4, 1)] {
        let (mock, base) = Replicate::start(TOKEN);
        let h = Harness::new();
        let p = h.pipeline_scored(h.store(), |s| {
            configure(s, &base, &["replicate:acme/hold"], &["offline"]);
            s.pipeline.clip_concurrency = 4;
            s.backends.get_mut("replicate").unwrap().concurrency = backend_limit;
            s.limits.remote_jobs = global_limit;
        });
        let id = new_session(&p, brief_input("pink running shoes", 12.0)).await;
        let run = {
            let p = p.clone();
            let id = id.clone();
            tokio::spawn(async move { p.run(&id, &mut AutoDecider { retry_failed: false }, None).await })
        };
        let t = Instant::now();
        while mock.creates.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(mock.creates.load(Ordering::SeqCst), 1, "limits {backend_limit}/{global_limit}: one job at a time");
        mock.release.store(true, Ordering::SeqCst);
        run.await.unwrap().unwrap();
        let scenes = p.load(&id).await.unwrap().scenes.len();
        assert!(scenes >= 2);
        assert_eq!(mock.creates.load(Ordering::SeqCst), scenes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_capped_and_checked_for_what_they_are() {
    use admint::providers::http::{download, Api, Auth, MediaKind, RetryPolicy};
    let (_mock, base) = Replicate::start(TOKEN);
    let api = Api::new("replicate", &base, Auth::None, Duration::from_secs(5), RetryPolicy::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/files/out.mp4");
    let err = download(&api, &url, MediaKind::Video, dir.path(), 1000, false).await.unwrap_err();
    assert!(err.to_string().contains("over the 1000-byte cap"), "{err}");
    let err = download(&api, &format!("{base}/files/out.png"), MediaKind::Video, dir.path(), 1 << 20, false).await.unwrap_err();
    assert!(err.to_string().contains("png file where a video was expected"), "{err}");
    let ok = download(&api, &url, MediaKind::Video, dir.path(), 1 << 20, false).await.unwrap();
    assert_eq!(ok.extension().unwrap(), "mp4");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "refused downloads leave no partial files: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn musicgen_makes_the_music_bed_and_a_failed_one_falls_back_to_the_composer() {
    let (mock, base) = Replicate::start(TOKEN);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| {
        configure(s, &base, &["offline"], &["offline"]);
        s.roles.insert("music".into(), RoleSettings { chain: vec!["replicate:meta/musicgen".into()] });
        s.prices.insert("replicate:meta/musicgen".into(), Price { per_predict_second: 0.001, expected_predict_s: 60.0, ..Default::default() });
    });
    let mut input = brief_input("pink running shoes", 8.0);
    input.tone = Some("energetic".into());
    let id = new_session(&p, input).await;
    p.run(&id, &mut auto(), Some(&h.out("out"))).await.unwrap();
    let st = p.load(&id).await.unwrap();
    let bed = st.music.clone().unwrap();
    assert_eq!((bed.provider.as_str(), bed.mood.as_str()), ("replicate:meta/musicgen", "energetic"));
    let input = mock.inputs.lock().unwrap().last().cloned().unwrap();
    let total = st.render.as_ref().map(|r| r.intro_s + r.outro_s).unwrap() + st.scenes_duration();
    assert_eq!(input["duration"].as_u64(), Some(total.ceil() as u64));
    assert_eq!((input["model_version"].as_str(), input["output_format"].as_str()), (Some("stereo-large"), Some("wav")));
    assert!(input["prompt"].as_str().unwrap().contains("energetic"));
    // Replicate's own predict time (12.5 s at $0.001/s) is what the ledger books.
    assert!((st.costs.iter().filter(|c| c.stage == "music").map(|c| c.usd).sum::<f64>() - 0.0125).abs() < 1e-9);

    // A failed prediction falls back to the next in the chain, and says so.
    let h2 = Harness::new();
    let p2 = h2.pipeline_scored(h2.store(), |s| {
        configure(s, &base, &["offline"], &["offline"]);
        s.roles.insert("music".into(), RoleSettings { chain: vec!["replicate:acme/fail".into(), "offline".into()] });
    });
    let mut notes = p2.subscribe();
    let id2 = new_session(&p2, brief_input("pink running shoes", 8.0)).await;
    p2.run(&id2, &mut auto(), Some(&h2.out("out"))).await.unwrap();
    assert_eq!(p2.load(&id2).await.unwrap().music.unwrap().provider, "offline/composer");
    let mut said = Vec::new();
    while let Ok(u) = notes.try_recv() {
        if let admint::pipeline::Update::Note { text, .. } = u {
            said.push(text);
        }
    }
    assert!(said.iter().any(|n| n.contains("music") && n.contains("falling back to offline/composer")), "{said:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_music_prediction_that_is_refused_filtered_or_garbled_is_a_clear_error() {
    let (_mock, base) = Replicate::start(TOKEN);
    let music = |model: &str| {
        let mut s = settings();
        configure(&mut s, &base, &["offline"], &["offline"]);
        s.roles.insert("music".into(), RoleSettings { chain: vec![format!("replicate:{model}")] });
        ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap().music.unwrap()
    };
    let req = admint::pipeline::cut::bed_request("energetic", 12.0, 10.0, 3);
    let c = ctx();
    let (wav, _) = run(music("meta/musicgen").head(), &req, &c).await.unwrap();
    assert_eq!(&std::fs::read(&wav).unwrap()[..4], b"RIFF", "a WAV bed");
    let err = run(music("acme/nsfw").head(), &req, &c).await.unwrap_err();
    assert!(matches!(err, ProviderError::ContentFiltered(_)), "{err}");
    let err = run(music("acme/malformed").head(), &req, &c).await.unwrap_err();
    assert!(matches!(err, ProviderError::Protocol(_)), "{err}");
    let err = run(music("acme/html").head(), &req, &c).await.unwrap_err();
    assert!(err.to_string().contains("HTML page"), "{err}");
    // A prompt-less input (a user's broken input template) is refused with Replicate's 422.
    let mut s = settings();
    configure(&mut s, &base, &["offline"], &["offline"]);
    s.roles.insert("music".into(), RoleSettings { chain: vec!["replicate:meta/musicgen".into()] });
    s.inputs.insert("replicate:meta/musicgen".into(), serde_json::json!({ "text": "{prompt}", "duration": "{duration}", "model_version": "stereo-large" }));
    let broken = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap().music.unwrap();
    let err = run(broken.head(), &req, &c).await.unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest(m) if m.contains("prompt is required")), "{err}");
}

#[test]
fn a_budget_stop_pauses_leaves_no_empty_folder_and_resume_budget_finishes() {
    let (mock, base) = Replicate::start(TOKEN);
    let dir = root_with_config(&format!("[scoring]\nbackend = \"none\"\n[backends.replicate]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npoll_ms = 20\n[roles.video]\nchain = [\"replicate:acme/ok\"]\n[prices.\"replicate:acme/ok\"]\nper_second = 0.05\n"));
    let root = dir.path();
    let out = admint_cmd(root, (KEY_ENV, TOKEN)).args(["generate", "--prompt", "a cordless vacuum", "--auto", "--duration", "8", "--budget", "0.01", "--output", "out", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("paused") && err.contains("--budget"), "{err}");
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["status"], "paused");
    let session = manifest["session_id"].as_str().unwrap().to_string();
    assert!(!root.join("out").exists(), "no empty output folder is left");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 0);
    let bad = admint_cmd(root, (KEY_ENV, TOKEN)).args(["resume", &session, "--budget", "-3"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let done = admint_cmd(root, (KEY_ENV, TOKEN)).args(["resume", &session, "--auto", "--budget", "5", "--output", "out"]).output().unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(root.join("out/final.mp4").is_file());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["cost"]["budget_usd"], 5.0);
    assert_eq!(mock.creates.load(Ordering::SeqCst), m["clips"].as_array().unwrap().len());
}

#[test]
fn kill_9_while_creates_are_in_flight_then_resume_finds_them_instead_of_paying_again() {
    let (mock, base) = Replicate::start(TOKEN);
    // Default concurrency, no Prefer: wait; every create takes 3 s to answer.
    let dir = root_with_config(&format!(
        "[scoring]\nbackend = \"none\"\n[backends.replicate]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npoll_ms = 50\nwait_s = 0\n[roles.video]\nchain = [\"replicate:acme/slowcreate\"]\n[prices.\"replicate:acme/slowcreate\"]\nper_second = 0.05\n"));
    let root = dir.path();
    let mut child = spawn_generate(root, (KEY_ENV, TOKEN), "12");
    let session = jsonl_until(&mut child, "job_submitting", 2);
    // Two creates are on the wire, their predictions made, no id back yet: kill.
    let t = Instant::now();
    while mock.creates.load(Ordering::SeqCst) < 2 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let cut_off = mock.creates.load(Ordering::SeqCst);
    assert!(cut_off >= 2);

    let out = admint_cmd(root, (KEY_ENV, TOKEN)).args(["resume", &session, "--auto", "--output", "out"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("re-attaching, not submitting again"), "{log}");
    assert!(mock.lists.load(Ordering::SeqCst) >= 1);
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    let clips = manifest["clips"].as_array().unwrap().len();
    assert_eq!(mock.creates.load(Ordering::SeqCst), clips, "exactly one create per clip, the cut-off ones included");
    let booked = manifest["cost"]["ledger"].as_array().unwrap().iter().filter(|c| c["stage"].as_str().unwrap_or("").starts_with("clip:")).count();
    assert_eq!(booked, clips, "one ledger entry per clip");
    assert!(!manifest["cost"]["ledger"].to_string().contains("possible double"), "Replicate can be searched: no possible double charge");
}

#[test]
fn estimates_price_what_is_sent_not_what_was_planned() {
    // Veo 3 Fast's shipped input sends "duration": 8 whatever the scene's length: it is
    // billed (and estimated) for 8 s at its list price.
    let mut s = settings();
    configure(&mut s, "http://127.0.0.1:9", &["replicate:google/veo-3-fast"], &["offline"]);
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let mut req = video_req(std::path::PathBuf::from("key.png"));
    req.duration_s = 2.0;
    assert!((ps.video.estimate_usd(&req).unwrap() - 8.0 * 0.40).abs() < 1e-9, "{:?}", ps.video.estimate_usd(&req));
    // A model whose input follows the scene is priced by the scene (rounded up to whole
    // seconds, as sent).
    let mut s = settings();
    configure(&mut s, "http://127.0.0.1:9", &["replicate:acme/ok"], &["offline"]);
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    req.duration_s = 2.4;
    assert!((ps.video.estimate_usd(&req).unwrap() - 3.0 * 0.05).abs() < 1e-9, "{:?}", ps.video.estimate_usd(&req));
}
