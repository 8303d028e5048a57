//! ffmpeg work, checked by probing and looking at the produced files.

use admint::domain::{CameraMove, CaptionMode, CaptionStyle, Transition, TransitionKind};
use admint::media::*;
use std::path::Path;

fn ff() -> Ffmpeg {
    Ffmpeg::locate().expect("ffmpeg must be installed for the test suite (make test installs it)")
}

fn paint(dir: &Path, w: u32, h: u32, title: Option<&str>, arrangement: Arrangement) -> std::path::PathBuf {
    let out = dir.join(format!("design-{w}x{h}-{}.png", title.unwrap_or("none").len()));
    let design = Design { arrangement, title: title.unwrap_or_default().to_string(), ..Design::sample(w, h) };
    design.paint(&out).expect("paint");
    out
}

#[test]
fn paints_a_design_of_the_requested_size() {
    let dir = tempfile::tempdir().unwrap();
    let p = paint(dir.path(), 400, 224, Some("AirRun Pro: 100% \"fast\""), Arrangement::Stack);
    let img = image::open(&p).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (400, 224));
    // Not a flat fill: the gradient, shapes and type vary the pixels.
    let lum: Vec<u32> = img.pixels().map(|p| p[0] as u32 + p[1] as u32 + p[2] as u32).collect();
    let (min, max) = (lum.iter().min().unwrap(), lum.iter().max().unwrap());
    assert!(max - min > 100, "image is nearly flat: {min}..{max}");
    assert!(Design::read(&p).is_some(), "the still records its design");
}

#[test]
fn animates_a_still_into_a_clip_of_exact_length() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let designed = paint(dir.path(), 400, 224, Some("AirRun Pro"), Arrangement::Marquee);
    // A still from anywhere else (no design recorded in it) is animated as one plane.
    let plain = dir.path().join("plain.png");
    image::open(&designed).unwrap().to_rgb8().save(&plain).unwrap();
    for (name, still) in [("designed", designed), ("plain", plain)] {
        let out = dir.path().join(format!("{name}.mp4"));
        let spec = AnimateSpec { width: 320, height: 180, fps: 30, duration_s: 1.5, camera: CameraMove::PanRight, intensity: 0.7, x264_preset: "ultrafast".into(), crf: 28 };
        let mut last = 0.0;
        animate_still(&ff, &still, &out, &spec, None, |p| last = p).unwrap();
        assert_eq!(last, 1.0);
        let probe = ff.probe(&out).unwrap();
        assert_eq!((probe.width, probe.height), (320, 180));
        assert_eq!(probe.video_codec, "h264");
        assert!((probe.duration_s - 1.5).abs() < 0.05, "{name}: {}", probe.duration_s);
        assert_eq!(probe.fps.round(), 30.0);
        // It moves: the last second differs from the first frame.
        let (a, _, _) = frame_rgb(&ff, &out, 0.0);
        let (b, _, _) = frame_rgb(&ff, &out, 1.4);
        let diff = a.iter().zip(&b).map(|(x, y)| (*x as i32 - *y as i32).abs() as f64).sum::<f64>() / a.len() as f64;
        assert!(diff > 2.0, "{name} barely moves: {diff}");
    }
}

