//! The fal backend against a local server that behaves like fal's queue.

mod common;
mod mocks;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use admint::config::{BackendSettings, Price, RoleSettings, Settings};
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::fal::Fal;

const KEY: &str = "fal-key-id:fal-key-secret-0123456789";
const KEY_ENV: &str = "ADMINT_TEST_FAL_KEY";

fn configure(s: &mut Settings, base: &str, video: &[&str], image: &[&str]) {
    std::env::set_var(KEY_ENV, KEY);
    s.scoring.backend = "none".into();
    s.backends.insert("fal".into(), BackendSettings { base_url: base.into(), api_key_env: KEY_ENV.into(), poll_ms: 20, retry_base_ms: 20, timeout_s: 2, ..Default::default() });
    let chain = |c: &[&str]| RoleSettings { chain: c.iter().map(|s| s.to_string()).collect() };
    s.roles.insert("video".into(), chain(video));
    s.roles.insert("image".into(), chain(image));
    for m in ["ok", "flaky", "fail", "filtered", "nsfw", "html", "hold"] {
        s.prices.insert(format!("fal:acme/{m}/image-to-video"), Price { per_second: 0.05, ..Default::default() });
        s.prices.insert(format!("fal:acme/{m}"), Price { per_image: 0.003, ..Default::default() });
    }
}

