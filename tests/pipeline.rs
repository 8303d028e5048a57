//! Headless pipeline runs with the offline providers: fold/plan, resume after crashes at
//! several points, cache hits, failed clips, edits.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use admint::domain::*;
use admint::media::Ffmpeg;
use admint::pipeline::*;
use admint::providers::*;
use async_trait::async_trait;
use common::*;

fn auto() -> AutoDecider {
    AutoDecider { retry_failed: false }
}

/// A video model that fails for prompts containing a marker, and can stop the run after
/// a number of clips (a simulated crash).
struct Faulty {
    inner: Arc<VideoModel>,
    poison: Mutex<Option<String>>,
    stop_after: Option<(usize, Arc<AtomicBool>)>,
    done: AtomicUsize,
    calls: AtomicUsize,
}

#[async_trait]
impl MediaModel<VideoRequest> for Faulty {
    fn id(&self) -> String {
        self.inner.id()
    }
    async fn submit(&self, req: &VideoRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.poison.lock().unwrap().as_ref().is_some_and(|p| req.prompt.contains(p.as_str())) {
            return Err(ProviderError::Transient("simulated 503 from the video provider".into()));
        }
        let r = self.inner.submit(req, ctx).await;
        if let Some((n, flag)) = &self.stop_after {
            if self.done.fetch_add(1, Ordering::SeqCst) + 1 >= *n {
                flag.store(true, Ordering::SeqCst);
            }
        }
        r
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.inner.status(job).await
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        self.inner.cancel(job).await
    }
}

