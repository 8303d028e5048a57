//! The ComfyUI backend against a local server that behaves like ComfyUI's routes and
//! websocket.

mod common;
mod mocks;

use std::sync::atomic::Ordering;
use std::time::Duration;

use admint::config::{BackendSettings, RoleSettings, Settings};
use admint::media::Ffmpeg;
use admint::pipeline::{AutoDecider, RunOutcome};
use admint::providers::remote::comfyui::prompt_id_for;
use admint::providers::*;
use common::*;
use mocks::client::*;
use mocks::comfyui::Comfy;

fn configure(s: &mut Settings, base: &str, auth: Option<(&str, &str)>) {
    s.scoring.backend = "none".into();
    let mut b = BackendSettings { base_url: base.into(), poll_ms: 20, retry_base_ms: 20, timeout_s: 5, ..Default::default() };
    if let Some((kind, var)) = auth {
        b.auth = kind.into();
        b.api_key_env = var.into();
        b.user = "operator".into();
    }
    s.backends.insert("gpu".into(), BackendSettings { kind: "comfyui".into(), ..b });
    s.roles.insert("video".into(), RoleSettings { chain: vec!["gpu:wan-i2v".into()] });
    s.roles.insert("image".into(), RoleSettings { chain: vec!["gpu:sdxl-t2i".into()] });
}

