//! Quality scoring on synthetic videos made with ffmpeg: orderings that must hold, the
//! gates, loudness against ffmpeg's ebur128, temporal flickering against VBench's own
//! code, the VBench adapter against a stand-in command, and scoring inside a run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use admint::providers::{Chain, JobCtx, JobRef, JobState, MediaModel, Produced, ProviderError, Submitted, VideoModel, VideoRequest};
use admint::store::Store;
use async_trait::async_trait;

use admint::config::{GateSettings, ScoringSettings};
use admint::domain::{Event, Method, Score, ScoreTarget, Verdict};
use admint::media::Ffmpeg;
use admint::quality::{measure_loudness, score_native, GateContext, NativeOptions, NativeScorer, ScoreRequest, Scorer, VbenchScorer};
use common::*;

fn ff() -> Ffmpeg {
    Ffmpeg::locate().expect("ffmpeg must be installed for the test suite (make test installs it)")
}

/// Render a lavfi graph to an H.264 file.
fn make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let s = Command::new(&ff().ffmpeg)
        .args(["-v", "error", "-y"])
        .args(args)
        .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(s.success(), "ffmpeg could not make {name}");
    out
}

/// A 2 s 320x180 pan across a 640x360 Mandelbrot; `x` is the crop's x expression.
fn pan(dir: &Path, name: &str, x: &str) -> PathBuf {
    let vf = format!("crop=320:180:x='{x}':y=90");
    make(dir, name, &["-f", "lavfi", "-i", "mandelbrot=s=640x360:r=30", "-t", "2", "-vf", &vf])
}