fn faulty(inner: Arc<VideoModel>, stop_after: Option<(usize, Arc<AtomicBool>)>) -> Arc<Faulty> {
    Arc::new(Faulty { inner, poison: Mutex::new(None), stop_after, done: AtomicUsize::new(0), calls: AtomicUsize::new(0) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_run_produces_a_verified_advert_and_outputs() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("pink running shoes with white laces for Gen Z runners", 8.0)).await;
    let out = h.out("out");
    let outcome = p.run(&id, &mut auto(), Some(&out)).await.unwrap();
    let RunOutcome::Done { final_path, .. } = outcome else { panic!("not done: {outcome:?}") };
    assert_eq!(final_path, out.join("final.mp4"));
    assert!(out.join("animatic.mp4").is_file(), "--auto keeps the animatic in the output folder");

    let state = p.load(&id).await.unwrap();
    assert!(state.is_done());
    let render = state.render.clone().unwrap();
    let probe = Ffmpeg::locate().unwrap().probe(&final_path).unwrap();
    let expected = state.scenes_duration() + render.intro_s + render.outro_s;
    assert!((probe.duration_s - expected).abs() <= 0.1, "{} vs {expected}", probe.duration_s);
    assert_eq!((probe.width, probe.height), (320, 180));
    assert_eq!(probe.video_codec, "h264");
    assert_eq!(probe.fps.round(), 30.0);
    // The 8 s brief is an 8 s advert: the scenes fill what its cards leave.
    assert!((state.scenes_duration() - (8.0 - render.intro_s - render.outro_s)).abs() < 1e-9, "{}", state.scenes_duration());
    assert!((probe.duration_s - 8.0).abs() <= 1.0 / 30.0 + 1e-6, "the advert lasts {} s, the brief asked for 8", probe.duration_s);

    // Manifest lists every scene and clip; storyboard is readable text.
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["session_id"], id.as_str());
    assert_eq!(m["scenes"].as_array().unwrap().len(), state.scenes.len());
    assert_eq!(m["clips"].as_array().unwrap().len(), state.scenes.len());
    assert_eq!(m["final_score"]["status"], "not_scored");
    let sb = std::fs::read_to_string(out.join("storyboard.md")).unwrap();
    assert!(sb.contains("### Scene 1") && sb.contains("AirRun Pro"));

    // Three references, each analysed with a palette.
    assert_eq!(state.references.len(), 3);
    assert!(state.references.values().all(|r| !r.analysis.palette.is_empty()));
    // Critic scores are real verdicts with reasons.
    let c = &state.story_critiques[&state.story.as_ref().unwrap().revision];
    assert!(!c.reasons.is_empty());

    let events = p.store.events(&id).unwrap();
    assert_no_stage_repeated(&events);
    // Events were persisted in order, and the fold of the stored log equals the live state.
    assert_eq!(SessionState::fold(&events), state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_is_pure_and_follows_the_log() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("a smart water bottle for hikers", 6.0)).await;
    let rules = p.rules();
    let s0 = p.load(&id).await.unwrap();
    assert_eq!(plan(&s0, &rules).tasks, vec![Task::DraftStory]);
    assert_eq!(plan(&s0, &rules), plan(&s0, &rules));

    // Stop at the story gate: story drafted and critiqued, waiting for approval.
    let r = p.run(&id, &mut Scripted(vec![]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Story, .. }));
    let s1 = p.load(&id).await.unwrap();
    assert_eq!(plan(&s1, &rules).tasks, vec![Task::AwaitStoryApproval]);

    // Feedback re-opens the story: the plan asks for a new draft.
    p.command(&id, &Command::RefineStory { feedback: "make it more dramatic".into() }).await.unwrap();
    let s2 = p.load(&id).await.unwrap();
    assert_eq!(plan(&s2, &rules).tasks, vec![Task::DraftStory]);
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Scenes, .. }));
    let s3 = p.load(&id).await.unwrap();
    assert_eq!(s3.story.as_ref().unwrap().revision, 2);
    assert!(s3.story.as_ref().unwrap().beats.iter().any(|b| b.text.contains("dramatic")), "feedback tone shows in the story");
    assert_eq!(s3.story_approved, Some(Approver::User));
    assert_eq!(plan(&s3, &rules).tasks, vec![Task::AwaitScenesApproval]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_from_many_crash_points_finishes_without_repeating_work() {
    let h = Harness::new();
    let store = h.store();
    let p = h.pipeline(store.clone());
    let id = new_session(&p, brief_input("noise cancelling headphones for commuters", 6.0)).await;
    p.run(&id, &mut auto(), None).await.unwrap();
    let full = store.events(&id).unwrap();
    let n = full.len();
    // Replay a prefix of the log as a new session (a crash after event k), then resume.
    for k in [2, 5, n / 3, n / 2, (2 * n) / 3, n - 2] {
        let new_id = format!("crash-{k}");
        for e in &full[..k] {
            let ev = match &e.event {
                Event::SessionCreated { brief, render, .. } => Event::SessionCreated { id: new_id.clone(), brief: brief.clone(), render: render.clone() },
                other => other.clone(),
            };
            store.append(&new_id, ev).unwrap();
        }
        let r = p.run(&new_id, &mut auto(), None).await.unwrap();
        assert!(matches!(r, RunOutcome::Done { .. }), "cut at {k}: {r:?}");
        let events = store.events(&new_id).unwrap();
        assert_no_stage_repeated(&events);
        let state = SessionState::fold(&events);
        for s in &state.scenes {
            let rendered = count(&events, |e| matches!(e, Event::ClipRendered { clip } if clip.scene_id == s.id));
            assert_eq!(rendered, 1, "cut at {k}: clip {} rendered {rendered} times", s.id);
        }
        assert_eq!(count(&events, |e| matches!(e, Event::Resumed)), 1);
        assert!(state.is_done());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_clips_resume_without_rerendering_finished_ones() {
    let h = Harness::new();
    let store = h.store();
    let flag = Arc::new(AtomicBool::new(false));
    let mut first: Option<Arc<Faulty>> = None;
    let mut p = h.pipeline_with(store.clone(), |ps| {
        let f = faulty(ps.video.head().clone(), Some((2, flag.clone())));
        first = Some(f.clone());
        ps.video = Chain::one(f);
    });
    p.cancel = flag.clone();
    p.settings.pipeline.clip_concurrency = 1;
    let id = new_session(&p, brief_input("a coffee subscription for busy parents", 15.0)).await;
    let err = p.run(&id, &mut auto(), None).await.unwrap_err();
    assert!(matches!(err, PipelineError::Cancelled(_)), "{err}");
    let mid = store.load(&id).unwrap();
    assert_eq!(mid.clips.len(), 2, "two clips finished before the stop");
    let scenes = mid.scenes.len();
    assert!(scenes >= 3);

    // A fresh process: new pipeline, same store.
    let counter = faulty_counter(&h, store.clone());
    let r = counter.1.run(&id, &mut auto(), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }));
    assert_eq!(counter.0.calls.load(Ordering::SeqCst), scenes - 2, "only the missing clips were rendered");
    let events = store.events(&id).unwrap();
    assert_no_stage_repeated(&events);
    for s in &mid.scenes {
        assert_eq!(count(&events, |e| matches!(e, Event::ClipRendered { clip } if clip.scene_id == s.id)), 1);
    }
}

fn faulty_counter(h: &Harness, store: Arc<admint::store::Store>) -> (Arc<Faulty>, Pipeline) {
    let mut f0 = None;
    let p = h.pipeline_with(store, |ps| {
        let f = faulty(ps.video.head().clone(), None);
        f0 = Some(f.clone());
        ps.video = Chain::one(f);
    });
    (f0.unwrap(), p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_clip_does_not_stop_the_others_and_is_retried_alone() {
    let h = Harness::new();
    let store = h.store();
    let (f, p) = faulty_counter(&h, store.clone());
    let id = new_session(&p, brief_input("recycled denim jackets for festival goers", 10.0)).await;
    // Approve the story, pause at the scenes to pick the scene that will fail.
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Scenes, .. }));
    let s = p.load(&id).await.unwrap();
    let victim = s.scenes[1].clone();
    *f.poison.lock().unwrap() = Some(victim.description.clone());

    let r = p.run(&id, &mut auto(), None).await.unwrap();
    let RunOutcome::Paused { gate: Gate::FailedClips(failed), .. } = r else { panic!("{r:?}") };
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, victim.id);
    assert!(failed[0].1.contains("simulated 503"));
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.clips.len(), s.scenes.len() - 1, "every other clip rendered");
    assert_eq!(status_of(&p, &s), "1 clip(s) failed — resumable");

    // The provider recovers; retry only that clip.
    *f.poison.lock().unwrap() = None;
    let before = f.calls.load(Ordering::SeqCst);
    p.command(&id, &Command::RetryClip { scene_id: victim.id }).await.unwrap();
    let r = p.run(&id, &mut auto(), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");
    assert_eq!(f.calls.load(Ordering::SeqCst) - before, 1, "only the failed clip was rendered again");
}

