//! QC gates: the cheap checks a producer runs before publishing. Each gives pass / warn /
//! fail with what it measured.

use crate::config::GateSettings;
use crate::domain::{GateResult, Verdict};

use super::loudness::Loudness;
use crate::media::OverlayBox;

/// Luma under which a pixel is black (ffmpeg blackdetect's pix_th = 0.10).
pub const BLACK_PIXEL: f32 = 0.10 * 255.0;
/// Share of black pixels that makes a frame black (blackdetect's pic_th = 0.98).
pub const BLACK_FRAME: f64 = 0.98;
/// Mean absolute difference (0..255) under which two frames are the same picture.
pub const FROZEN_MAE: f64 = 0.3;

/// The part of the frame platforms leave uncovered, as margins (left, top, right,
/// bottom): title-safe 90 % for landscape and square; for vertical video the top bar and
/// the caption / button area at the bottom of TikTok, Reels and Shorts.
pub fn safe_margins(width: u32, height: u32) -> (f64, f64, f64, f64) {
    if height > width {
        (0.08, 0.12, 0.08, 0.20)
    } else {
        (0.05, 0.05, 0.05, 0.05)
    }
}

fn verdict(value: f64, warn: f64, fail: f64) -> Verdict {
    if value >= fail {
        Verdict::Fail
    } else if value >= warn {
        Verdict::Warn
    } else {
        Verdict::Pass
    }
}

/// The longest run of flagged frames (seconds) and where it starts, ignoring frames whose
/// time falls in `exempt`.
fn longest_run(flags: &[bool], fps: f64, exempt: &[(f64, f64)]) -> (f64, f64) {
    let (mut best, mut best_start, mut run, mut start) = (0usize, 0usize, 0usize, 0usize);
    for (i, f) in flags.iter().enumerate() {
        let t = i as f64 / fps;
        if *f && !exempt.iter().any(|(a, b)| t >= *a && t < *b) {
            if run == 0 {
                start = i;
            }
            run += 1;
            if run > best {
                best = run;
                best_start = start;
            }
        } else {
            run = 0;
        }
    }
    (best as f64 / fps, best_start as f64 / fps)
}

/// Black stretches from each frame's share of black pixels.
pub fn black(black_share: &[f64], fps: f64, exempt: &[(f64, f64)], s: &GateSettings) -> GateResult {
    let flags: Vec<bool> = black_share.iter().map(|b| *b >= BLACK_FRAME).collect();
    let (len, at) = longest_run(&flags, fps, exempt);
    GateResult {
        gate: "black".into(),
        verdict: verdict(len, s.black_warn_s, s.black_fail_s),
        value: Some(len),
        detail: if len > 0.0 { format!("longest black stretch {len:.2}s at {at:.2}s (warn ≥ {}s)", s.black_warn_s) } else { "no black frames".into() },
    }
}

/// Frozen stretches from the difference between consecutive frames (`pair_mae[i]` is
/// frame i against frame i+1). A run of n identical pairs freezes n+1 frames.
pub fn frozen(pair_mae: &[f64], fps: f64, exempt: &[(f64, f64)], s: &GateSettings) -> GateResult {
    let flags: Vec<bool> = pair_mae.iter().map(|m| *m < FROZEN_MAE).collect();
    let (pairs_len, at) = longest_run(&flags, fps, exempt);
    let len = if pairs_len > 0.0 { pairs_len + 1.0 / fps } else { 0.0 };
    GateResult {
        gate: "frozen".into(),
        verdict: verdict(len, s.frozen_warn_s, s.frozen_fail_s),
        value: Some(len),
        detail: if len > 0.0 { format!("longest frozen stretch {len:.2}s at {at:.2}s (warn ≥ {}s)", s.frozen_warn_s) } else { "picture never freezes".into() },
    }
}

/// Length against the plan.
/// With `longer_ok` (a clip that compose trims to its scene), only a short video counts.
pub fn duration(actual_s: f64, expected_s: f64, longer_ok: bool, s: &GateSettings) -> GateResult {
    let off = if longer_ok { (expected_s - actual_s).max(0.0) } else { (actual_s - expected_s).abs() };
    let trimmed = if longer_ok && actual_s > expected_s + s.duration_warn_s { "; compose trims it" } else { "" };
    GateResult {
        gate: "duration".into(),
        verdict: verdict(off, s.duration_warn_s, s.duration_fail_s),
        value: Some(actual_s),
        detail: format!("{actual_s:.2}s for a planned {expected_s:.2}s ({:+.2}s{trimmed})", actual_s - expected_s),
    }
}