#[test]
fn an_animated_clip_keeps_the_still_s_colours() {
    // Frames reach x264 as 4:2:0 converted in Rust: a wrong matrix, range or plane order
    // shows as a colour cast once ffmpeg decodes them back.
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    for colour in [[200u8, 60, 120], [30, 160, 90], [250, 240, 20]] {
        let still = dir.path().join("flat.png");
        image::RgbImage::from_pixel(160, 90, image::Rgb(colour)).save(&still).unwrap();
        let out = dir.path().join("flat.mp4");
        let spec = AnimateSpec { width: 160, height: 90, fps: 30, duration_s: 0.5, camera: CameraMove::ZoomIn, intensity: 0.5, x264_preset: "ultrafast".into(), crf: 18 };
        animate_still(&ff, &still, &out, &spec, None, |_| {}).unwrap();
        let (px, _, _) = frame_rgb(&ff, &out, 0.2);
        for c in 0..3 {
            let mean = px.chunks(3).map(|p| p[c] as f64).sum::<f64>() / (px.len() / 3) as f64;
            assert!((mean - colour[c] as f64).abs() < 3.0, "{colour:?}: channel {c} decodes as {mean:.1}");
        }
    }
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
    let still = paint(dir.path(), 400, 224, None, Arrangement::Figures);
    let mut clips = Vec::new();
    for (k, cam) in [CameraMove::ZoomIn, CameraMove::Dolly].into_iter().enumerate() {
        let out = dir.path().join(format!("c{k}.mp4"));
        let spec = AnimateSpec { width: 320, height: 180, fps: 30, duration_s: 1.0, camera: cam, intensity: 0.5, x264_preset: "ultrafast".into(), crf: 28 };
        animate_still(&ff, &still, &out, &spec, None, |_| {}).unwrap();
        clips.push(ComposeClip { path: out, duration_s: 1.0, text: r#"Don't "wait": 100% \ off, today"#.into(), transition: Transition::default(), voice: None, ambience: false });
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
        call_to_action: "Shop now: 20% off, today".into(), end_card: Default::default(), typeface: String::new(),
        colors: ["#ff4fa3".into(), "#2b2d42".into()],
        logo: None, clips, outro_transition: Transition::default(), audio: ComposeAudio { music: Some(music) },
        look: None, loudness_lufs: -14.0, true_peak_db: -1.0, font: String::new(), x264_preset: "ultrafast".into(), crf: 28,
        captions: CaptionMode::Burn, caption_style: CaptionStyle::Plain, beat: None, ambience_db: -18.0,
    };
    let work = dir.path().join("work dir: with, odd 'chars'");
    let out = dir.path().join("final.mp4");
    let probe = compose(&ff, &spec, &work, &out, None, |_| {}).unwrap();
    assert!((probe.duration_s - 3.0).abs() <= 0.1, "{}", probe.duration_s);
    assert!(probe.has_audio);
    assert_eq!(probe.pix_fmt, "yuv420p");
    // The overlay text file holds the text verbatim (drawtext reads it with expansion=none).
    // One file per line (each line is centred on its own).
    let txt: String = (0..3).filter_map(|i| std::fs::read_to_string(work.join(format!("scene-0-{i}.txt"))).ok()).collect::<Vec<_>>().join(" ");
    assert!(txt.contains("100%") && txt.contains('"') && txt.contains('\\'));
    // No temp file left behind.
    assert!(!dir.path().join(".final.part.mp4").exists());
}

/// A clip of one flat colour (`0xRRGGBB`), `secs` long.
fn flat_clip(ff: &Ffmpeg, dir: &Path, colour: &str, secs: f64) -> std::path::PathBuf {
    lavfi_clip(ff, dir, &format!("color=c={colour}:s=320x180:r=30:d={secs}"), &format!("flat-{colour}"))
}

/// A clip of an ffmpeg source (`testsrc2=…`, `color=…`), nearly lossless, as `NAME.mp4`.
fn lavfi_clip(ff: &Ffmpeg, dir: &Path, source: &str, name: &str) -> std::path::PathBuf {
    let out = dir.join(format!("{name}.mp4"));
    let st = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", source, "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "10"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    out
}

/// The frame at `t` seconds as RGB bytes, with its width and height.
fn frame_rgb(ff: &Ffmpeg, video: &Path, t: f64) -> (Vec<u8>, usize, usize) {
    let out = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-ss", &format!("{t:.3}"), "-i"])
        .arg(video)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    let probe = ff.probe(video).unwrap();
    let (w, h) = (probe.width as usize, probe.height as usize);
    assert_eq!(out.stdout.len(), w * h * 3, "one frame at {t}");
    (out.stdout, w, h)
}

/// The mean RGB of the frame at `t` seconds, over a region given as fractions of the frame.
fn mean_rgb(ff: &Ffmpeg, video: &Path, t: f64, region: (f64, f64, f64, f64)) -> [f64; 3] {
    let (rgb, w, h) = frame_rgb(ff, video, t);
    let (x0, y0, x1, y1) = ((region.0 * w as f64) as usize, (region.1 * h as f64) as usize, (region.2 * w as f64) as usize, (region.3 * h as f64) as usize);
    let mut sum = [0f64; 3];
    let mut n = 0.0;
    for y in y0..y1 {
        for x in x0..x1 {
            let px = &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
            sum.iter_mut().zip(px).for_each(|(s, &v)| *s += v as f64);
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

fn spec_of(clips: Vec<ComposeClip>, intro_s: f64, outro_s: f64, look: Option<std::path::PathBuf>) -> ComposeSpec {
    ComposeSpec {
        width: 320, height: 180, fps: 30, intro_s, outro_s,
        product_name: "AirRun".into(), call_to_action: "Shop now".into(), end_card: Default::default(), typeface: String::new(),
        colors: ["#202020".into(), "#404040".into()],
        logo: None, clips, outro_transition: Transition::of(TransitionKind::Dissolve), audio: ComposeAudio::default(),
        look, loudness_lufs: -14.0, true_peak_db: -1.0, font: String::new(), x264_preset: "ultrafast".into(), crf: 12,
        captions: CaptionMode::Burn, caption_style: CaptionStyle::Plain, beat: None, ambience_db: -18.0,
    }
}

#[test]
fn a_dissolve_blends_both_shots_and_keeps_the_planned_length() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let red = flat_clip(&ff, dir.path(), "0xff0000", 2.0);
    let blue = flat_clip(&ff, dir.path(), "0x0000ff", 2.0);
    let clip = |path, transition| ComposeClip { path, duration_s: 2.0, text: String::new(), transition, voice: None, ambience: false };
    let spec = spec_of(vec![clip(red, Transition::cut()), clip(blue, Transition { kind: TransitionKind::Dissolve, duration_s: 0.6 })], 0.0, 0.0, None);
    let out = dir.path().join("final.mp4");
    let probe = compose(&ff, &spec, &dir.path().join("work"), &out, None, |_| {}).unwrap();
    assert!((probe.duration_s - 4.0).abs() <= 1.0 / 30.0 + 1e-3, "the plan's 4 s, got {}", probe.duration_s);
    let whole = (0.0, 0.0, 1.0, 1.0);
    let before = mean_rgb(&ff, &out, 1.0, whole);
    let middle = mean_rgb(&ff, &out, 2.0, whole);
    let after = mean_rgb(&ff, &out, 3.0, whole);
    assert!(before[0] > 200.0 && before[2] < 40.0, "red before: {before:?}");
    assert!(after[2] > 200.0 && after[0] < 40.0, "blue after: {after:?}");
    // Mid-transition: differs from both neighbours and is close to their average.
    for c in 0..3 {
        let avg = (before[c] + after[c]) / 2.0;
        assert!((middle[c] - avg).abs() < 20.0, "channel {c}: {middle:?} vs the average of {before:?} and {after:?}");
    }
    // The slot of scene 2 starts where the plan says: a cut at 2.0 would be pure blue at 2.0.
    assert_eq!(spec.timeline().clip_slot(1), Some((2.0, 2.0)));
}

#[test]
fn a_look_grades_the_clips_and_never_the_cards_or_the_text() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let grey = flat_clip(&ff, dir.path(), "0x306090", 2.0);
    // An inverting LUT (size 2): out = 1 - in.
    let invert = dir.path().join("invert.cube");
    std::fs::write(&invert, "TITLE \"invert\"\nLUT_3D_SIZE 2\n1 1 1\n0 1 1\n1 0 1\n0 0 1\n1 1 0\n0 1 0\n1 0 0\n0 0 0\n").unwrap();
    assert!(parse_cube(&std::fs::read_to_string(&invert).unwrap(), "invert.cube").is_ok());
    let clip = ComposeClip { path: grey, duration_s: 2.0, text: "WWWWWWWW".into(), transition: Transition::cut(), voice: None, ambience: false };
    let render = |look: Option<std::path::PathBuf>, name: &str| {
        let out = dir.path().join(format!("{name}.mp4"));
        compose(&ff, &spec_of(vec![clip.clone()], 1.0, 1.0, look), &dir.path().join(name), &out, None, |_| {}).unwrap();
        out
    };
    let plain = render(None, "plain");
    let graded = render(Some(invert), "graded");
    // The clip (above the caption) is negated...
    let sky = (0.1, 0.1, 0.9, 0.4);
    let (p, g) = (mean_rgb(&ff, &plain, 2.0, sky), mean_rgb(&ff, &graded, 2.0, sky));
    for c in 0..3 {
        assert!((g[c] - (255.0 - p[c])).abs() < 12.0, "channel {c}: graded {g:?} is not the negative of {p:?}");
    }
    // ...the cards are not...
    for t in [0.5, 3.5] {
        let (p, g) = (mean_rgb(&ff, &plain, t, (0.0, 0.0, 1.0, 1.0)), mean_rgb(&ff, &graded, t, (0.0, 0.0, 1.0, 1.0)));
        assert!((0..3).all(|c| (p[c] - g[c]).abs() < 3.0), "card at {t}s changed: {p:?} vs {g:?}");
    }
    // ...and the caption stays white (drawn after the grade): its brightest pixels are
    // white in both cuts; an inverted caption would have none brighter than the clip.
    let (pw, gw) = (whitest(&ff, &plain, 2.0), whitest(&ff, &graded, 2.0));
    assert!(pw > 220.0 && gw > 220.0, "the caption's core is white in both: {pw:.0} and {gw:.0}");
}

#[test]
fn the_identity_look_moves_no_pixel_more_than_a_level_and_a_broken_clip_fails_the_grade() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    // A busy, colourful clip: every kind of colour goes through the grade.
    let busy = lavfi_clip(&ff, dir.path(), "testsrc2=s=320x180:r=30:d=2", "busy");
    let identity = dir.path().join("identity.cube");
    std::fs::write(&identity, "LUT_3D_SIZE 2\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n").unwrap();
    let clip = |path: &Path| ComposeClip { path: path.to_path_buf(), duration_s: 2.0, text: String::new(), transition: Transition::cut(), voice: None, ambience: false };
    let render = |look: Option<std::path::PathBuf>, name: &str| {
        let out = dir.path().join(format!("{name}.mp4"));
        let mut spec = spec_of(vec![clip(&busy)], 0.0, 0.0, look);
        spec.crf = 0;
        compose(&ff, &spec, &dir.path().join(name), &out, None, |_| {}).map(|_| out)
    };
    let yuv = |video: &Path| {
        let out = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-i"]).arg(video).args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]).output().unwrap();
        out.stdout
    };
    // Lossless, so the picture is what the graph made (not the encoder's rounding).
    let (plain, graded) = (render(None, "plain").unwrap(), render(Some(identity.clone()), "graded").unwrap());
    let (p, g) = (yuv(&plain), yuv(&graded));
    assert_eq!(p.len(), g.len());
    let moved = p.iter().zip(&g).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(moved <= 1, "the identity look moved a sample by {moved} levels");
    // A clip that stops decoding half way fails the compose; it is not padded silently.
    let bytes = std::fs::read(&busy).unwrap();
    let broken = dir.path().join("broken.mp4");
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let spec = spec_of(vec![clip(&broken)], 0.0, 0.0, Some(identity));
    let err = compose(&ff, &spec, &dir.path().join("broken"), &dir.path().join("broken-final.mp4"), None, |_| {});
    assert!(err.is_err(), "a broken clip must not compose");
}

#[test]
fn scene_text_reads_at_4_5_to_1_on_a_white_clip_and_on_a_black_clip() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let white = flat_clip(&ff, dir.path(), "0xffffff", 2.0);
    let black = flat_clip(&ff, dir.path(), "0x000000", 2.0);
    let clip = |path| ComposeClip { path, duration_s: 2.0, text: "Built different".into(), transition: Transition::cut(), voice: None, ambience: false };
    let spec = spec_of(vec![clip(white), clip(black)], 0.0, 0.0, None);
    let out = dir.path().join("final.mp4");
    compose(&ff, &spec, &dir.path().join("work"), &out, None, |_| {}).unwrap();
    let boxes = overlay_boxes(&spec);
    for (k, t) in [(0usize, 1.5), (1, 3.5)] {
        let b = boxes.iter().find(|b| b.label == format!("scene {} caption", k + 1)).unwrap();
        let (rgb, w, h) = frame_rgb(&ff, &out, t);
        // The inner part of the estimated box: letters and the plate (or clip) behind them.
        let (x0, y0, x1, y1) = b.rect;
        let (cx, cy) = ((x1 - x0) * 0.1, (y1 - y0) * 0.15);
        let mut lum: Vec<f64> = Vec::new();
        for y in ((y0 + cy) * h as f64) as usize..((y1 - cy) * h as f64) as usize {
            for x in ((x0 + cx) * w as f64) as usize..((x1 - cx) * w as f64) as usize {
                let p = &rgb[(y * w + x) * 3..(y * w + x) * 3 + 3];
                lum.push(admint::domain::relative_luminance([p[0], p[1], p[2]].map(|v| v as f64 / 255.0)));
            }
        }
        lum.sort_by(|a, b| a.total_cmp(b));
        // The letters are the brightest pixels; what is behind them is the most common.
        let letters = lum[lum.len() * 995 / 1000];
        let behind = lum[lum.len() / 4];
        let ratio = admint::domain::contrast_ratio(letters, behind);
        assert!(ratio >= MIN_CONTRAST, "scene {}: contrast {ratio:.2} (letters {letters:.3}, behind {behind:.3})", k + 1);
    }
}

#[test]
fn the_end_card_carries_the_price_badge_and_the_web_address() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let clip = ComposeClip { path: flat_clip(&ff, dir.path(), "0x305070", 1.0), duration_s: 1.0, text: String::new(), transition: Transition::cut(), voice: None, ambience: false };
    let mut spec = spec_of(vec![clip], 0.0, 2.0, None);
    spec.width = 1280;
    spec.height = 720;
    spec.end_card = EndCard { url: Some("airrun.example".into()), price: Some("$49".into()) };
    let out = dir.path().join("final.mp4");
    compose(&ff, &spec, &dir.path().join("work"), &out, None, |_| {}).unwrap();
    let boxes = overlay_boxes(&spec);
    let rect = |label: &str| boxes.iter().find(|b| b.label == label).unwrap_or_else(|| panic!("no {label} in {boxes:?}")).rect;
    let (price, url) = (rect("price"), rect("url"));
    // Inside the badge: dark type on its light plate (the card's text has risen a little).
    let price_text = ocr_rect(&ff, &out, 2.0, (price.0 - 0.01, price.1 - 0.035, price.2 + 0.01, price.3 - 0.005), dir.path());
    assert!(price_text.contains("49"), "the badge reads {price_text:?}");
    let url_text = ocr_rect(&ff, &out, 2.0, (url.0 - 0.05, url.1 - 0.05, url.2 + 0.05, url.3 + 0.02), dir.path());
    assert!(url_text.contains("airrun.example"), "the address reads {url_text:?}");
    // The badge is dark type on a light plate.
    let (r, g, b) = { let m = mean_rgb(&ff, &out, 2.0, (price.0, price.1 - 0.02, price.2, price.3 - 0.02)); (m[0], m[1], m[2]) };
    assert!(r + g + b > 3.0 * 150.0, "the badge is not light: {r:.0} {g:.0} {b:.0}");
}

