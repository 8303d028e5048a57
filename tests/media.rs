//! ffmpeg work, checked by probing and looking at the produced files.

use admint::domain::CameraMove;
use admint::media::*;
use std::path::Path;

fn ff() -> Ffmpeg {
    Ffmpeg::locate().expect("ffmpeg must be installed for the test suite (make test installs it)")
}

fn paint(ff: &Ffmpeg, dir: &Path, w: u32, h: u32, title: Option<&str>, motif: Motif) -> std::path::PathBuf {
    let out = dir.join(format!("card-{w}x{h}-{}.png", title.unwrap_or("none").len()));
    let spec = PaintSpec {
        width: w,
        height: h,
        colors: vec!["#ff4fa3".into(), "#2b2d42".into(), "#ffffff".into()],
        seed: 7,
        motif,
        title: title.map(str::to_string),
        image: None,
        font: String::new(),
    };
    paint_card(ff, &spec, dir, &out).expect("paint");
    out
}

#[test]
fn paints_a_card_of_the_requested_size() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let p = paint(&ff, dir.path(), 400, 224, Some("AirRun Pro: 100% \"fast\""), Motif::Product);
    let img = image::open(&p).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (400, 224));
    // Not a flat fill: the gradient, panels and product card vary the pixels.
    let lum: Vec<u32> = img.pixels().map(|p| p[0] as u32 + p[1] as u32 + p[2] as u32).collect();
    let (min, max) = (lum.iter().min().unwrap(), lum.iter().max().unwrap());
    assert!(max - min > 100, "image is nearly flat: {min}..{max}");
}

#[test]
fn animates_a_still_into_a_clip_of_exact_length() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let still = paint(&ff, dir.path(), 400, 224, None, Motif::Environment);
    let out = dir.path().join("clip.mp4");
    let spec = AnimateSpec { width: 320, height: 180, fps: 30, duration_s: 1.5, camera: CameraMove::PanRight, intensity: 0.7, x264_preset: "ultrafast".into(), crf: 28 };
    let mut last = 0.0;
    animate_still(&ff, &still, &out, &spec, None, |p| last = p).unwrap();
    assert_eq!(last, 1.0);
    let probe = ff.probe(&out).unwrap();
    assert_eq!((probe.width, probe.height), (320, 180));
    assert_eq!(probe.video_codec, "h264");
    assert!((probe.duration_s - 1.5).abs() < 0.05, "{}", probe.duration_s);
    assert_eq!(probe.fps.round(), 30.0);
}

#[test]
fn corrupt_image_is_a_clear_error() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let spec = AnimateSpec { width: 32, height: 18, fps: 30, duration_s: 0.5, camera: CameraMove::Static, intensity: 0.0, x264_preset: "ultrafast".into(), crf: 28 };
    let err = animate_still(&ff, &bad, &dir.path().join("x.mp4"), &spec, None, |_| {}).unwrap_err();
    assert!(matches!(err, MediaError::BadImage { .. }), "{err}");
    assert!(err.to_string().contains("bad.png"));
}

#[test]
fn composes_with_cards_overlays_and_music_to_the_exact_duration() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let still = paint(&ff, dir.path(), 400, 224, None, Motif::Character);
    let mut clips = Vec::new();
    for (k, cam) in [CameraMove::ZoomIn, CameraMove::Dolly].into_iter().enumerate() {
        let out = dir.path().join(format!("c{k}.mp4"));
        let spec = AnimateSpec { width: 320, height: 180, fps: 30, duration_s: 1.0, camera: cam, intensity: 0.5, x264_preset: "ultrafast".into(), crf: 28 };
        animate_still(&ff, &still, &out, &spec, None, |_| {}).unwrap();
        clips.push(ComposeClip { path: out, duration_s: 1.0, text: r#"Don't "wait": 100% \ off, today"#.into() });
    }
    // Music: 0.7 s of tone, shorter than the advert, so it must loop.
    let music = dir.path().join("m.wav");
    let status = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=0.7"])
        .arg(&music)
        .status()
        .unwrap();
    assert!(status.success());
    let spec = ComposeSpec {
        width: 320, height: 180, fps: 30, intro_s: 0.5, outro_s: 0.5,
        product_name: "AirRun: Pro's 100%".into(),
        call_to_action: "Shop now: 20% off, today".into(),
        colors: ["#ff4fa3".into(), "#2b2d42".into()],
        logo: None, clips, audio: ComposeAudio { music: Some(music), voiceover: vec![] },
        font: String::new(), x264_preset: "ultrafast".into(), crf: 28,
    };
    let work = dir.path().join("work dir: with, odd 'chars'");
    let out = dir.path().join("final.mp4");
    let probe = compose(&ff, &spec, &work, &out, None, |_| {}).unwrap();
    assert!((probe.duration_s - 3.0).abs() <= 0.1, "{}", probe.duration_s);
    assert!(probe.has_audio);
    assert_eq!(probe.pix_fmt, "yuv420p");
    // The overlay text file holds the text verbatim (drawtext reads it with expansion=none).
    let txt = std::fs::read_to_string(work.join("scene-0.txt")).unwrap();
    assert!(txt.contains("100%") && txt.contains('"') && txt.contains('\\'));
    // No temp file left behind.
    assert!(!dir.path().join(".final.part.mp4").exists());
}