fn status_of(p: &Pipeline, s: &SessionState) -> String {
    admint::pipeline::narrate::status(s, &p.rules())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_serves_a_rerun_and_edits_rerender_only_what_changed() {
    let h = Harness::new();
    let store = h.store();
    let (f, p) = faulty_counter(&h, store.clone());
    let input = brief_input("handmade ceramic mugs for tea lovers", 8.0);
    let a = new_session(&p, input.clone()).await;
    p.run(&a, &mut auto(), None).await.unwrap();
    let rendered = f.calls.load(Ordering::SeqCst);
    let sa = p.load(&a).await.unwrap();
    assert_eq!(rendered, sa.scenes.len());

    // Same brief again: every clip, keyframe and reference comes from the cache.
    let b = new_session(&p, input).await;
    p.run(&b, &mut auto(), None).await.unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), rendered, "no clip rendered again");
    let sb = p.load(&b).await.unwrap();
    assert!(sb.clips.values().all(|c| c.cached));
    assert_eq!(sb.final_video.as_ref().unwrap().video, sa.final_video.as_ref().unwrap().video);

    // Text-only edit: no clip re-renders, the advert is recomposed.
    let s2 = sb.scenes[1].id;
    let old_final = sb.final_video.clone().unwrap();
    p.command(&b, &Command::EditScene { scene_id: s2, patch: ScenePatch { on_screen_text: Some("Don't \"wait\": 100% \\ off, today".into()), ..Default::default() } }).await.unwrap();
    p.run(&b, &mut auto(), None).await.unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), rendered);
    let sc = p.load(&b).await.unwrap();
    assert_ne!(sc.final_video.as_ref().unwrap().video, old_final.video, "recomposed with the new text");

    // Description edit: exactly that scene's keyframe and clip are made again.
    p.command(&b, &Command::EditScene { scene_id: s2, patch: ScenePatch { description: Some("AirRun Pro mug steaming on a windowsill at dawn".into()), ..Default::default() } }).await.unwrap();
    let before = store.events(&b).unwrap().len();
    p.run(&b, &mut auto(), None).await.unwrap();
    assert_eq!(f.calls.load(Ordering::SeqCst), rendered + 1, "one clip re-rendered");
    let new_events = &store.events(&b).unwrap()[before..];
    assert_eq!(count(new_events, |e| matches!(e, Event::KeyframeReady { .. })), 1);
    assert_eq!(count(new_events, |e| matches!(e, Event::ClipRendered { clip } if clip.scene_id == s2)), 1);
    assert_eq!(count(new_events, |e| matches!(e, Event::Composed { .. })), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scene_commands_are_validated_and_reorder_recomposes() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("solar garden lights for new homeowners", 8.0)).await;
    p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    let s = p.load(&id).await.unwrap();
    let n = s.scenes.len();
    assert!(matches!(p.command(&id, &Command::EditScene { scene_id: 999, patch: ScenePatch::default() }).await, Err(PipelineError::Command(CommandError::NoSuchScene(999, _)))));
    assert!(matches!(p.command(&id, &Command::EditScene { scene_id: s.scenes[0].id, patch: ScenePatch { duration_s: Some(-1.0), ..Default::default() } }).await, Err(PipelineError::Command(CommandError::BadDuration(_)))));
    assert!(matches!(p.command(&id, &Command::RetryClip { scene_id: s.scenes[0].id }).await, Err(PipelineError::Command(CommandError::ClipNotFailed(_)))));
    // Move the last scene first, add one, remove one: ids stay stable and unique.
    let last = s.scenes[n - 1].id;
    p.command(&id, &Command::MoveScene { scene_id: last, index: 0 }).await.unwrap();
    p.command(&id, &Command::AddScene { after: Some(last), description: "AirRun Pro close-up".into(), duration_s: 2.0 }).await.unwrap();
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.scenes[0].id, last);
    assert_eq!(s.scenes[1].description, "AirRun Pro close-up");
    let new_id = s.scenes[1].id;
    assert!(s.scenes.iter().filter(|x| x.id == new_id).count() == 1 && new_id > last);
    p.command(&id, &Command::RemoveScene { scene_id: new_id }).await.unwrap();
    // The scenes, then the animatic.
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve, Decision::Approve]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.scenes.len(), n);
    assert_eq!(s.scenes[0].id, last);
}