fn providers(base: &str, video: &str, image: &str) -> ProviderSet {
    let mut s = settings();
    configure(&mut s, base, &[video], &[image]);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_reports_position_and_progress_then_downloads() {
    let (mock, base) = Fal::start(KEY);
    let ps = providers(&base, "fal:acme/ok/image-to-video", "offline");
    let c = ctx();
    let (path, cost) = generate(&ps, &c).await.unwrap();
    assert_eq!(Ffmpeg::locate().unwrap().probe(&path).unwrap().video_codec, "h264");
    assert_eq!(cost, None, "fal reports no cost: the ledger takes the estimate");
    assert_eq!(ps.video.estimate_usd(&video_req(path.clone())), Some(0.2));
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
    let progress = c.progress.lock().unwrap().clone();
    assert!(progress.iter().any(|p| (*p - 0.3).abs() < 1e-6), "tqdm lines in the logs give progress: {progress:?}");
    let body = mock.bodies.lock().unwrap()[0].clone();
    assert!(body["image_url"].as_str().unwrap().starts_with("data:image/png;base64,"));
    assert_eq!(body["prompt"], "pink running shoes: 100% \"fresh\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_come_back_and_the_safety_checker_is_respected() {
    let (_mock, base) = Fal::start(KEY);
    let ps = providers(&base, "offline", "fal:acme/ok");
    let c = ctx();
    let (path, _) = run(ps.image.head(), &image_req(), &c).await.unwrap();
    assert_eq!(image::image_dimensions(&path).unwrap(), (400, 240));
    let ps = providers(&base, "offline", "fal:acme/nsfw");
    let err = run(ps.image.head(), &image_req(), &ctx()).await.unwrap_err();
    assert!(matches!(err, ProviderError::ContentFiltered(_)), "{err}");
    let mut s = settings();
    configure(&mut s, &base, &["offline"], &["offline"]);
    s.roles.insert("music".into(), RoleSettings { chain: vec!["fal:acme/garbled".into()] });
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let req = admint::pipeline::cut::bed_request("calm", 10.0, 8.0, 1);
    let err = run(ps.music.unwrap().head(), &req, &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::Protocol(m) if m.contains("cannot read")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_and_a_429_with_an_http_date_are_waited_out() {
    let (mock, base) = Fal::start(KEY);
    let ps = providers(&base, "fal:acme/flaky/image-to-video", "offline");
    let t = Instant::now();
    generate(&ps, &ctx()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(900), "Retry-After as an HTTP date was honoured: {:?}", t.elapsed());
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_reported_as_what_they_are() {
    let (mock, base) = Fal::start(KEY);
    let err = generate(&providers(&base, "fal:acme/fail/image-to-video", "offline"), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::JobFailed(m) if m.contains("CUDA error")), "{err}");
    let err = generate(&providers(&base, "fal:acme/filtered/image-to-video", "offline"), &ctx()).await.unwrap_err();
    assert!(matches!(err, ProviderError::ContentFiltered(_)), "{err}");
    let err = generate(&providers(&base, "fal:acme/html/image-to-video", "offline"), &ctx()).await.unwrap_err();
    assert!(err.to_string().contains("HTML page"), "{err}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 3);

    std::env::set_var("ADMINT_TEST_FAL_WRONG", "wrong-key");
    let mut s = settings();
    configure(&mut s, &base, &["fal:acme/ok/image-to-video"], &["offline"]);
    s.backends.get_mut("fal").unwrap().api_key_env = "ADMINT_TEST_FAL_WRONG".into();
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let err = generate(&ps, &ctx()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Auth(_)) && !err.to_string().contains("wrong-key"), "{err}");

    let mut s = settings();
    configure(&mut s, &base, &["fal:acme/ok/image-to-video"], &["offline"]);
    s.inputs.insert("fal:acme/ok/image-to-video".into(), serde_json::json!({ "image_url": "{image}" }));
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let err = generate(&ps, &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest(m) if m.contains("422") && m.contains("field required")), "{err}");
    assert_eq!(mock.creates.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_uses_the_queues_cancel_url() {
    let (mock, base) = Fal::start(KEY);
    let ps = providers(&base, "fal:acme/hold/image-to-video", "offline");
    let c = ctx();
    let (cancel, progress) = (c.ctx.cancel.clone(), c.progress.clone());
    tokio::spawn(async move {
        while progress.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.store(true, Ordering::SeqCst);
    });
    assert!(matches!(generate(&ps, &c).await.unwrap_err(), ProviderError::Cancelled));
    assert_eq!(mock.cancels.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_found_again_by_its_id_after_a_restart() {
    let (mock, base) = Fal::start(KEY);
    let first = providers(&base, "fal:acme/ok/image-to-video", "offline");
    let c = ctx();
    let m = first.video.head().clone();
    let Submitted::Pending(job) = m.submit(&video_req(keyframe(&c.ctx.work_dir)), &c.ctx).await.unwrap() else { panic!("fal queues") };
    // A new process knows only the recorded id: the URLs are rebuilt from the app id.
    let again = providers(&base, "fal:acme/ok/image-to-video", "offline");
    let m2 = again.video.head().clone();
    let out = wait_job(&job, &c.ctx, m2.poll_interval(), || m2.status(&job), || m2.cancel(&job)).await.unwrap();
    assert!(matches!(out.media, MediaRef::Url(u) if u.ends_with("/files/out.mp4")));
    assert_eq!(mock.creates.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_runs_on_fal() {
    let (mock, base) = Fal::start(KEY);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, &["fal:acme/ok/image-to-video"], &["fal:acme/ok"]));
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&h.out("out"))).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }));
    let st = p.load(&id).await.unwrap();
    assert_eq!(mock.creates.load(Ordering::SeqCst), 3 + 2 * st.scenes.len());
    assert!(st.clips.values().all(|c| c.provider == "fal:acme/ok/image-to-video"));
    // fal reports no cost: each call is booked at its estimate, which prices what is sent
    // (the video template asks for whole seconds: a 1.5 s scene is sent, and billed, as 2).
    let expected = 3.0 * 0.003 + st.scenes.len() as f64 * 0.003 + st.scenes.iter().map(|s| 0.05 * s.duration_s.ceil()).sum::<f64>();
    assert!((st.total_cost() - expected).abs() < 1e-9, "{} vs {expected}", st.total_cost());
    assert!(st.costs.iter().all(|c| c.note.starts_with("estimate")));
    drop(p);
    assert_nowhere(h.dir.path(), KEY);
}

fn music_session(base: &str, chain: &[&str]) -> (Harness, admint::pipeline::Pipeline) {
    let h = Harness::new();
    let chain: Vec<String> = chain.iter().map(|s| s.to_string()).collect();
    let p = h.pipeline_scored(h.store(), |s| {
        configure(s, base, &["offline"], &["offline"]);
        s.roles.insert("music".into(), RoleSettings { chain: chain.clone() });
        s.prices.insert("fal:fal-ai/stable-audio".into(), Price { per_call: 0.2, ..Default::default() });
        s.prices.insert("fal:acme/filtered".into(), Price { per_call: 0.2, ..Default::default() });
    });
    (h, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stable_audio_makes_the_music_bed_through_the_queue() {
    let (mock, base) = Fal::start(KEY);
    let (h, p) = music_session(&base, &["fal:fal-ai/stable-audio"]);
    let mut input = brief_input("pink running shoes", 8.0);
    input.tone = Some("calm".into());
    let id = new_session(&p, input).await;
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&h.out("out"))).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }));
    let st = p.load(&id).await.unwrap();
    let bed = st.music.clone().expect("a bed");
    assert_eq!((bed.provider.as_str(), bed.mood.as_str(), bed.bpm), ("fal:fal-ai/stable-audio", "calm", None), "a remote model's tempo is not known");
    let body = mock.bodies.lock().unwrap().last().cloned().unwrap();
    let total = st.render.as_ref().map(|r| r.intro_s + r.outro_s).unwrap() + st.scenes_duration();
    assert_eq!(body["seconds_total"].as_u64(), Some(total.ceil() as u64));
    assert_eq!(body["steps"].as_u64(), Some(100));
    let prompt = body["prompt"].as_str().unwrap();
    assert!(prompt.contains("calm") && prompt.contains("bpm") && prompt.contains("no vocals"), "{prompt}");
    assert_eq!(st.costs.iter().filter(|c| c.stage == "music").map(|c| c.usd).sum::<f64>(), 0.2);
    assert!(st.jobs.keys().any(|j| j.starts_with("music#")), "the job was recorded before it was sent");
    // The bed is in the final mix.
    let ff = Ffmpeg::locate().unwrap();
    assert!(ff.probe(&h.out("out").join("final.mp4")).unwrap().has_audio);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_filtered_bed_falls_back_to_the_offline_composer() {
    let (_mock, base) = Fal::start(KEY);
    // 60 s is more than Stable Audio's 47: a 422, then the offline composer.
    let (h, p) = music_session(&base, &["fal:fal-ai/stable-audio", "offline"]);
    let id = new_session(&p, brief_input("a desk lamp", 60.0)).await;
    p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&h.out("out"))).await.unwrap();
    let bed = p.load(&id).await.unwrap().music.unwrap();
    assert_eq!(bed.provider, "offline/composer");
    assert!(bed.bpm.is_some(), "the composer's tempo is known");
    let err = {
        let mut s = settings();
        configure(&mut s, &base, &["offline"], &["offline"]);
        s.roles.insert("music".into(), RoleSettings { chain: vec!["fal:acme/filtered".into()] });
        let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
        let req = admint::pipeline::cut::bed_request("calm", 10.0, 8.0, 1);
        run(ps.music.unwrap().head(), &req, &ctx()).await.unwrap_err()
    };
    assert!(matches!(err, ProviderError::ContentFiltered(_)), "{err}");
}