#[test]
fn characters_the_font_lacks_are_reported_and_left_out_before_rendering() {
    let clip = ComposeClip { path: "clip.mp4".into(), duration_s: 2.0, text: "Run 🏃 fast".into(), transition: Transition::cut(), voice: None, ambience: false };
    let mut spec = spec_of(vec![clip.clone(), ComposeClip { text: "Plain text: 100% \"ok\"".into(), ..clip }], 1.0, 1.0, None);
    spec.call_to_action = "Shop now 🛒".into();
    let report = leave_out_unprintable(&mut spec);
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(report[0].contains("scene 1") && report[0].contains('🏃'), "{report:?}");
    assert!(report[1].contains("call to action") && report[1].contains('🛒'), "{report:?}");
    assert_eq!(spec.clips[0].text, "Run fast");
    assert_eq!(spec.clips[1].text, "Plain text: 100% \"ok\"", "text the font has is untouched");
    assert_eq!(spec.call_to_action, "Shop now");
}

/// How white the 20 whitest pixels of the frame at `t` are (their darkest channel, averaged).
fn whitest(ff: &Ffmpeg, video: &Path, t: f64) -> f64 {
    let (rgb, _, _) = frame_rgb(ff, video, t);
    let mut mins: Vec<u8> = rgb.chunks_exact(3).map(|p| *p.iter().min().unwrap()).collect();
    mins.sort_unstable_by(|a, b| b.cmp(a));
    mins.iter().take(20).map(|&m| m as f64).sum::<f64>() / 20.0
}

