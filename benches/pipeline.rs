//! `make bench`: ratios measured side by side in one run (these machines are noisy).
//!
//! (a) wall time of N parallel clips against a fixed-latency VideoModel ÷ that latency
//! (b) our compose ÷ a bare ffmpeg encode of the same video (same length, size, encoder settings)
//! (c) peak RSS of a 30 s offline `admint generate` at 1080p (admint alone, and its whole process tree)
//! (d) that whole run ÷ one bare encode of its video
//! (e) that run's animatic stage ÷ the whole run

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use admint::config::{Paths, Resources, Settings};
use admint::domain::{CameraMove, Event, Stage, Transition, TransitionKind};
use admint::media::{animate_still, compose, AnimateSpec, ComposeAudio, ComposeClip, ComposeSpec, Design, Ffmpeg, VoiceLine};
use admint::pipeline::{AutoDecider, BriefInput, Pipeline};
use admint::providers::*;
use admint::quality::Unscored;
use admint::store::Store;
use async_trait::async_trait;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A video model that takes exactly `latency` and returns a ready clip (a remote job's shape).
struct FixedLatency {
    latency: Duration,
    clip: PathBuf,
}

#[async_trait]
impl MediaModel<VideoRequest> for FixedLatency {
    fn id(&self) -> String {
        "bench/fixed-latency".into()
    }
    async fn submit(&self, _req: &VideoRequest, ctx: &JobCtx) -> Result<Submitted<Produced>, ProviderError> {
        tokio::time::sleep(self.latency).await;
        let out = ctx.work_dir.join(format!("fixed-{}.mp4", uuid::Uuid::new_v4().simple()));
        std::fs::copy(&self.clip, &out)?;
        Ok(Submitted::Done(Produced::new(MediaRef::Local(out))))
    }
}

fn small_clip(ff: &Ffmpeg, dir: &Path, w: u32, h: u32, secs: f64, cam: CameraMove) -> PathBuf {
    let still = dir.join(format!("still-{w}.png"));
    if !still.exists() {
        Design::sample(w * 5 / 4, h * 5 / 4).paint(&still).unwrap();
    }
    let out = dir.join(format!("clip-{w}-{}.mp4", cam.id()));
    let spec = AnimateSpec { width: w, height: h, fps: 30, duration_s: secs, camera: cam, intensity: 0.6, x264_preset: "veryfast".into(), crf: 20 };
    animate_still(ff, &still, &out, &spec, None, |_| {}).unwrap();
    out
}

fn bench_parallel_clips(ff: &Ffmpeg, tmp: &Path) {
    let n = 8usize;
    let latency = Duration::from_millis(1500);
    let clip = small_clip(ff, tmp, 320, 180, 5.0, CameraMove::ZoomIn);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut ratios = Vec::new();
    for run in 0..3 {
        let root = tmp.join(format!("par-{run}"));
        let paths = Paths::under(&root);
        let mut settings = Settings::default();
        settings.apply_profile("test").unwrap();
        settings.pipeline.clip_concurrency = n;
        let store = Arc::new(Store::open(&paths.data_dir).unwrap());
        let mut providers = ProviderSet::from_settings(&settings, ff).unwrap();
        providers.video = Chain::one(Arc::new(FixedLatency { latency, clip: clip.clone() }));
        let p = Pipeline::new(&paths, settings, store.clone(), providers, Arc::new(Unscored), ff.clone());
        let input = BriefInput { prompt: Some("pink running shoes for Gen Z runners".into()), duration_s: Some(5.0 * n as f64), seed: Some(run), ..Default::default() };
        let (brief, _) = input.validate(&Resources::new(&paths.config_dir)).unwrap();
        let id = rt.block_on(p.create_session(brief)).unwrap();
        rt.block_on(p.run(&id, &mut AutoDecider { retry_failed: false }, None)).unwrap();
        let events = store.events(&id).unwrap();
        let clips = events.iter().filter(|e| matches!(e.event, Event::ClipRendered { .. })).count();
        assert_eq!(clips, n, "the brief must give {n} scenes");
        let at = |want: &dyn Fn(&Event) -> bool| events.iter().find(|e| want(&e.event)).map(|e| e.at_ms).unwrap();
        let start = at(&|e| matches!(e, Event::StageStarted { stage: Stage::Clips }));
        let end = at(&|e| matches!(e, Event::StageCompleted { stage: Stage::Clips }));
        ratios.push((end - start) as f64 / latency.as_millis() as f64);
    }
    println!("(a) {n} parallel clips, {} ms fixed latency each: clips stage wall ÷ latency = {:.3} (median of {:?}; goal ≤ 1.05)", latency.as_millis(), median(ratios.clone()), ratios.iter().map(|r| (r * 1000.0).round() / 1000.0).collect::<Vec<_>>());
}

/// A spoken line (ffmpeg's flite voice) with its aligned word timings.
fn bench_voice(ff: &Ffmpeg, tmp: &Path, i: usize, text: &str) -> VoiceLine {
    let txt = tmp.join(format!("line-{i}.txt"));
    std::fs::write(&txt, text).unwrap();
    let wav = tmp.join(format!("line-{i}.wav"));
    let src = format!("flite=textfile={}:voice=slt", admint::media::escape_filter_value(&txt.display().to_string()));
    let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-f", "lavfi", "-i", &src]).arg(&wav).status().unwrap();
    assert!(st.success());
    let (pauses, d) = admint::media::silences(ff, &wav).unwrap();
    VoiceLine { path: wav, duration_s: d, tempo: admint::domain::fit_tempo(d, 3.75).unwrap_or(admint::domain::MAX_TEMPO), cues: admint::media::align(text, &pauses, d) }
}

/// Compose ÷ a bare encode of the same video, median of 3 in one run.
fn compose_ratio(ff: &Ffmpeg, tmp: &Path, spec: &ComposeSpec, name: &str) -> (f64, f64, f64) {
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    let mut ratios = Vec::new();
    let runs = std::env::var("ADMINT_BENCH_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(3);
    for run in 0..runs {
        let out = tmp.join(format!("{name}-final-{run}.mp4"));
        let t = Instant::now();
        compose(ff, spec, &tmp.join(format!("{name}-compose-{run}")), &out, None, |_| {}).unwrap();
        let a = t.elapsed().as_secs_f64();
        // Baseline: the same video (length, size, content) through a bare ffmpeg encode, same settings.
        let t = Instant::now();
        let st = std::process::Command::new(&ff.ffmpeg)
            .args(["-v", "error", "-y", "-i"])
            .arg(&out)
            .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"])
            .arg(tmp.join(format!("{name}-bare-{run}.mp4")))
            .status()
            .unwrap();
        assert!(st.success());
        let b = t.elapsed().as_secs_f64();
        ours.push(a);
        bare.push(b);
        ratios.push(a / b);
    }
    (median(ours), median(bare), median(ratios))
}

fn bench_compose(ff: &Ffmpeg, tmp: &Path) {
    let cams = [CameraMove::ZoomIn, CameraMove::PanRight, CameraMove::Dolly, CameraMove::PanLeft, CameraMove::ZoomOut, CameraMove::Static, CameraMove::ZoomIn, CameraMove::PanRight];
    let clips: Vec<ComposeClip> = cams
        .iter()
        .enumerate()
        .map(|(i, c)| ComposeClip {
            path: small_clip(ff, tmp, 1920, 1080, 3.75, *c),
            duration_s: 3.75,
            text: if i % 2 == 0 { format!("Scene {i}: 100% \"real\"") } else { String::new() },
            // A mix of cuts and overlapping transitions, as a template makes them.
            transition: [Transition::cut(), Transition::of(TransitionKind::Dissolve), Transition::of(TransitionKind::SlideLeft)][i % 3],
            voice: None,
            ambience: false,
        })
        .collect();
    let look = tmp.join("punchy.cube");
    std::fs::write(&look, admint::media::shipped_cube("punchy").unwrap().to_text()).unwrap();
    let spec = ComposeSpec {
        width: 1920, height: 1080, fps: 30, intro_s: 1.5, outro_s: 2.0,
        product_name: "AirRun Pro".into(), call_to_action: "Shop now: 20% off".into(), end_card: Default::default(), typeface: String::new(),
        colors: ["#19235a".into(), "#ff6eb4".into()], logo: None, clips, outro_transition: Transition::of(TransitionKind::Dissolve),
        audio: ComposeAudio::default(), look: Some(look), loudness_lufs: -14.0, true_peak_db: -1.0, font: String::new(), x264_preset: "veryfast".into(), crf: 20,
        captions: admint::domain::CaptionMode::Burn, caption_style: admint::domain::CaptionStyle::Plain, beat: None, ambience_db: -18.0,
    };
    let (a, b, r) = compose_ratio(ff, tmp, &spec, "look");
    println!("(b) compose of a {:.1} s 1080p advert (transitions, a look, text): {a:.2} s vs bare ffmpeg encode {b:.2} s: ratio = {r:.3} (median of 3; goal ≤ 1.4)", spec.total_s());

    // The finished sound: a voice line on every other scene, burned captions, the
    // composed bed ducked under the voice, two-pass loudness; no look.
    let mut sound = spec.clone();
    sound.look = None;
    let lines = ["Meet AirRun Pro.", "Made for runners who never stop.", "Feel the difference every day.", "Shop now: 20% off."];
    for (i, c) in sound.clips.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
        c.voice = Some(bench_voice(ff, tmp, i, lines[(i / 2) % lines.len()]));
    }
    let total = sound.total_s();
    let bed = admint::media::compose_bed(&admint::media::MusicSpec { mood: admint::media::Mood::Energetic, total_s: total, cadence_s: total - 2.0, seed: 1 });
    let music = tmp.join("bed.wav");
    admint::media::write_wav(&bed, &music).unwrap();
    sound.audio.music = Some(music);
    let (a, b, r) = compose_ratio(ff, tmp, &sound, "sound");
    println!("(b') compose of a {:.1} s 1080p advert (transitions, text, captions, voice, music, loudness): {a:.2} s vs bare ffmpeg encode {b:.2} s: ratio = {r:.3} (median of 3; goal ≤ 1.4)", sound.total_s());
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() {
                let ppid = std::fs::read_to_string(format!("/proc/{p}/stat")).ok().and_then(|s| s.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).and_then(|v| v.parse::<u32>().ok()));
                if ppid == Some(pid) {
                    out.push(p);
                    out.extend(children(p));
                }
            }
        }
    }
    out
}