#[test]
fn kill_9_while_submits_are_in_flight_then_resume_finds_them_in_the_request_list() {
    let (mock, base) = Fal::start(KEY);
    // Every submit answers 3 s after the request is made; fal lists a request once it
    // has ended (1 s after it was sent, in the mock).
    let dir = root_with_config(&format!(
        "[scoring]\nbackend = \"none\"\n[backends.fal]\nbase_url = \"{base}\"\napi_key_env = \"{KEY_ENV}\"\npoll_ms = 50\nplatform_url = \"{base}/v1\"\nfind_wait_s = 10\n[roles.video]\nchain = [\"fal:acme/slowcreate\"]\n[prices.\"fal:acme/slowcreate\"]\nper_second = 0.05\n"));
    let root = dir.path();
    let mut child = common::spawn_generate(root, (KEY_ENV, KEY), "12");
    let session = common::jsonl_until(&mut child, "job_submitting", 2);
    let t = std::time::Instant::now();
    while mock.creates.load(Ordering::SeqCst) < 2 && t.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(mock.creates.load(Ordering::SeqCst) >= 2);

    let out = common::admint_cmd(root, (KEY_ENV, KEY)).args(["resume", &session, "--auto", "--output", "out"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("re-attaching, not submitting again"), "{log}");
    assert!(mock.lists.load(Ordering::SeqCst) >= 1);
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    let clips = manifest["clips"].as_array().unwrap().len();
    assert_eq!(mock.creates.load(Ordering::SeqCst), clips, "exactly one request per clip, the cut-off ones included");
    let ledger = manifest["cost"]["ledger"].to_string();
    assert!(!ledger.contains("possible double"), "fal's requests can be listed: no possible double charge: {ledger}");
    assert!(!log.contains(KEY) && !ledger.contains(KEY), "the key stays secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_list_is_read_with_the_key_and_its_pages_followed() {
    let (mock, base) = Fal::start(KEY);
    let mut s = settings();
    configure(&mut s, &base, &["fal:acme/ok"], &["offline"]);
    s.backends.get_mut("fal").unwrap().platform_url = format!("{base}/v1");
    s.backends.get_mut("fal").unwrap().find_wait_s = 3;
    let ps = ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap();
    let model = ps.video.head();
    let c = ctx();
    let key = keyframe(&c.ctx.work_dir);
    // Five requests with different prompts: the third one made is found on page 2 once ended.
    let since = admint::domain::now_ms();
    let mut reqs = Vec::new();
    for i in 0..5 {
        let mut r = video_req(key.clone());
        r.prompt = format!("shot {i}: a \"quoted\" 100% pink shoe");
        model.submit(&r, &c.ctx).await.unwrap();
        reqs.push(r);
    }
    let found = model.find(&reqs[2], since).await.unwrap().expect("found once it has ended");
    assert_eq!(found.remote_id, "req-0003-4b1f");
    assert!(mock.lists.load(Ordering::SeqCst) >= 2, "waited for it to end and followed the pages");
    // A request that was never made is not found, after the wait.
    let mut never = video_req(key);
    never.prompt = "never sent".into();
    let t = std::time::Instant::now();
    assert!(model.find(&never, since).await.unwrap().is_none());
    assert!(t.elapsed() >= std::time::Duration::from_secs(1), "it waits for a request that may still be running");
}