/// Integrated loudness (LUFS) and true peak (dBTP) by ffmpeg's own ebur128 meter.
fn ebur128(ff: &Ffmpeg, video: &Path) -> (f64, f64) {
    let out = std::process::Command::new(&ff.ffmpeg)
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(video)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = &log[log.rfind("Summary:").expect("an ebur128 summary")..];
    let value = |label: &str| -> f64 {
        let at = summary.find(label).unwrap_or_else(|| panic!("{label} in {summary}"));
        summary[at + label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    (value("I:"), value("Peak:"))
}

/// RMS level (dBFS) of the audio between `a` and `b` seconds.
fn rms_db(ff: &Ffmpeg, video: &Path, a: f64, b: f64) -> f64 {
    let out = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-ss", &format!("{a:.3}"), "-t", &format!("{:.3}", b - a), "-i"])
        .arg(video)
        .args(["-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "48000", "-"])
        .output()
        .unwrap();
    let n = out.stdout.len() / 2;
    let sum: f64 = out.stdout.chunks_exact(2).map(|c| (i16::from_le_bytes([c[0], c[1]]) as f64 / 32768.0).powi(2)).sum();
    10.0 * (sum / n.max(1) as f64).log10()
}

#[test]
fn the_mix_is_normalised_to_broadcast_loudness_and_the_music_ducks_under_the_voice() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    // The offline composer's bed for a 10 s advert whose end card starts at 9 s.
    let bed = compose_bed(&MusicSpec { mood: Mood::Energetic, total_s: 10.0, cadence_s: 9.0, seed: 1 });

    let music = dir.path().join("bed.wav");
    write_wav(&bed, &music).unwrap();
    // A "voice" line that is silent: what is heard under it is the ducked music alone.
    let voice = dir.path().join("voice.wav");
    let st = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "2.5"])
        .arg(&voice)
        .status()
        .unwrap();
    assert!(st.success());
    let clip = |path, voice| ComposeClip { path, duration_s: 4.0, text: String::new(), transition: Transition::cut(), voice, ambience: false };
    let a = flat_clip(&ff, dir.path(), "0x204060", 4.0);
    let b = flat_clip(&ff, dir.path(), "0x406020", 4.0);
    let mut spec = spec_of(vec![clip(a, None), clip(b, Some(VoiceLine { path: voice, duration_s: 2.5, tempo: 1.0, cues: vec![] }))], 1.0, 1.0, None);
    spec.audio.music = Some(music);
    let out = dir.path().join("final.mp4");
    compose(&ff, &spec, &dir.path().join("work"), &out, None, |_| {}).unwrap();
    let (i, tp) = ebur128(&ff, &out);
    assert!((i - -14.0).abs() <= 0.5, "integrated loudness {i} LUFS, target -14 (measured on the encoded master and corrected to ± 0.5 LU)");
    assert!(tp <= -1.0 + 0.2, "true peak {tp} dBTP, ceiling -1");
    // Scene 2's slot starts at 5 s; its voice line from 5.15 s to 7.65 s.
    let start = spec.timeline().voice_start(1).unwrap();
    assert!((start - 5.15).abs() < 1e-9);
    let under = rms_db(&ff, &out, start + 0.3, start + 2.2);
    let alone = rms_db(&ff, &out, 2.0, 4.5);
    assert!(alone - under >= 10.0, "music under speech {under:.1} dB vs alone {alone:.1} dB: ducked by {:.1} dB", alone - under);
}

/// A real spoken line (ffmpeg's flite voice) with its word timings from admint's aligner.
fn spoken_line(ff: &Ffmpeg, dir: &Path, text: &str) -> VoiceLine {
    let txt = dir.join("line.txt");
    std::fs::write(&txt, text).unwrap();
    let wav = dir.join("line.wav");
    let src = format!("flite=textfile={}:voice=slt", escape_filter_value(&txt.display().to_string()));
    let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-f", "lavfi", "-i", &src]).arg(&wav).status().unwrap();
    assert!(st.success());
    let (pauses, duration) = silences(ff, &wav).unwrap();
    VoiceLine { path: wav, duration_s: duration, tempo: 1.0, cues: align(text, &pauses, duration) }
}

#[test]
fn captions_are_burned_in_the_safe_area_clear_of_the_scene_text_and_a_long_line_is_sped_up_to_fit() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let text = "Meet AirRun Pro: {100%} \"fresh\", made for runners.";
    let mut line = spoken_line(&ff, dir.path(), text);
    assert_eq!(line.cues.len(), text.split_whitespace().count());
    // A scene 10 % too short for the line at its natural pace.
    let scene = line.duration_s / 1.1 + 0.35;
    line.tempo = admint::domain::fit_tempo(line.duration_s, scene).unwrap();
    assert!(line.tempo > 1.05 && line.tempo <= 1.15, "{}", line.tempo);
    let clip = ComposeClip { path: flat_clip(&ff, dir.path(), "0x304050", scene), duration_s: scene, text: "Built different".into(), transition: Transition::cut(), voice: Some(line.clone()), ambience: false };
    let mut spec = spec_of(vec![clip], 0.5, 0.5, None);
    let tl = spec.timeline();
    let cues = caption_cues(&spec, &tl);
    assert!(!cues.is_empty());
    let words: String = cues.iter().map(|c| c.text()).collect::<Vec<_>>().join(" ");
    assert_eq!(words, text, "every word captioned, in order, literally");
    let (start, len) = tl.clip_slot(0).unwrap();
    assert!(cues.windows(2).all(|w| w[0].end_s <= w[1].start_s + 1e-9));
    assert!(cues.iter().all(|c| c.start_s >= start && c.end_s <= start + len + 1e-9), "{cues:?}");
    let sidecar = srt(&cues);
    assert!(sidecar.contains("{100%}") && sidecar.starts_with("1\n00:00:00,"), "{sidecar}");

    // The scene text goes to the top; no caption box touches it.
    let boxes = overlay_boxes(&spec);
    let scene_box = boxes.iter().find(|b| b.label.contains("scene 1")).unwrap().rect;
    assert!(scene_box.3 < 0.35, "the scene text moved up: {scene_box:?}");
    for b in boxes.iter().filter(|b| b.label.starts_with("caption")) {
        let r = b.rect;
        assert!(r.1 >= scene_box.3 || r.3 <= scene_box.1, "{} overlaps the scene text", b.label);
        assert!(r.3 <= 0.95 && r.1 >= 0.05 && r.0 >= 0.0 && r.2 <= 1.0, "{} leaves the safe area: {r:?}", b.label);
    }

    // Burned: the caption band is lit in the middle of the first cue; off, it is not.
    let mid = (cues[0].start_s + cues[0].end_s) / 2.0;
    let band = (0.15, 0.76, 0.85, 0.9);
    let burned = dir.path().join("burned.mp4");
    compose(&ff, &spec, &dir.path().join("w1"), &burned, None, |_| {}).unwrap();
    spec.captions = CaptionMode::Off;
    let plain = dir.path().join("plain.mp4");
    compose(&ff, &spec, &dir.path().join("w2"), &plain, None, |_| {}).unwrap();
    let lit = |f: &Path| mean_rgb(&ff, f, mid, band).iter().sum::<f64>() / 3.0;
    assert!(lit(&burned) > lit(&plain) + 6.0, "captions drawn: {:.1} vs {:.1}", lit(&burned), lit(&plain));
    assert!((mean_rgb(&ff, &burned, start + len + 0.2, band)[0] - mean_rgb(&ff, &plain, start + len + 0.2, band)[0]).abs() < 3.0, "no caption on the end card");

    // The sped-up line ends inside its scene (measured on the voice stem).
    spec.captions = CaptionMode::Burn;
    let stems = render_stems(&ff, &spec, &dir.path().join("w3"), &dir.path().join("stems")).unwrap();
    let (pauses, total) = silences(&ff, &stems[0]).unwrap();
    let speech_end = pauses.last().filter(|p| p.1 >= total - 0.05).map_or(total, |p| p.0);
    assert!(speech_end <= start + len + 0.02, "the voice runs to {speech_end:.2}s, the scene ends at {:.2}s", start + len);
}