fn providers(base: &str, auth: Option<(&str, &str)>) -> ProviderSet {
    let mut s = settings();
    configure(&mut s, base, auth);
    ProviderSet::from_settings(&s, &Ffmpeg::locate().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_is_filled_uploaded_queued_with_our_id_and_followed_on_the_websocket() {
    let (mock, base) = Comfy::start("ok", None);
    let ps = providers(&base, None);
    let c = ctx();
    let (path, cost) = generate(&ps, &c).await.unwrap();
    assert_eq!(Ffmpeg::locate().unwrap().probe(&path).unwrap().video_codec, "h264");
    assert_eq!(cost, None);
    assert_eq!(ps.video.estimate_usd(&video_req(path.clone())), Some(0.0), "your own box costs nothing");
    assert_eq!((mock.prompts.load(Ordering::SeqCst), mock.uploads.load(Ordering::SeqCst)), (1, 1));
    let wf = mock.workflows.lock().unwrap()[0].clone();
    assert_eq!(mock.ids.lock().unwrap()[0], prompt_id_for(&format!("admint-test\n{base}\n{wf}")), "the prompt id comes from the task key, the box and the workflow as sent");
    assert_eq!(wf["6"]["inputs"]["text"], "pink running shoes: 100% \"fresh\"");
    assert_eq!((wf["3"]["inputs"]["seed"].as_u64(), wf["50"]["inputs"]["length"].as_u64(), wf["57"]["inputs"]["fps"].as_u64()), (Some(7), Some(97), Some(24)));
    assert!(wf["52"]["inputs"]["image"].as_str().unwrap().starts_with("admint-"));
    assert_eq!(mock.ws_clients.load(Ordering::SeqCst), 1);
    let progress = c.progress.lock().unwrap().clone();
    let mid: Vec<&f32> = progress.iter().filter(|p| **p > 0.0 && **p < 0.99).collect();
    assert!(mid.len() >= 2 && mid.windows(2).all(|w| w[0] <= w[1]), "combined node progress rises: {progress:?}");

    let (png, _) = run(ps.image.head(), &image_req(), &c).await.unwrap();
    assert_eq!(image::image_dimensions(&png).unwrap(), (400, 240));
    let wf = mock.workflows.lock().unwrap()[1].clone();
    assert_eq!((wf["5"]["inputs"]["width"].as_u64(), wf["5"]["inputs"]["height"].as_u64()), (Some(400), Some(240)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_websocket_history_polling_still_finds_the_result() {
    let (mock, base) = Comfy::start("no-ws", None);
    generate(&providers(&base, None), &ctx()).await.unwrap();
    assert_eq!((mock.prompts.load(Ordering::SeqCst), mock.ws_clients.load(Ordering::SeqCst)), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitting_the_same_task_again_reattaches_instead_of_queueing_twice() {
    let (mock, base) = Comfy::start("ok", None);
    let ps = providers(&base, None);
    let c = ctx();
    let m = ps.video.head().clone();
    let req = video_req(keyframe(&c.ctx.work_dir));
    let Submitted::Pending(first) = m.submit(&req, &c.ctx).await.unwrap() else { panic!() };
    // A crash before the job was recorded: the resumed run submits again.
    let again = providers(&base, None);
    let Submitted::Pending(second) = again.video.head().submit(&req, &c.ctx).await.unwrap() else { panic!() };
    assert_eq!(first.remote_id, second.remote_id);
    let m2 = again.video.head().clone();
    wait_job(&second, &c.ctx, m2.poll_interval(), || m2.status(&second), || m2.cancel(&second)).await.unwrap();
    // And once more after it finished: still the same job, found in the history.
    assert!(matches!(again.video.head().submit(&req, &c.ctx).await.unwrap(), Submitted::Pending(j) if j.remote_id == first.remote_id));
    assert_eq!(mock.prompts.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_and_execution_errors_name_the_node() {
    let (mock, base) = Comfy::start("missing-model", None);
    let err = generate(&providers(&base, None), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::InvalidRequest(m) if m.contains("node 37 (UNETLoader)") && m.contains("not in []")), "{err}");
    assert_eq!(mock.prompts.load(Ordering::SeqCst), 0);

    let (_mock, base) = Comfy::start("error", None);
    let err = generate(&providers(&base, None), &ctx()).await.unwrap_err();
    assert!(matches!(&err, ProviderError::JobFailed(m) if m.contains("out of memory") && m.contains("KSampler")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_interrupts_the_run_and_deletes_it_from_the_queue() {
    let (mock, base) = Comfy::start("hold", None);
    let ps = providers(&base, None);
    let c = ctx();
    let (cancel, progress) = (c.ctx.cancel.clone(), c.progress.clone());
    tokio::spawn(async move {
        while !progress.lock().unwrap().iter().any(|p| *p > 0.0) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.store(true, Ordering::SeqCst);
    });
    assert!(matches!(generate(&ps, &c).await.unwrap_err(), ProviderError::Cancelled));
    assert_eq!((mock.interrupts.load(Ordering::SeqCst), mock.deletes.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_behind_a_proxy_takes_bearer_or_basic_auth() {
    std::env::set_var("ADMINT_TEST_COMFY_TOKEN", "proxy-token-123");
    let (_m, base) = Comfy::start("ok", Some("Bearer proxy-token-123"));
    generate(&providers(&base, Some(("bearer", "ADMINT_TEST_COMFY_TOKEN"))), &ctx()).await.unwrap();
    let err = generate(&providers(&base, None), &ctx()).await.unwrap_err();
    assert!(matches!(err, ProviderError::Auth(_)), "{err}");

    std::env::set_var("ADMINT_TEST_COMFY_PASSWORD", "s3cret");
    // base64("operator:s3cret")
    let (mock, base) = Comfy::start("ok", Some("Basic b3BlcmF0b3I6czNjcmV0"));
    generate(&providers(&base, Some(("basic", "ADMINT_TEST_COMFY_PASSWORD"))), &ctx()).await.unwrap();
    assert_eq!(mock.ws_clients.load(Ordering::SeqCst), 1, "the websocket got the credentials too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_renders_on_the_gpu_box() {
    let (mock, base) = Comfy::start("ok", None);
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |s| configure(s, &base, None));
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, Some(&h.out("out"))).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }));
    let st = p.load(&id).await.unwrap();
    assert!(st.clips.values().all(|c| c.provider.starts_with("gpu:wan-i2v@")), "the id names the workflow and its digest");
    assert_eq!(mock.prompts.load(Ordering::SeqCst), 3 + 2 * st.scenes.len());
    assert!(st.costs.is_empty(), "nothing to pay on your own box: {:?}", st.costs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_workflow_file_is_a_new_model_and_a_new_prompt() {
    let (mock, base) = Comfy::start("ok", None);
    let c = ctx();
    let req = video_req(keyframe(&c.ctx.work_dir));
    let shipped = providers(&base, None);
    let Submitted::Pending(first) = shipped.video.head().submit(&req, &c.ctx).await.unwrap() else { panic!() };
    // The operator edits the workflow (same name): a faster sampler.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("templates/comfyui")).unwrap();
    let text = include_str!("../templates/comfyui/wan-i2v.json").replace("\"uni_pc\"", "\"euler\"");
    std::fs::write(dir.path().join("templates/comfyui/wan-i2v.json"), text).unwrap();
    let mut s = settings();
    configure(&mut s, &base, None);
    let edited = ProviderSet::with_config_dir(&s, &Ffmpeg::locate().unwrap(), dir.path()).unwrap();
    assert_ne!(edited.video.head().id(), shipped.video.head().id(), "cache keys see the new workflow");
    let Submitted::Pending(second) = edited.video.head().submit(&req, &c.ctx).await.unwrap() else { panic!() };
    assert_ne!(first.remote_id, second.remote_id, "the earlier run's prompt is not adopted");
    assert_eq!(mock.prompts.load(Ordering::SeqCst), 2);
    assert_eq!(mock.workflows.lock().unwrap()[1]["3"]["inputs"]["sampler_name"], "euler");
}

/// A session whose clips render on a box in `mode`, one at a time.
fn one_clip_at_a_time(h: &Harness, base: &str) -> admint::pipeline::Pipeline {
    h.pipeline_scored(h.store(), |s| {
        configure(s, base, None);
        s.roles.insert("image".into(), RoleSettings { chain: vec!["offline".into()] });
        s.pipeline.clip_concurrency = 1;
    })
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let end = std::time::Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(std::time::Instant::now() < end, "waited 20 s for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_the_jobs_it_interrupted_and_resume_queues_them_anew() {
    let (mock, base) = Comfy::start("hold", None);
    let h = Harness::new();
    let p = one_clip_at_a_time(&h, &base);
    let id = new_session(&p, brief_input("pink running shoes for Gen Z runners", 6.0)).await;
    let (p2, id2) = (p.clone(), id.clone());
    let run = tokio::spawn(async move { p2.run(&id2, &mut AutoDecider { retry_failed: false }, None).await });
    until("a clip on the box", || mock.prompts.load(Ordering::SeqCst) >= 1).await;
    until("the clip running", || mock.queue_running()).await;
    p.stop();
    assert!(matches!(run.await.unwrap(), Err(admint::pipeline::PipelineError::Cancelled(_))));
    assert_eq!(mock.interrupts.load(Ordering::SeqCst), 1);
    let events = p.store.events(&id).unwrap();
    assert!(events.iter().any(|e| matches!(&e.event, admint::domain::Event::JobEnded { error, .. } if error.contains("cancelled when the run was stopped"))));
    // Resume on a fresh pipeline (a new process): the interrupted clip is queued again.
    *mock.mode.lock().unwrap() = "ok".into();
    drop(p);
    let p = one_clip_at_a_time(&h, &base);
    let outcome = p.run(&id, &mut AutoDecider { retry_failed: false }, None).await.unwrap();
    assert!(matches!(outcome, RunOutcome::Done { .. }), "{outcome:?}");
    let ids = mock.ids.lock().unwrap().clone();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "no prompt id queued twice: {ids:?}");
    let st = p.load(&id).await.unwrap();
    assert_eq!(ids.len(), st.scenes.len() + 1, "every clip once, the interrupted one twice");
}

#[test]
fn a_box_that_forgot_the_job_after_a_crash_gets_it_again() {
    let (mock, base) = Comfy::start("hold", None);
    let dir = root_with_config(&format!(
        "[pipeline]\nclip_concurrency = 1\n[scoring]\nbackend = \"none\"\n[backends.gpu]\nkind = \"comfyui\"\nbase_url = \"{base}\"\npoll_ms = 50\n[roles.video]\nchain = [\"gpu:wan-i2v\"]\n"
    ));
    let root = dir.path();
    let mut child = spawn_generate(root, ("ADMINT_TEST_UNUSED", "x"), "8");
    let session = jsonl_until(&mut child, "job_submitted", 1);
    // admint dies mid-job (kill -9: no stop, no cancel), and the box restarts.
    child.kill().unwrap();
    child.wait().unwrap();
    mock.restart();
    *mock.mode.lock().unwrap() = "ok".into();
    let out = admint_cmd(root, ("ADMINT_TEST_UNUSED", "x")).args(["resume", &session, "--auto", "--output", "out"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the clip is not failed: {err}");
    assert!(err.contains("re-attaching to job") && err.contains("is gone") && err.contains("submitting it again"), "{err}");
    assert!(root.join("out/final.mp4").is_file());
}

#[test]
fn doctor_checks_each_workflows_nodes_and_model_files_on_the_box() {
    for (mode, ok, needle) in [
        ("ok", true, "every node and model file is on the box"),
        ("missing-model", false, "unet_name \"wan2.1_i2v_480p_14B_fp16.safetensors\" is not on the box (it has: none)"),
        ("old-box", false, "the box has no node type WanImageToVideo"),
    ] {
        let (_mock, base) = Comfy::start(mode, None);
        let dir = root_with_config(&format!("[backends.gpu]\nkind = \"comfyui\"\nbase_url = \"{base}\"\n[roles.video]\nchain = [\"gpu:wan-i2v\", \"offline\"]\n"));
        let out = admint_cmd(dir.path(), ("ADMINT_TEST_UNUSED", "x")).arg("doctor").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.success(), ok, "{mode}: {text}");
        assert!(text.contains(needle), "{mode}: {text}");
        if ok {
            assert!(text.trim_end().ends_with("makes an advert with video on gpu:wan-i2v (the rest offline)."), "{text}");
        }
    }
}