#[test]
fn corrupt_and_future_records_name_the_session_and_spare_the_others() {
    let h = Harness::new();
    let store = h.store();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let p = h.pipeline(store.clone());
    let good = rt.block_on(new_session(&p, brief_input("wireless earbuds", 6.0)));
    let bad = rt.block_on(new_session(&p, brief_input("a standing desk", 6.0)));
    let future = rt.block_on(new_session(&p, brief_input("a rain jacket", 6.0)));
    for _ in 0..3 {
        store.append(&bad, admint::domain::Event::StoryFeedback { text: "warmer".into() }).unwrap();
    }
    let n = store.events(&bad).unwrap().len();
    // A damaged database record is read from the session's journal, and named.
    store.put_raw_record(&bad, 2, b"{not json").unwrap();
    let (events, findings) = store.read_session(&bad).unwrap();
    assert_eq!(events.len(), n);
    assert_eq!(findings, vec![admint::store::Finding::DatabaseDamaged(vec![2])]);
    // With the journal gone too, #2 and everything after it are lost: the session opens
    // with what is left, says so, and refuses to go on until `store repair`.
    std::fs::remove_file(h.paths.data_dir.join(format!("journal/sessions/{bad}.jsonl"))).unwrap();
    drop(p);
    drop(store);
    let store = h.store();
    let p = h.pipeline(store.clone());
    let (events, findings) = store.read_session(&bad).unwrap();
    assert_eq!(events.len(), 1);
    let lost = findings.iter().find(|f| f.loses_events()).expect("the loss is named").to_string();
    assert!(lost.contains(&format!("#2–#{n}")), "{lost}");
    let err = rt.block_on(p.run(&bad, &mut auto(), None)).unwrap_err().to_string();
    assert!(err.contains(&bad) && err.contains("store repair"), "{err}");
    // A record from a newer admint (in both copies) asks for an upgrade.
    let m = store.events(&future).unwrap().len() as u64 + 1;
    let newer = format!(r#"{{"v":99,"seq":{m},"at_ms":0,"event":{{"type":"hologram"}}}}"#);
    store.put_raw_record(&future, m, newer.as_bytes()).unwrap();
    store.put_raw_journal_record(&future, newer.as_bytes()).unwrap();
    let e = store.events(&future).unwrap_err().to_string();
    assert!(e.contains(&future) && e.contains("version 99") && e.contains("upgrade"), "{e}");
    let all = store.sessions().unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().find(|s| s.id == good).unwrap().state.is_ok());
    assert!(all.iter().find(|s| s.id == future).unwrap().state.is_err());
}