#[test]
fn the_music_stem_ducks_at_least_10_db_under_the_voice() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let bed = compose_bed(&MusicSpec { mood: Mood::Calm, total_s: 9.0, cadence_s: 8.0, seed: 4 });
    let music = dir.path().join("bed.wav");
    write_wav(&bed, &music).unwrap();
    let line = spoken_line(&ff, dir.path(), "Feel the difference every day.");
    let clip = |path, voice| ComposeClip { path, duration_s: 4.0, text: String::new(), transition: Transition::cut(), voice, ambience: false };
    let a = flat_clip(&ff, dir.path(), "0x204060", 4.0);
    let b = flat_clip(&ff, dir.path(), "0x406020", 4.0);
    let mut spec = spec_of(vec![clip(a, None), clip(b, Some(line.clone()))], 0.5, 0.5, None);
    spec.audio.music = Some(music);
    let stems = render_stems(&ff, &spec, &dir.path().join("work"), &dir.path().join("stems")).unwrap();
    let names: Vec<String> = stems.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["voice.wav", "music.wav", "mix.wav"]);
    for s in &stems {
        assert!((ff.probe(s).unwrap().duration_s - spec.total_s()).abs() < 0.05, "{} is the advert's length", s.display());
    }
    // The music under the speech against the same bars of the bed alone.
    let start = spec.timeline().voice_start(1).unwrap();
    let (a, b) = (start + 0.3, start + line.duration_s - 0.3);
    let under = rms_db(&ff, &stems[1], a, b);
    let alone = rms_db(&ff, &spec.audio.music.clone().unwrap(), a, b);
    assert!(alone - under >= 10.0, "music under speech {under:.1} dB vs alone {alone:.1} dB");
    // And where nobody speaks, the stem is the bed as it is.
    assert!((rms_db(&ff, &stems[1], 1.0, 3.5) - rms_db(&ff, &spec.audio.music.clone().unwrap(), 1.0, 3.5)).abs() < 0.5);
    let (i, tp) = ebur128(&ff, &stems[2]);
    assert!((i - -14.0).abs() <= 1.0 && tp <= -1.0 + 0.2, "the mix stem is mastered: {i} LUFS, {tp} dBTP");
}