/// One still frame of testsrc2 held for 2 s (`extra` filters after it).
fn still(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let vf = format!("select=eq(n\\,0),loop=59:1:0,setpts=N/30/TB{extra}");
    make(dir, name, &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2", "-vf", &vf])
}

fn native(video: &Path) -> Score {
    score_native(&ff(), video, &NativeOptions::all(), &GateContext::default(), &GateSettings::default()).unwrap()
}

fn dim(score: &Score, name: &str) -> f64 {
    match score {
        Score::Scored { dimensions, .. } => dimensions.get(name).unwrap_or_else(|| panic!("no {name} in {dimensions:?}")).value,
        other => panic!("not scored: {other:?}"),
    }
}

fn gate(score: &Score, name: &str) -> (Verdict, f64) {
    match score {
        Score::Scored { gates, .. } => gates.iter().find(|g| g.gate == name).map(|g| (g.verdict, g.value.unwrap_or(f64::NAN))).unwrap_or_else(|| panic!("no gate {name}")),
        other => panic!("not scored: {other:?}"),
    }
}

#[test]
fn orderings_on_synthetic_videos() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let static_ = native(&still(d, "static.mp4", ""));
    let noisy = native(&still(d, "noisy.mp4", ",noise=alls=40:allf=t"));
    let smooth = native(&pan(d, "smooth.mp4", "20+t*40.7"));
    let jitter = native(&pan(d, "jitter.mp4", "20+trunc(t*40.7/4)*4+mod(n*7\\,5)"));
    let fast = native(&pan(d, "fast.mp4", "t*150"));
    let continuous = native(&make(d, "continuous.mp4", &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2"]));
    let cut = native(&make(
        d,
        "cut.mp4",
        &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=1", "-f", "lavfi", "-i", "mandelbrot=s=320x180:r=30", "-filter_complex", "[1:v]trim=duration=1,setpts=PTS-STARTPTS,format=yuv420p[b];[0:v]format=yuv420p[a];[a][b]concat=n=2:v=1[v]", "-map", "[v]"],
    ));
    let sharp_path = pan(d, "sharp.mp4", "20+t*40.7");
    let blurred = native(&make(d, "blurred.mp4", &["-i", sharp_path.to_str().unwrap(), "-vf", "gblur=sigma=3"]));
    let sharp = native(&sharp_path);

    let tf = |s: &Score| dim(s, "temporal_flickering");
    assert!(tf(&static_) > tf(&noisy) + 0.05, "flicker: static {} vs noisy {}", tf(&static_), tf(&noisy));
    assert_eq!(dim(&static_, "dynamic_degree"), 0.0, "a still is not dynamic");
    assert!(dim(&smooth, "motion_smoothness") > dim(&jitter, "motion_smoothness"), "smoothness: smooth {} vs jitter {}", dim(&smooth, "motion_smoothness"), dim(&jitter, "motion_smoothness"));
    assert_eq!(dim(&fast, "dynamic_degree"), 1.0, "a fast pan is dynamic");
    for c in ["subject_consistency", "background_consistency"] {
        assert!(dim(&continuous, c) > dim(&cut, c) + 0.05, "{c}: continuous {} vs cut {}", dim(&continuous, c), dim(&cut, c));
    }
    assert!(dim(&sharp, "imaging_quality") > dim(&blurred, "imaging_quality") + 0.1, "imaging: sharp {} vs blurred {}", dim(&sharp, "imaging_quality"), dim(&blurred, "imaging_quality"));

    // Every record says how each dimension was obtained, and by which scorer version.
    let Score::Scored { dimensions, version, quality, .. } = &smooth else { unreachable!() };
    assert_eq!(dimensions.len(), 7);
    assert_eq!(dimensions["temporal_flickering"].method, Method::Exact);
    assert_eq!(dimensions["motion_smoothness"].method, Method::Approximation);
    assert_eq!(dimensions["imaging_quality"].method, Method::Heuristic);
    assert_eq!(dimensions["aesthetic_quality"].method, Method::Heuristic);
    assert!(dimensions["dynamic_degree"].fraction.is_some());
    assert!(version.starts_with("native-"));
    assert!((0.0..=100.0).contains(quality));
}

#[test]
fn gates_catch_black_and_frozen_stretches_and_a_wrong_length() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 1 s of moving picture, 1.5 s of black, 1 s of moving picture.
    let black = make(
        d,
        "black.mp4",
        &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3.5", "-vf", "drawbox=enable='between(t,1,2.5)':c=black:t=fill"],
    );
    // 0.5 s moving, then one frame held for 2 s, then 0.5 s moving.
    let frozen = make(d, "frozen.mp4", &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=1", "-vf", "tpad=stop_mode=clone:stop_duration=2,setpts=N/30/TB"]);
    let moving = make(d, "moving.mp4", &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=2"]);
    let ctx = GateContext { expected_duration_s: Some(2.0), ..GateContext::default() };
    let opts = NativeOptions { dimensions: vec![], gates: true };
    let s = GateSettings::default();
    let b = score_native(&ff(), &black, &opts, &ctx, &s).unwrap();
    let (v, len) = gate(&b, "black");
    assert_eq!(v, Verdict::Fail);
    assert!((len - 1.5).abs() < 0.1, "black stretch {len}");
    assert_eq!(gate(&b, "duration").0, Verdict::Fail, "3.5 s for a planned 2 s");
    let f = score_native(&ff(), &frozen, &opts, &ctx, &s).unwrap();
    let (v, len) = gate(&f, "frozen");
    assert_eq!(v, Verdict::Fail);
    assert!((len - 2.0).abs() < 0.15, "frozen stretch {len}");
    assert_eq!(gate(&f, "black").0, Verdict::Pass);
    let m = score_native(&ff(), &moving, &opts, &ctx, &s).unwrap();
    assert_eq!(gate(&m, "black").0, Verdict::Pass);
    assert_eq!(gate(&m, "frozen").0, Verdict::Pass);
    assert_eq!(gate(&m, "duration").0, Verdict::Pass);
    // A still title card that is exempt does not trip the frozen gate.
    let exempt = GateContext { exempt: vec![(0.9, 3.1)], ..ctx };
    assert_eq!(gate(&score_native(&ff(), &frozen, &opts, &exempt, &s).unwrap(), "frozen").0, Verdict::Pass);
}

/// ffmpeg's own EBU R128 integrated loudness of a file.
fn ebur128(file: &Path) -> f64 {
    let out = Command::new(&ff().ffmpeg).args(["-hide_banner", "-nostats", "-i"]).arg(file).args(["-af", "ebur128", "-f", "null", "-"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let summary = &err[err.rfind("Summary:").expect("ebur128 summary")..];
    let line = summary.lines().find(|l| l.trim_start().starts_with("I:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn loudness_matches_ffmpeg_ebur128() {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in [
        ("tone.wav", "sine=frequency=1000:sample_rate=48000:duration=5,volume=0.25"),
        ("stereo.wav", "sine=frequency=440:sample_rate=44100:duration=4,volume=0.6,aformat=channel_layouts=stereo"),
        ("gaps.wav", "sine=frequency=300:sample_rate=48000:duration=6,volume=0.5,volume=enable='between(t,2,3.5)':volume=0"),
    ] {
        let f = dir.path().join(name);
        let s = Command::new(&ff().ffmpeg).args(["-v", "error", "-y", "-f", "lavfi", "-i", src]).arg(&f).status().unwrap();
        assert!(s.success());
        let ours = measure_loudness(&ff(), &f).unwrap().unwrap().integrated.unwrap();
        let theirs = ebur128(&f);
        assert!((ours - theirs).abs() <= 0.5, "{name}: admint {ours:.2} LUFS vs ffmpeg {theirs:.2}");
    }
    // No audio stream: no loudness, and the gate says so.
    let silent = make(dir.path(), "video-only.mp4", &["-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=1"]);
    assert!(measure_loudness(&ff(), &silent).unwrap().is_none());
}

#[test]
fn temporal_flickering_agrees_with_vbench_within_0_002() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let videos = [still(d, "noisy.mp4", ",noise=alls=25:allf=t"), pan(d, "pan.mp4", "10+t*60"), make(d, "src.mp4", &["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2"])];
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vbench_reference/temporal_flickering.py");
    let out = Command::new("python3").arg(&script).args(&videos).output().expect("python3");
    assert!(
        out.status.success(),
        "VBench's reference needs python3 with numpy and opencv-python-headless (make test installs them): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<f64> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().parse().unwrap()).collect();
    let opts = NativeOptions { dimensions: vec!["temporal_flickering".into()], gates: false };
    for (v, t) in videos.iter().zip(&theirs) {
        let ours = dim(&score_native(&ff(), v, &opts, &GateContext::default(), &GateSettings::default()).unwrap(), "temporal_flickering");
        assert!((ours - t).abs() <= 0.002, "{}: admint {ours:.6} vs VBench {t:.6}", v.display());
    }
}

/// A stand-in for `vbench evaluate` that writes VBench's documented output, in the mode
/// its first argument names.
fn stand_in(dir: &Path) -> PathBuf {
    let p = dir.join("fake-vbench");
    std::fs::write(
        &p,
        r#"#!/bin/sh
# fake-vbench MODE VIDEOS_DIR DIMENSION OUTPUT_DIR
mode=$1; videos=$2; dim=$3; out=$4
for f in "$videos"/*; do
  case "$f" in *.mp4) ;; *) echo "VBench only reads lower-case .mp4, got $f" >&2; exit 3;; esac
  video=$f
done
echo "$dim" >> "$(dirname "$0")/calls.log"
case "$mode" in
  ok)
    case "$dim" in
      dynamic_degree) r=true;;
      imaging_quality) r=64.5;;
      *) r=0.9712;;
    esac
    printf '{"%s": [%s, [{"video_path": "%s", "video_results": %s}]]}' "$dim" "$r" "$video" "$r" > "$out/results_2026-11-22-00:00:00_eval_results.json";;
  novideo)
    printf '{"%s": [NaN, []]}' "$dim" > "$out/results_x_eval_results.json";;
  silent-failure)
    echo "Traceback (most recent call last): CUDA error: no kernel image" >&2;;
  crash)
    echo "RuntimeError: out of memory" >&2; exit 1;;
esac
exit 0
"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p
}

fn vbench(cmd: &Path, mode: &str, fallback: bool, dims: &[&str]) -> VbenchScorer {
    let s = ScoringSettings {
        backend: "vbench".into(),
        vbench_command: vec![cmd.display().to_string(), mode.into(), "{videos}".into(), "{dimension}".into(), "{output}".into()],
        fallback_to_native: fallback,
        ..ScoringSettings::default()
    };
    let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    let native = NativeScorer { ffmpeg: ff(), options: NativeOptions { dimensions: dims.clone(), gates: true }, gates: GateSettings::default() };
    VbenchScorer::new(&s, dims, native)
}

#[tokio::test]
async fn vbench_adapter_reads_results_and_its_failure_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cmd = stand_in(d);
    // Upper-case extension: the adapter must hand VBench a lower-case copy.
    let video = make(d, "Clip One.MP4", &["-f", "lavfi", "-i", "testsrc2=s=160x90:r=15:d=1", "-f", "mp4"]);
    let req = ScoreRequest::new(&video);
    let dims = ["temporal_flickering", "dynamic_degree", "imaging_quality"];

    let ok = vbench(&cmd, "ok", false, &dims).score(&req).await;
    let Score::Scored { dimensions, scorer, gates, .. } = &ok else { panic!("{ok:?}") };
    assert_eq!(scorer, "vbench");
    assert_eq!(dimensions["temporal_flickering"].value, 0.9712);
    assert_eq!(dimensions["dynamic_degree"].value, 1.0, "boolean dynamic degree");
    assert!((dimensions["imaging_quality"].value - 0.645).abs() < 1e-12, "imaging on 0..100");
    assert!(dimensions.values().all(|d| d.method == Method::Vbench));
    assert!(gates.iter().any(|g| g.gate == "black"), "admint's own gates still run");
    let calls = std::fs::read_to_string(d.join("calls.log")).unwrap();
    assert_eq!(calls.lines().collect::<Vec<_>>(), dims, "one dimension per call");

    for (mode, needle) in [("novideo", "no video"), ("silent-failure", "no results file"), ("crash", "exited with")] {
        let s = vbench(&cmd, mode, false, &dims[..1]).score(&req).await;
        let Score::Unavailable { reason } = &s else { panic!("{mode}: {s:?}") };
        assert!(reason.contains(needle), "{mode}: {reason}");
    }
    let missing = vbench(&d.join("no-such-vbench"), "ok", false, &dims[..1]).score(&req).await;
    let Score::Unavailable { reason } = &missing else { panic!("{missing:?}") };
    assert!(reason.contains("not installed"), "{reason}");

    // With the fallback on, a failing VBench gives native scores, saying why.
    let fell_back = vbench(&cmd, "crash", true, &dims[..1]).score(&req).await;
    let Score::Scored { scorer, dimensions, .. } = &fell_back else { panic!("{fell_back:?}") };
    assert!(scorer.starts_with("native (VBench unavailable"), "{scorer}");
    assert_eq!(dimensions["temporal_flickering"].method, Method::Exact);
}

/// A video model that renders like the inner one, except that the `last`-th render waits
/// until a clip score is in the log: if scoring waited for rendering, it would never come.
struct WaitsForAScore {
    inner: Arc<VideoModel>,
    store: Arc<Store>,
    session: Arc<OnceLock<String>>,
    submits: AtomicUsize,
    last: usize,
}

#[async_trait]
impl MediaModel<VideoRequest> for WaitsForAScore {
    fn id(&self) -> String {
        self.inner.id()
    }
    async fn submit(&self, req: &VideoRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        let n = self.submits.fetch_add(1, Ordering::SeqCst) + 1;
        let out = self.inner.submit(req, ctx).await?;
        if n == self.last {
            let id = self.session.get().expect("session id is set").clone();
            let t = std::time::Instant::now();
            while !self.store.events(&id).unwrap().iter().any(|e| matches!(e.event, Event::ScoreRecorded { .. })) {
                if t.elapsed() > Duration::from_secs(90) {
                    return Err(ProviderError::Protocol("no clip was scored while the last clip rendered".into()));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(out)
    }
    async fn status(&self, job: &JobRef) -> Result<JobState<Produced>, ProviderError> {
        self.inner.status(job).await
    }
    async fn cancel(&self, job: &JobRef) -> Result<(), ProviderError> {
        self.inner.cancel(job).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_scores_clips_as_they_land_and_gates_the_final_cut() {
    let h = Harness::new();
    let store = h.store();
    let session = Arc::new(OnceLock::new());
    let (store2, session2) = (store.clone(), session.clone());
    // One render at a time; the third waits for a score to be recorded.
    let p = h.pipeline_scored_with(
        store,
        |s| s.pipeline.clip_concurrency = 1,
        move |providers| {
            providers.video = Chain::one(Arc::new(WaitsForAScore { inner: providers.video.head().clone(), store: store2, session: session2, submits: AtomicUsize::new(0), last: 3 }));
        },
    );
    let id = new_session(&p, brief_input("pink running shoes with white laces", 6.0)).await;
    session.set(id.clone()).unwrap();
    let mut auto = admint::pipeline::AutoDecider { retry_failed: false };
    p.run(&id, &mut auto, None).await.unwrap();
    let state = p.load(&id).await.unwrap();
    assert!(state.scenes.len() >= 3, "the waiting render is one of them");
    assert!(state.clip_failures.is_empty(), "{:?}", state.clip_failures);
    for s in &state.scenes {
        let r = &state.scores[&ScoreTarget::Clip(s.id)];
        assert_eq!(r.video, state.clips[&s.id].video);
        assert_eq!(r.score.worst_gate(), Some(Verdict::Pass), "clip {}: {:?}", s.id, r.score);
        assert!(dim(&r.score, "temporal_flickering") > 0.9);
    }
    let fin = &state.scores[&ScoreTarget::Final].score;
    assert_eq!(gate(fin, "safe_area").0, Verdict::Pass, "{fin:?}");
    assert_eq!(gate(fin, "duration").0, Verdict::Pass, "{fin:?}");
    assert_eq!(gate(fin, "loudness").0, Verdict::Pass, "the offline advert has a music bed normalised to the target: {fin:?}");
    assert_eq!(gate(fin, "frozen").0, Verdict::Pass, "title cards are exempt: {fin:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quality_gate_retakes_low_clips_and_keeps_the_best_take() {
    let h = Harness::new();
    // A threshold no clip reaches: every clip gets its second take, then the best stays.
    let p = h.pipeline_scored(h.store(), |s| {
        s.scoring.regenerate_below = 101.0;
        s.scoring.max_attempts = 2;
    });
    let id = new_session(&p, brief_input("a calm tea brand for busy parents", 4.0)).await;
    let mut auto = admint::pipeline::AutoDecider { retry_failed: false };
    p.run(&id, &mut auto, None).await.unwrap();
    let state = p.load(&id).await.unwrap();
    let events = p.store.events(&id).unwrap();
    for s in &state.scenes {
        let takes = &state.take_quality[&s.id];
        assert_eq!(takes.len(), 2, "scene {}: two takes scored", s.id);
        let best = takes.iter().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
        assert_eq!(state.take(s.id), *best.0, "scene {} keeps its best take", s.id);
        assert_eq!(state.scores[&ScoreTarget::Clip(s.id)].score.quality(), Some(*best.1));
        let renders = events.iter().filter(|e| matches!(&e.event, Event::ClipRendered { clip } if clip.scene_id == s.id && !clip.cached)).count();
        assert_eq!(renders, 2, "scene {}: rendered once per take (going back to the best is a cache hit)", s.id);
    }
    assert!(events.iter().any(|e| matches!(&e.event, Event::ClipRetakeRequested { reason, .. } if reason.contains("estimated $"))), "the cost of a retake is shown before it is spent");
    assert!(state.is_done());
}
