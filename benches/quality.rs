//! `make bench` (quality part): native scoring time ÷ decode time of the same clip,
//! measured side by side (median of 3, interleaved), and peak RSS as the clip doubles.
//!
//! Baselines: (1) `ffmpeg -i clip -f null -`, decode only; (2) the same decode to rgb24
//! streamed into admint with nothing done to the frames — the floor of any scorer that
//! reads every pixel through a pipe.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use admint::config::GateSettings;
use admint::domain::CameraMove;
use admint::media::{animate_still, AnimateSpec, Design, Ffmpeg, FrameStream};
use admint::quality::{score_native, GateContext, NativeOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn clip(ff: &Ffmpeg, dir: &Path, secs: f64) -> PathBuf {
    let still = dir.join("still.png");
    if !still.exists() {
        Design::sample(2400, 1350).paint(&still).unwrap();
    }
    let out = dir.join(format!("clip-{secs}.mp4"));
    let spec = AnimateSpec { width: 1920, height: 1080, fps: 30, duration_s: secs, camera: CameraMove::PanRight, intensity: 0.6, x264_preset: "veryfast".into(), crf: 20 };
    animate_still(ff, &still, &out, &spec, None, |_| {}).unwrap();
    out
}

fn timed(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn decode_null(ff: &Ffmpeg, clip: &Path) {
    let s = Command::new(&ff.ffmpeg).args(["-v", "error", "-i"]).arg(clip).args(["-f", "null", "-"]).status().unwrap();
    assert!(s.success());
}

fn decode_rgb(ff: &Ffmpeg, clip: &Path) {
    let probe = ff.probe(clip).unwrap();
    let mut s = FrameStream::open(ff, clip, &probe).unwrap();
    let mut n = 0;
    while let Some(f) = s.next_frame() {
        let f = f.unwrap();
        std::hint::black_box(f.data[0]);
        s.recycle(f);
        n += 1;
    }
    assert_eq!(n, (probe.duration_s * 30.0).round() as usize);
}

fn score(ff: &Ffmpeg, clip: &Path, opts: &NativeOptions) {
    let s = score_native(ff, clip, opts, &GateContext::default(), &GateSettings::default()).unwrap();
    assert!(s.quality().is_some());
}

/// Peak RSS (KiB) of `admint score` on one clip, from the kernel's accounting of the child.
fn peak_rss_kib(clip: &Path) -> i64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_admint")).args(["score", "--format", "json"]).arg(clip).stdout(std::process::Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: wait4 on our own child with valid out-pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    // Reaped by wait4 above; this only releases the handle.
    let _ = child.try_wait();
    usage.ru_maxrss
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("quality: bench");
        return;
    }
    let ff = Ffmpeg::locate().expect("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let five = clip(&ff, dir.path(), 5.0);
    let ten = clip(&ff, dir.path(), 10.0);
    let flicker = NativeOptions { dimensions: vec!["temporal_flickering".into()], gates: false };
    let full = NativeOptions::all();
    let (mut null, mut rgb, mut fl, mut all) = (vec![], vec![], vec![], vec![]);
    decode_rgb(&ff, &five); // warm the page cache
    for _ in 0..3 {
        null.push(timed(|| decode_null(&ff, &five)));
        rgb.push(timed(|| decode_rgb(&ff, &five)));
        fl.push(timed(|| score(&ff, &five, &flicker)));
        all.push(timed(|| score(&ff, &five, &full)));
    }
    let (null, rgb, fl, all) = (median(null), median(rgb), median(fl), median(all));
    println!("5 s 1080p30 clip (median of 3):");
    println!("  ffmpeg decode only (-f null)        {null:.3} s");
    println!("  decode to rgb24 into admint, no-op  {rgb:.3} s");
    println!("  temporal flickering alone           {fl:.3} s");
    println!("  full native scoring (7 dims+gates)  {all:.3} s");
    println!("ratios (goal: full ≤ 2.0, flickering ≤ 1.2):");
    println!("  full ÷ rgb decode        {:.3}", all / rgb);
    println!("  flickering ÷ rgb decode  {:.3}", fl / rgb);
    println!("  full ÷ -f null decode    {:.3}", all / null);
    println!("  flickering ÷ -f null     {:.3}", fl / null);
    let (r5, r10) = (peak_rss_kib(&five), peak_rss_kib(&ten));
    println!("peak RSS of `admint score`: 5 s {:.1} MiB, 10 s {:.1} MiB (ratio {:.3}; bounded if ≈ 1)", r5 as f64 / 1024.0, r10 as f64 / 1024.0, r10 as f64 / r5 as f64);
}