#[test]
fn a_clips_own_sound_plays_low_in_its_slot_on_the_ambience_bus() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    // A clip with its own sound (a 1 kHz tone), as a video model with audio makes it.
    let loud = dir.path().join("with-sound.mp4");
    let st = std::process::Command::new(&ff.ffmpeg)
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x335577:s=320x180:r=30:d=2", "-f", "lavfi", "-i", "sine=f=1000:d=2:sample_rate=48000", "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        .arg(&loud)
        .status()
        .unwrap();
    assert!(st.success());
    let quiet = flat_clip(&ff, dir.path(), "0x553311", 2.0);
    let clip = |path, ambience| ComposeClip { path, duration_s: 2.0, text: String::new(), transition: Transition::cut(), voice: None, ambience };
    let mut spec = spec_of(vec![clip(quiet.clone(), false), clip(loud.clone(), true)], 0.5, 0.5, None);
    spec.ambience_db = -18.0;
    let stems = render_stems(&ff, &spec, &dir.path().join("w"), &dir.path().join("stems")).unwrap();
    let music_bus = &stems[1];
    // Slot 2 runs from 2.5 s to 4.5 s: the tone is there, 18 dB down; slot 1 is silent.
    let inside = rms_db(&ff, music_bus, 2.8, 4.2);
    let before = rms_db(&ff, music_bus, 0.8, 2.2);
    let original = rms_db(&ff, &loud, 0.3, 1.7);
    // 18 dB down, plus the 3 dB of the pan law: the mono tone is spread over two channels.
    assert!((original - inside - 21.0).abs() < 1.5, "ambience {inside:.1} dB vs the clip's own {original:.1} dB");
    assert!(before < inside - 40.0, "nothing in the slot of a clip without sound: {before:.1} dB");
    // Off: the clip's sound is left out.
    spec.clips[1].ambience = false;
    let stems = render_stems(&ff, &spec, &dir.path().join("w2"), &dir.path().join("stems2")).unwrap();
    assert!(rms_db(&ff, &stems[2], 2.8, 4.2) < -60.0);
}