/// Integrated loudness against the target. No audio, or only silence, warns: a silent
/// advert is a choice, not a defect, but the producer should know.
pub fn loudness(l: Option<&Loudness>, s: &GateSettings) -> GateResult {
    let target = s.loudness_target_lufs;
    let (verdict_, value, detail) = match l.map(|l| l.integrated) {
        None => (Verdict::Warn, None, "no audio track".to_string()),
        Some(None) => (Verdict::Warn, None, "the soundtrack is silent (add music or a voiceover)".to_string()),
        Some(Some(i)) => {
            let off = (i - target).abs();
            let v = if off <= s.loudness_tolerance_lu {
                Verdict::Pass
            } else if off <= s.loudness_fail_lu {
                Verdict::Warn
            } else {
                Verdict::Fail
            };
            (v, Some(i), format!("integrated {i:.1} LUFS, target {target:.0} ± {:.0} LU", s.loudness_tolerance_lu))
        }
    };
    GateResult { gate: "loudness".into(), verdict: verdict_, value, detail }
}

/// Silent stretches inside a soundtrack (momentary loudness under −60 LUFS).
pub fn silence(l: Option<&Loudness>, s: &GateSettings) -> Option<GateResult> {
    let l = l?;
    l.integrated?;
    let flags: Vec<bool> = l.momentary.iter().map(|m| *m < -60.0).collect();
    // Blocks are 400 ms long and start every 100 ms.
    let (run, at) = longest_run(&flags, 10.0, &[]);
    let len = if run > 0.0 { run + 0.3 } else { 0.0 };
    Some(GateResult {
        gate: "silence".into(),
        verdict: if len > s.silence_warn_s { Verdict::Warn } else { Verdict::Pass },
        value: Some(len),
        detail: if len > 0.0 { format!("longest silence {len:.1}s at {at:.1}s") } else { "no silent stretch".into() },
    })
}

/// Every overlay inside the safe area of the frame.
pub fn safe_area(overlays: &[OverlayBox], width: u32, height: u32) -> GateResult {
    let (l, t, r, b) = safe_margins(width, height);
    let outside: Vec<&OverlayBox> = overlays
        .iter()
        .filter(|o| o.rect.0 < l - 1e-9 || o.rect.1 < t - 1e-9 || o.rect.2 > 1.0 - r + 1e-9 || o.rect.3 > 1.0 - b + 1e-9)
        .collect();
    let area = format!("safe area {:.0}%–{:.0}% wide, {:.0}%–{:.0}% high", l * 100.0, (1.0 - r) * 100.0, t * 100.0, (1.0 - b) * 100.0);
    GateResult {
        gate: "safe_area".into(),
        verdict: if outside.is_empty() { Verdict::Pass } else { Verdict::Fail },
        value: Some(outside.len() as f64),
        detail: if outside.is_empty() {
            format!("{} overlays inside the {area}", overlays.len())
        } else {
            format!("outside the {area}: {}", outside.iter().map(|o| o.label.as_str()).collect::<Vec<_>>().join(", "))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_longer_than_its_scene_passes_when_compose_trims_it() {
        let s = GateSettings::default();
        assert_eq!(duration(8.0, 5.0, true, &s).verdict, Verdict::Pass);
        assert!(duration(8.0, 5.0, true, &s).detail.contains("compose trims it"));
        assert_eq!(duration(4.0, 5.0, true, &s).verdict, Verdict::Fail);
        assert_eq!(duration(8.0, 5.0, false, &s).verdict, Verdict::Fail);
    }

    #[test]
    fn runs_are_measured_in_seconds_and_exemptions_apply() {
        let s = GateSettings::default();
        let mut share = vec![0.0; 90];
        for v in share.iter_mut().skip(30).take(30) {
            *v = 1.0;
        }
        let g = black(&share, 30.0, &[], &s);
        assert_eq!(g.verdict, Verdict::Fail);
        assert!((g.value.unwrap() - 1.0).abs() < 1e-9);
        let exempt = black(&share, 30.0, &[(1.0, 2.0)], &s);
        assert_eq!(exempt.verdict, Verdict::Pass);
    }

    #[test]
    fn a_vertical_caption_in_the_button_area_fails() {
        let ok = OverlayBox { label: "scene 1".into(), rect: (0.1, 0.6, 0.9, 0.8) };
        let low = OverlayBox { label: "scene 2".into(), rect: (0.1, 0.8, 0.9, 0.95) };
        assert_eq!(safe_area(std::slice::from_ref(&ok), 1080, 1920).verdict, Verdict::Pass);
        let g = safe_area(&[ok, low], 1080, 1920);
        assert_eq!(g.verdict, Verdict::Fail);
        assert!(g.detail.contains("scene 2"));
    }

    #[test]
    fn loudness_bands() {
        let s = GateSettings::default();
        let at = |i: f64| loudness(Some(&Loudness { integrated: Some(i), momentary: vec![] }), &s).verdict;
        assert_eq!(at(-14.5), Verdict::Pass);
        assert_eq!(at(-16.0), Verdict::Warn);
        assert_eq!(at(-23.0), Verdict::Fail);
        assert_eq!(loudness(None, &s).verdict, Verdict::Warn);
    }
}