#[test]
fn a_second_store_open_is_refused_not_hung() {
    let h = Harness::new();
    let _first = h.store();
    let err = admint::store::Store::open(&h.paths.data_dir).err().expect("second open must fail");
    assert!(err.to_string().contains("in use by another admint"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_one_scene_changes_only_that_scene() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("trail running shoes for hikers", 10.0)).await;
    p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    let before = p.load(&id).await.unwrap().scenes;
    let target = before[1].id;
    p.command(&id, &Command::RefineScenes { feedback: "regenerate this scene".into(), scene_id: Some(target) }).await.unwrap();
    p.run(&id, &mut Scripted(vec![]), None).await.unwrap();
    let after = p.load(&id).await.unwrap().scenes;
    assert_eq!(after.len(), before.len());
    assert_ne!((&after[1].description, after[1].camera), (&before[1].description, before[1].camera), "a new take");
    assert!(!after[1].description.contains("regenerate"), "the instruction is not pasted into the scene");
    assert_eq!(after[1].on_screen_text, before[1].on_screen_text);
    for i in [0, 2, 3] {
        assert_eq!(after[i].camera, before[i].camera);
        assert_eq!(after[i].duration_s, before[i].duration_s);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finishing_changes_recompose_the_final_and_nothing_else() {
    let h = Harness::new();
    let store = h.store();
    let p = h.pipeline(store.clone());
    let id = new_session(&p, brief_input("bamboo toothbrushes for eco families", 6.0)).await;
    p.run(&id, &mut auto(), None).await.unwrap();
    let mut last_final = p.load(&id).await.unwrap().final_video.unwrap().video;
    let with = |crf: u32, preset: &'static str| {
        h.pipeline_scored(store.clone(), move |s| {
            s.scoring.backend = "none".into();
            s.render.crf = crf;
            s.render.x264_preset = preset.into();
        })
    };
    // Each change to what compose reads: the CRF, the preset, a transition, the look.
    for what in ["crf", "preset", "transition", "look"] {
        let q = match what {
            "crf" => with(30, "veryfast"),
            _ => with(30, "ultrafast"),
        };
        let s = q.load(&id).await.unwrap();
        match what {
            "transition" => {
                let cmd = Command::EditScene { scene_id: s.scenes[1].id, patch: ScenePatch { transition: Some("wipe-left 0.4".parse().unwrap()), ..Default::default() } };
                q.command(&id, &cmd).await.unwrap();
            }
            "look" => q.command(&id, &q.look_command("mono").unwrap()).await.unwrap(),
            _ => {}
        }
        let before = store.events(&id).unwrap().len();
        q.run(&id, &mut auto(), None).await.unwrap();
        let new_events = &store.events(&id).unwrap()[before..];
        assert_eq!(count(new_events, |e| matches!(e, Event::Composed { .. })), 1, "{what}: the final is made again");
        let others = count(new_events, |e| matches!(e, Event::KeyframeReady { .. } | Event::ClipRendered { .. } | Event::ReferenceReady { .. } | Event::ScenesDrafted { .. }));
        assert_eq!(others, 0, "{what}: nothing else is");
        let now = q.load(&id).await.unwrap().final_video.unwrap().video;
        assert_ne!(now, last_final, "{what}: a different final");
        last_final = now;
    }
    // The look is named where a buyer looks: the brief in the manifest and the storyboard.
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.brief().look.as_deref(), Some("mono"));
    assert!(admint::pipeline::storyboard(&s).contains("Look: mono"));
    // Running again with nothing changed renders nothing.
    let q = with(30, "ultrafast");
    let before = store.events(&id).unwrap().len();
    q.run(&id, &mut auto(), None).await.unwrap();
    assert_eq!(count(&store.events(&id).unwrap()[before..], |e| matches!(e, Event::Composed { .. })), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_the_font_cannot_draw_is_said_before_anything_renders() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("solar garden lights for new homeowners", 8.0)).await;
    // Stop at the scenes gate: the story is approved, the scenes wait.
    p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    let s = p.load(&id).await.unwrap();
    assert!(s.clips.is_empty(), "nothing rendered yet");
    let mut updates = p.subscribe();
    p.command(&id, &Command::EditScene { scene_id: s.scenes[1].id, patch: ScenePatch { on_screen_text: Some("Glow up 🎉✨".into()), ..Default::default() } }).await.unwrap();
    let mut notes = vec![];
    while let Ok(u) = updates.try_recv() {
        if let admint::pipeline::Update::Note { text, .. } = u {
            notes.push(text);
        }
    }
    assert!(notes.iter().any(|n| n.starts_with("scene 2's on-screen text") && n.contains('🎉') && n.contains("left out")), "{notes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undone_delete_brings_the_scene_back_with_its_clip_from_the_cache() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief_input("solar garden lights for new homeowners", 8.0)).await;
    p.run(&id, &mut AutoDecider { retry_failed: false }, None).await.unwrap();
    let before = p.load(&id).await.unwrap();
    let scene = before.scenes[1].clone();
    let rendered = |events: &[EventEnvelope]| events.iter().filter(|e| matches!(&e.event, Event::ClipRendered { clip } if !clip.cached)).count();
    let renders = rendered(&p.store.events(&id).unwrap());
    p.command(&id, &Command::RemoveScene { scene_id: scene.id }).await.unwrap();
    p.run(&id, &mut AutoDecider { retry_failed: false }, None).await.unwrap();
    p.command(&id, &Command::RestoreScene { scene: scene.clone(), index: 1 }).await.unwrap();
    assert!(matches!(p.command(&id, &Command::RestoreScene { scene: scene.clone(), index: 1 }).await, Err(PipelineError::Command(CommandError::SceneExists))));
    p.run(&id, &mut AutoDecider { retry_failed: false }, None).await.unwrap();
    let after = p.load(&id).await.unwrap();
    assert_eq!(after.scenes, before.scenes, "the scene is back as it was, where it was");
    assert!(after.is_done());
    let events = p.store.events(&id).unwrap();
    assert_eq!(rendered(&events), renders, "no clip was rendered again");
    assert_eq!(after.clips[&scene.id].key, before.clips[&scene.id].key);
}

/// Mean volume of a file's audio in dB (ffmpeg volumedetect).
fn mean_volume_db(path: &std::path::Path) -> f64 {
    let out = std::process::Command::new("ffmpeg").args(["-hide_banner", "-i"]).arg(path).args(["-af", "volumedetect", "-f", "null", "-"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("mean_volume:")).unwrap_or_else(|| panic!("no volume in {err}"));
    line.split("mean_volume:").nth(1).unwrap().trim().trim_end_matches(" dB").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_animatic_is_the_gate_before_any_clip_and_timing_edits_remake_only_it() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, BriefInput { voice: Some("offline".into()), ..brief_input("pink running shoes for Gen Z runners", 8.0) }).await;
    let out = h.out("out");
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve, Decision::Approve]), Some(&out)).await.unwrap();
    let RunOutcome::Paused { gate: Gate::Animatic(path), .. } = r else { panic!("not at the animatic: {r:?}") };
    assert_eq!(path, out.join("animatic.mp4"), "the animatic is put where the user can play it");
    let s = p.load(&id).await.unwrap();
    assert!(s.clips_started.is_empty() && s.clips.is_empty(), "no clip is rendered before the animatic is approved");
    // Keys computed by the run equal keys computed from the reloaded log (the voice
    // cues' times read back to the same bits), or every reload would re-render.
    assert_eq!(status_of(&p, &s), "waiting for animatic approval");

    // The whole advert's timing, with the voice and music, at the animatic's size.
    let render = s.render.clone().unwrap();
    let ff = Ffmpeg::locate().unwrap();
    let probe = ff.probe(&path).unwrap();
    let planned = s.scenes_duration() + render.intro_s + render.outro_s;
    assert!((probe.duration_s - planned).abs() <= 0.1, "{} vs {planned}", probe.duration_s);
    assert!(probe.has_audio, "the animatic has the soundtrack");
    assert!(mean_volume_db(&path) > -40.0, "the soundtrack is not silent");
    assert!(probe.width <= render.width && probe.fps <= 15.5, "{probe:?}");
    assert!(!s.voices.is_empty() && s.music.is_some(), "voice lines and the music bed are made before the animatic");

    // A timing change at the gate makes a new animatic and nothing else: no keyframe, no
    // clip, no voice line (the bed follows the new length).
    let before = p.store.events(&id).unwrap().len();
    let first = s.scenes[0].clone();
    let edit = Command::EditScene { scene_id: first.id, patch: ScenePatch { duration_s: Some(first.duration_s + 1.0), ..Default::default() } };
    let r = p.run(&id, &mut Scripted(vec![Decision::Commands(vec![edit])]), Some(&out)).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Animatic(_), .. }), "asked again: {r:?}");
    let events = p.store.events(&id).unwrap();
    let new = &events[before..];
    assert_eq!(count(new, |e| matches!(e, Event::AnimaticMade { .. })), 1, "{:?}", kinds(new));
    assert_eq!(count(new, |e| matches!(e, Event::KeyframeReady { .. } | Event::ClipStarted { .. } | Event::VoiceReady { .. })), 0, "{:?}", kinds(new));
    let again = ff.probe(&out.join("animatic.mp4")).unwrap();
    assert!((again.duration_s - (probe.duration_s + 1.0)).abs() <= 0.1, "{} then {}", probe.duration_s, again.duration_s);

    // Approved: the clips render and the advert is finished.
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve]), Some(&out)).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");
    let events = p.store.events(&id).unwrap();
    assert!(plan(&p.load(&id).await.unwrap(), &p.rules()).is_done(), "reloaded, the finished advert has nothing to redo");
    let approved = events.iter().position(|e| matches!(e.event, Event::AnimaticApproved { by: Approver::User })).expect("approved by the user");
    let first_clip = events.iter().position(|e| matches!(e.event, Event::ClipStarted { .. })).expect("clips rendered");
    assert!(approved < first_clip);

    // Once approved, an edit of the finished advert does not stop at the gate again.
    let s = p.load(&id).await.unwrap();
    p.command(&id, &Command::EditScene { scene_id: s.scenes[1].id, patch: ScenePatch { duration_s: Some(s.scenes[1].duration_s + 0.5), ..Default::default() } }).await.unwrap();
    let r = p.run(&id, &mut Scripted(vec![]), Some(&out)).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");

    // Switched off (brief or config), there is no animatic and no gate.
    let id = new_session(&p, BriefInput { animatic: Some(false), ..brief_input("a candle", 4.0) }).await;
    let r = p.run(&id, &mut Scripted(vec![Decision::Approve, Decision::Approve]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");
    assert!(p.load(&id).await.unwrap().animatic.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_by_two_variant_matrix_shares_its_work_and_every_variant_passes_the_gates() {
    let h = Harness::new();
    let p = h.pipeline_scored(h.store(), |_| {});
    let input = BriefInput { variants: Some("hooks=2,aspects=16:9,1:1".into()), voice: Some("offline".into()), ..brief_input("pink running shoes for Gen Z runners", 8.0) };
    let id = new_session(&p, input).await;
    let out = h.out("out");
    assert!(matches!(p.run(&id, &mut auto(), Some(&out)).await.unwrap(), RunOutcome::Done { .. }));
    let parent = p.load(&id).await.unwrap();
    let n = parent.scenes.len();

    let mut heard = 0;
    let rows = p.make_variants(&id, &out, |_| heard += 1).await.unwrap();
    assert_eq!((rows.len(), heard), (4, 4));
    assert_eq!(rows.iter().map(|r| r.variant.as_str()).collect::<Vec<_>>(), ["h1-c1-16x9", "h1-c1-1x1", "h2-c1-16x9", "h2-c1-1x1"]);
    let ff = Ffmpeg::locate().unwrap();
    for r in &rows {
        assert_eq!(r.status, "done", "{r:?}");
        let probe = ff.probe(std::path::Path::new(&r.file)).unwrap();
        let square = r.aspect == "1:1";
        assert_eq!(probe.width == probe.height, square, "{}: {}x{}", r.variant, probe.width, probe.height);
        let child = p.load(&r.session).await.unwrap();
        let Some(Score::Scored { gates, .. }) = child.scores.get(&ScoreTarget::Final).map(|s| &s.score) else { panic!("{} not scored", r.variant) };
        assert!(gates.iter().all(|g| g.verdict == Verdict::Pass), "{}: {gates:?}", r.variant);
        // The child replayed the parent's story and scenes; only its hook changed.
        assert_eq!(child.story.as_ref().map(|s| &s.title), parent.story.as_ref().map(|s| &s.title));
        assert_eq!(child.scenes[1..], parent.scenes[1..]);
        assert_eq!(child.scenes[0].on_screen_text != parent.scenes[0].on_screen_text, r.variant.starts_with("h2"), "{}", r.variant);
    }
    // Shared work: the 16:9 variants render no clip; the square canvas is rendered once.
    let rendered: Vec<usize> = rows.iter().map(|r| r.clips_rendered).collect();
    assert_eq!(rendered, vec![0, n, 0, 0], "clips rendered per variant");
    assert!(rendered.iter().sum::<usize>() < 4 * n, "fewer than four independent runs");

    let csv = std::fs::read_to_string(out.join("variants.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.lines().next().unwrap().starts_with("variant,file,hook,cta,aspect,duration_s,cost_usd"), "{csv}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("variants.json")).unwrap()).unwrap();
    assert_eq!(doc["variants"][3]["differs"].as_object().unwrap().keys().collect::<Vec<_>>(), ["aspect", "hook"]);

    // Asked again (a resume), the variants are found, not made again.
    let events_before: usize = rows.iter().map(|r| p.store.events(&r.session).unwrap().len()).sum();
    let again = p.make_variants(&id, &out, |_| {}).await.unwrap();
    assert_eq!(again.iter().map(|r| &r.session).collect::<Vec<_>>(), rows.iter().map(|r| &r.session).collect::<Vec<_>>());
    assert!(again.iter().all(|r| r.clips_rendered == rows.iter().find(|x| x.variant == r.variant).unwrap().clips_rendered));
    let events_after: usize = rows.iter().map(|r| p.store.events(&r.session).unwrap().len()).sum();
    assert!(events_after - events_before <= 4 * 2, "a resumed variant only notes that it resumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mood_board_records_candidates_auto_picks_deterministically_and_a_pick_changes_only_dependants() {
    let brief = || BriefInput { candidates: Some(3), variants: Some("hooks=2".into()), ..brief_input("pink running shoes for Gen Z runners", 8.0) };
    let h = Harness::new();
    let p = h.pipeline(h.store());
    let id = new_session(&p, brief()).await;
    assert!(matches!(p.run(&id, &mut auto(), None).await.unwrap(), RunOutcome::Done { .. }));
    let s = p.load(&id).await.unwrap();
    // Three candidates for each generated reference and each keyframe, all different.
    assert_eq!(s.candidates.len(), 3 + s.scenes.len(), "{:?}", s.candidates.keys().collect::<Vec<_>>());
    for (slot, (_, imgs)) in &s.candidates {
        assert_eq!(imgs.len(), 3, "{slot:?}");
        assert!(imgs[0] != imgs[1] && imgs[1] != imgs[2], "{slot:?}: candidates differ");
        let (pick, by) = s.picks[slot];
        assert_eq!(by, Approver::Auto);
        if let Slot::Keyframe(id) = slot {
            assert_eq!(s.keyframes[id].image, imgs[pick], "the keyframe is the picked candidate");
        }
    }
    // --auto picks the same way every time (a fresh store, the same brief).
    let h2 = Harness::new();
    let p2 = h2.pipeline(h2.store());
    let id2 = new_session(&p2, brief()).await;
    p2.run(&id2, &mut auto(), None).await.unwrap();
    let s2 = p2.load(&id2).await.unwrap();
    let picks = |s: &SessionState| s.picks.values().map(|(i, _)| *i).collect::<Vec<_>>();
    assert_eq!(picks(&s), picks(&s2));

    // The user picks another keyframe for scene 2: its clip re-renders, nothing else does.
    let scene2 = s.scenes[1].id;
    let other = (s.picks[&Slot::Keyframe(scene2)].0 + 1) % 3;
    assert!(p.command(&id, &Command::PickCandidate { slot: Slot::Keyframe(scene2), index: 7 }).await.is_err(), "there is no candidate h");
    let before = p.store.events(&id).unwrap().len();
    p.command(&id, &Command::PickCandidate { slot: Slot::Keyframe(scene2), index: other }).await.unwrap();
    assert!(matches!(p.run(&id, &mut auto(), None).await.unwrap(), RunOutcome::Done { .. }));
    let events = p.store.events(&id).unwrap();
    let new = &events[before..];
    let keyframes: Vec<u32> = new.iter().filter_map(|e| match &e.event { Event::KeyframeReady { keyframe } => Some(keyframe.scene_id), _ => None }).collect();
    let clips: Vec<u32> = new.iter().filter_map(|e| match &e.event { Event::ClipRendered { clip } if !clip.cached => Some(clip.scene_id), _ => None }).collect();
    assert_eq!((keyframes, clips), (vec![scene2], vec![scene2]), "{:?}", kinds(new));
    assert_eq!(count(new, |e| matches!(e, Event::CandidatesReady { .. })), 0, "no candidate is made again");
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.keyframes[&scene2].image, s.candidates[&Slot::Keyframe(scene2)].1[other]);
    assert_eq!(s.picks[&Slot::Keyframe(scene2)], (other, Approver::User));

    // A variant replays the user's pick: the one with the same hook renders no clip and
    // shows the picked keyframe.
    let rows = p.make_variants(&id, &h.out("variants"), |_| {}).await.unwrap();
    let same = rows.iter().find(|r| r.variant.starts_with("h1")).unwrap();
    assert_eq!((same.status.as_str(), same.clips_rendered), ("done", 0), "{same:?}");
    let child = p.load(&same.session).await.unwrap();
    assert_eq!(child.keyframes[&scene2].image, s.keyframes[&scene2].image);
    assert_eq!(child.picks[&Slot::Keyframe(scene2)], (other, Approver::User));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_look_named_the_look_follows_the_references_until_the_user_chooses() {
    let h = Harness::new();
    let p = h.pipeline(h.store());
    // A warm template on a cold brief: the references come out navy and blue.
    let cold = |look: Option<&str>| BriefInput {
        template: Some("lifestyle_ad".into()),
        look: look.map(Into::into),
        ..brief_input("a navy and blue winter parka for city commuters", 6.0)
    };
    let id = new_session(&p, cold(None)).await;
    assert_eq!(p.load(&id).await.unwrap().brief().look.as_deref(), Some("warm"), "the template's look to begin with");
    // Up to the scenes gate: the references are analysed, nothing is rendered.
    p.run(&id, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    let s = p.load(&id).await.unwrap();
    let events = p.store.events(&id).unwrap();
    let followed: Vec<_> = events.iter().filter_map(|e| match &e.event { Event::LookFollowed { name, cube, why } => Some((name.clone(), cube.clone(), why.clone())), _ => None }).collect();
    assert_eq!(followed.len(), 1, "{:?}", kinds(&events));
    let (name, cube, why) = &followed[0];
    assert_eq!(name, "cool", "{why}");
    assert!(why.contains("cool"), "{why}");
    let cube = cube.as_ref().expect("cool is a LUT");
    assert!(std::fs::read_to_string(p.store.blobs.path(cube)).unwrap().contains("LUT_3D_SIZE"));
    // It came after the references and before the scenes were written.
    let at = |pred: &dyn Fn(&Event) -> bool| events.iter().position(|e| pred(&e.event)).unwrap();
    assert!(at(&|e| matches!(e, Event::ReferenceReady { .. })) < at(&|e| matches!(e, Event::LookFollowed { .. })));
    assert!(at(&|e| matches!(e, Event::LookFollowed { .. })) < at(&|e| matches!(e, Event::ScenesDrafted { .. })));
    assert_eq!(s.brief().look.as_deref(), Some("cool"));
    assert_eq!(s.brief().assets.look.as_ref(), Some(cube));
    assert!(admint::pipeline::storyboard(&s).contains("- Look: cool — the references are cool"), "{}", admint::pipeline::storyboard(&s));
    // The user's choice ends it: a run after `:look warm` leaves warm alone.
    p.command(&id, &p.look_command("warm").unwrap()).await.unwrap();
    p.run(&id, &mut Scripted(vec![]), None).await.unwrap();
    let s = p.load(&id).await.unwrap();
    assert_eq!((s.brief().look.as_deref(), s.brief().look_base.as_deref()), (Some("warm"), None));
    assert_eq!(count(&p.store.events(&id).unwrap(), |e| matches!(e, Event::LookFollowed { .. })), 1);
    assert!(admint::pipeline::storyboard(&s).contains("- Look: warm\n"));
    // A look named in the brief is never followed.
    let named = new_session(&p, cold(Some("warm"))).await;
    p.run(&named, &mut Scripted(vec![Decision::Approve]), None).await.unwrap();
    let s = p.load(&named).await.unwrap();
    assert_eq!(s.brief().look.as_deref(), Some("warm"));
    assert_eq!(count(&p.store.events(&named).unwrap(), |e| matches!(e, Event::LookFollowed { .. })), 0);
}