/// What tesseract reads in a region of the frame at `t` (fractions of the frame).
/// The text tesseract reads in a rectangle of the frame at `t` (fractions), enlarged.
fn ocr_rect(ff: &Ffmpeg, video: &Path, t: f64, rect: (f64, f64, f64, f64), dir: &Path) -> String {
    let png = dir.join(format!("ocr-rect-{t:.2}.png"));
    let crop = format!("crop=iw*{:.3}:ih*{:.3}:iw*{:.3}:ih*{:.3},scale=iw*4:-1", rect.2 - rect.0, rect.3 - rect.1, rect.0, rect.1);
    let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-ss", &format!("{t:.3}"), "-i"]).arg(video).args(["-frames:v", "1", "-vf", &crop]).arg(&png).status().unwrap();
    assert!(st.success());
    let out = std::process::Command::new("tesseract").arg(&png).args(["-", "--psm", "7"]).output().expect("tesseract is installed by make test");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The text tesseract reads in a horizontal band of the frame at `t` (page segmentation
/// mode `psm`: 6 for a block of lines, 11 for sparse words such as a badge).
fn ocr(ff: &Ffmpeg, video: &Path, t: f64, band: (f64, f64), psm: u32, dir: &Path) -> String {
    let png = dir.join(format!("ocr-{t:.2}.png"));
    let crop = format!("crop=iw:ih*{:.3}:0:ih*{:.3},scale=iw*2:-1", band.1 - band.0, band.0);
    let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-ss", &format!("{t:.3}"), "-i"]).arg(video).args(["-frames:v", "1", "-vf", &crop]).arg(&png).status().unwrap();
    assert!(st.success());
    let out = std::process::Command::new("tesseract").arg(&png).args(["-", "--psm", &psm.to_string()]).output().expect("tesseract is installed by make test");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_burned_caption_reads_back_as_its_words_in_16_9_and_9_16() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    let text = "Meet AirRun Pro, made for runners.";
    let line = spoken_line(&ff, dir.path(), text);
    for (w, h) in [(1280u32, 720u32), (720, 1280)] {
        let clip_path = dir.path().join(format!("clip-{w}.mp4"));
        let src = format!("color=c=0x2a3a5a:s={w}x{h}:r=30:d={:.2}", line.duration_s + 0.5);
        let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-f", "lavfi", "-i", &src, "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "12"]).arg(&clip_path).status().unwrap();
        assert!(st.success());
        let clip = ComposeClip { path: clip_path, duration_s: line.duration_s + 0.5, text: "Built different".into(), transition: Transition::cut(), voice: Some(line.clone()), ambience: false };
        let mut spec = spec_of(vec![clip], 0.0, 0.0, None);
        (spec.width, spec.height) = (w, h);
        let out = dir.path().join(format!("final-{w}.mp4"));
        compose(&ff, &spec, &dir.path().join(format!("work-{w}")), &out, None, |_| {}).unwrap();
        let cues = caption_cues(&spec, &spec.timeline());
        let layout = caption_layout(w, h);
        for c in &cues {
            let (top, bottom) = layout.rows(c.lines.len(), h);
            let read = ocr(&ff, &out, (c.start_s + c.end_s) / 2.0, (top - 0.03, bottom + 0.03), 6, dir.path()).to_lowercase();
            for word in c.text().split_whitespace() {
                let word = word.trim_matches(|ch: char| !ch.is_alphanumeric()).to_lowercase();
                assert!(read.contains(&word), "{w}x{h}: \"{word}\" is not in what OCR read: {read:?}");
            }
            // The scene text is at the top, not in the caption band.
            assert!(!read.contains("different"), "{w}x{h}: the scene text collides with the caption: {read:?}");
        }
    }
}