fn bench_rss(tmp: &Path) {
    let root = tmp.join("rss");
    std::fs::create_dir_all(&root).unwrap();
    let t = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_admint"))
        .args(["generate", "--prompt", "pink running shoes with white laces for Gen Z runners", "--product-name", "AirRun Pro", "--cta", "Shop now: 20% off", "--auto", "--duration", "30", "--format", "json", "--output"])
        .arg(root.join("out"))
        .env("ADMINT_DATA_DIR", root.join("data"))
        .env("ADMINT_STATE_DIR", root.join("state"))
        .env("ADMINT_CONFIG_DIR", root.join("none"))
        .env_remove("ADMINT_PROFILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (mut own, mut tree) = (0u64, 0u64);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let pid = child.id();
        let me = rss_kb(pid);
        own = own.max(me);
        tree = tree.max(me + children(pid).into_iter().map(rss_kb).sum::<u64>());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(child.wait().unwrap().success());
    let wall = t.elapsed().as_secs_f64();
    println!("(c) 30 s offline generate at 1080p: {wall:.1} s wall, peak RSS admint {:.0} MB, with its ffmpeg children {:.0} MB (sampled every 50 ms)", own as f64 / 1024.0, tree as f64 / 1024.0);
    // The whole offline advert (story to final, scoring included) against one bare encode
    // of the same video with the same settings.
    let ff = Ffmpeg::locate().unwrap();
    let t0 = Instant::now();
    let ok = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-y", "-i"])
        .arg(root.join("out").join("final.mp4"))
        .args(["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"])
        .arg(root.join("bare.mp4"))
        .status()
        .unwrap();
    assert!(ok.success());
    let bare = t0.elapsed().as_secs_f64();
    println!("(d) the offline end-to-end advert (story to final, scoring included) {wall:.1} s ÷ one bare encode {bare:.1} s = {:.2} (goal ≤ 2.5)", wall / bare);
    // The same run's animatic (made before the clips): its stage against the whole advert.
    let store = Store::open(&root.join("data")).unwrap();
    let id = store.session_ids().unwrap().remove(0);
    let events = store.events(&id).unwrap();
    let at = |f: &dyn Fn(&Event) -> bool| events.iter().find(|e| f(&e.event)).map(|e| e.at_ms).expect("the run made an animatic");
    let animatic = (at(&|e| matches!(e, Event::AnimaticMade { .. })) - at(&|e| matches!(e, Event::StageStarted { stage: Stage::Animatic }))) as f64 / 1000.0;
    println!("(e) the animatic of the same 30 s advert (480p, keyframes moving, text, voice, captions, music) {animatic:.1} s ÷ the whole offline 1080p advert {wall:.1} s = {:.3} (goal < 0.2)", animatic / wall);
}

fn main() {
    // `ADMINT_LOG=debug` prints each ffmpeg run's time (where a compose spends it).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("ADMINT_LOG") {
        let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).try_init();
    }
    // `cargo bench` passes --bench; `cargo test --benches` would not: skip heavy work then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ff = Ffmpeg::locate().expect("ffmpeg is required");
    let tmp = tempfile::tempdir().unwrap();
    // `ADMINT_BENCH_KEEP=1` keeps the work (graphs, clips) for a closer look.
    let dir = match std::env::var_os("ADMINT_BENCH_KEEP") {
        Some(_) => {
            let kept = tempfile::tempdir().unwrap().keep();
            eprintln!("keeping the work in {}", kept.display());
            kept
        }
        None => tmp.path().to_path_buf(),
    };
    // `ADMINT_BENCH=compose` (or `clips`, `rss`) runs one part.
    let only = std::env::var("ADMINT_BENCH").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only == part;
    if run("clips") {
        bench_parallel_clips(&ff, &dir);
    }
    if run("compose") {
        bench_compose(&ff, &dir);
    }
    if run("rss") {
        bench_rss(&dir);
    }
}