#[test]
fn the_beat_of_a_music_track_is_detected_from_the_file() {
    let ff = ff();
    let dir = tempfile::tempdir().unwrap();
    // The offline composer's beds, whose tempo is known, as a user's file would arrive.
    for (mood, seed) in [(Mood::Energetic, 1), (Mood::Calm, 2), (Mood::Playful, 3)] {
        let spec = MusicSpec { mood, total_s: 20.0, cadence_s: 18.0, seed };
        let (bpm, _) = admint::media::bed_tempo(&spec);
        let wav = dir.path().join(format!("bed-{seed}.wav"));
        write_wav(&compose_bed(&spec), &wav).unwrap();
        // Through an AAC file, as a user's track usually is.
        let m4a = dir.path().join(format!("bed-{seed}.m4a"));
        let st = std::process::Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-i"]).arg(&wav).args(["-c:a", "aac", "-b:a", "128k"]).arg(&m4a).status().unwrap();
        assert!(st.success());
        let beat = admint::media::detect_beat(&ff, &m4a).unwrap().unwrap_or_else(|| panic!("{mood:?}: no beat heard"));
        assert!((beat.bpm() - bpm).abs() / bpm < 0.02, "{mood:?}: {bpm:.1} bpm heard as {:.1}", beat.bpm());
    }
    // Speech alone has no pulse to cut on.
    let err = admint::media::detect_beat(&ff, &dir.path().join("missing.wav")).unwrap_err();
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[test]
fn a_tall_frame_gives_the_intro_title_a_third_line_before_cutting_it() {
    let title_height = |name: &str| {
        let spec = ComposeSpec { width: 180, height: 320, product_name: name.into(), ..spec_of(vec![], 1.0, 1.0, None) };
        let b = overlay_boxes(&spec).into_iter().find(|b| b.label == "intro title").expect("an intro title");
        b.rect.3 - b.rect.1
    };
    let ratio = title_height("Pink Running Shoes") / title_height("Pink");
    assert!(ratio > 2.6, "three words on a 9:16 card take three lines, not two and an ellipsis: {ratio:.2}");
}
