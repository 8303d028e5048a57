//! The native scorer: one streaming pass over a video's frames computes every requested
//! VBench dimension and the picture QC gates; a second pass over the audio measures
//! loudness. Memory holds three full frames and a few reduced ones, whatever the length.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use super::consistency::{background_features, subject_features, Consistency};
use super::dynamic;
use super::flow::{match_blocks, Matching};
use super::gates::{self, BLACK_PIXEL};
use super::imaging::{self, AestheticParts, ImagingParts};
use super::loudness::{LoudnessMeter, RATE};
use super::reduced::{reduction, sad_u8, Pyramid, Small};
use super::smoothness::{interpolation_mae, Geometry};
use super::{aggregate, QualityError};
use crate::config::GateSettings;
use crate::domain::{DimensionScore, GateResult, Method, Score};
use crate::media::{for_each_audio_chunk, Ffmpeg, FrameStream, OverlayBox, RgbFrame};

/// Bumped whenever a native dimension's numbers can change.
pub const NATIVE_VERSION: &str = "native-2";

/// What to check about one video besides its dimensions.
#[derive(Debug, Clone, Default)]
pub struct GateContext {
    /// Planned length (duration gate).
    pub expected_duration_s: Option<f64>,
    /// A longer video is fine (a clip: compose trims it to its scene; remote models make
    /// fixed lengths such as Veo's 4, 6 or 8 s).
    pub longer_ok: bool,
    /// Time ranges meant to be still or dark (title cards, fades): exempt from the
    /// black and frozen gates.
    pub exempt: Vec<(f64, f64)>,
    /// Text overlays (safe-area gate); `None` skips the gate.
    pub overlays: Option<Vec<OverlayBox>>,
    /// Measure loudness and silence (the finished advert).
    pub audio: bool,
}

/// Which dimensions to compute and whether to run the gates.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    pub dimensions: Vec<String>,
    pub gates: bool,
}

impl NativeOptions {
    pub fn all() -> NativeOptions {
        NativeOptions { dimensions: aggregate::DIMENSIONS.iter().map(|s| s.to_string()).collect(), gates: true }
    }
    fn wants(&self, d: &str) -> bool {
        self.dimensions.iter().any(|x| x == d)
    }
}

/// What the frame pass measured.
#[derive(Default)]
struct Pass {
    frames: u64,
    flicker: (f64, u64),
    smooth: (f64, u64),
    dynamic_scores: Vec<f32>,
    dynamic_frames: usize,
    dynamic_threshold: f32,
    subject: Consistency,
    background: Consistency,
    imaging: Vec<ImagingParts>,
    aesthetic: Vec<AestheticParts>,
    black_share: Vec<f64>,
    pair_mae: Vec<f64>,
}

fn frame_pass(ff: &Ffmpeg, video: &Path, opts: &NativeOptions) -> Result<(Pass, f64, (u32, u32), f64), QualityError> {
    let probe = ff.probe(video)?;
    let mut stream = FrameStream::open(ff, video, &probe)?;
    let (w, h) = (stream.width, stream.height);
    let g = Geometry { w, h };
    let k = reduction(w, h);
    let fps = if stream.fps > 0.0 { stream.fps } else { 30.0 };
    let interval = dynamic::interval(fps);
    let want_smooth = opts.wants("motion_smoothness");
    let want_dynamic = opts.wants("dynamic_degree");
    let want_subject = opts.wants("subject_consistency");
    let want_background = opts.wants("background_consistency");
    let want_imaging = opts.wants("imaging_quality");
    let want_aesthetic = opts.wants("aesthetic_quality");
    let need_small = opts.gates || want_smooth || want_dynamic || want_subject || want_background || want_imaging || want_aesthetic;
    let need_diff = opts.gates || opts.wants("temporal_flickering");

    let mut pass = Pass::default();
    // Frames i-2 and i-1, and the pyramids of the last even and last sampled frames.
    let (mut older, mut prev): (Option<RgbFrame>, Option<RgbFrame>) = (None, None);
    let mut even_pyramid: Option<Rc<Pyramid>> = None;
    let mut sampled_pyramid: Option<Rc<Pyramid>> = None;
    while let Some(next) = stream.next_frame() {
        let cur = next.map_err(QualityError::Decode)?;
        let i = cur.index as usize;
        if need_diff {
            if let Some(p) = &prev {
                let mae = sad_u8(&p.data, &cur.data) as f64 / cur.data.len() as f64;
                pass.flicker.0 += mae;
                pass.flicker.1 += 1;
                pass.pair_mae.push(mae);
            }
        }
        if need_small {
            let small = Small::from_frame(&cur.data, w, h, k);
            if opts.gates {
                let dark = small.luma.iter().filter(|l| **l < BLACK_PIXEL).count();
                pass.black_share.push(dark as f64 / small.luma.len().max(1) as f64);
            }
            if want_subject {
                pass.subject.push(subject_features(&small));
            }
            if want_background {
                pass.background.push(background_features(&small));
            }
            let sampled = i.is_multiple_of(interval);
            let even = i.is_multiple_of(2);
            let pyramid = ((want_smooth && even) || (want_dynamic && sampled)).then(|| Rc::new(Pyramid::new(&small.luma, small.w, small.h, 3)));
            if want_smooth && even {
                if let (Some(a), Some(b), Some(o), Some(m)) = (&even_pyramid, &pyramid, &older, &prev) {
                    let field = match_blocks(a, b, 16, 3, Matching::Bilateral);
                    pass.smooth.0 += interpolation_mae(&o.data, &m.data, &cur.data, g, Some((&field, k)));
                    pass.smooth.1 += 1;
                }
            }
            if sampled {
                if want_dynamic {
                    pass.dynamic_frames += 1;
                    pass.dynamic_threshold = dynamic::threshold(small.w.min(small.h));
                    if let (Some(a), Some(b)) = (&sampled_pyramid, &pyramid) {
                        pass.dynamic_scores.push(dynamic::top_magnitude(&match_blocks(a, b, 8, 4, Matching::Forward)));
                    }
                }
                if want_imaging {
                    pass.imaging.push(imaging::measure(&small, &cur.data, w, h));
                }
                if want_aesthetic {
                    pass.aesthetic.push(imaging::measure_aesthetic(&small));
                }
            }
            if let Some(p) = pyramid {
                if want_smooth && even {
                    even_pyramid = Some(p.clone());
                }
                if want_dynamic && sampled {
                    sampled_pyramid = Some(p);
                }
            }
        }
        pass.frames += 1;
        if let Some(o) = older.take() {
            stream.recycle(o);
        }
        older = prev.take();
        prev = Some(cur);
    }
    Ok((pass, fps, (w as u32, h as u32), probe.duration_s))
}

/// Score one video natively.
pub fn score_native(ff: &Ffmpeg, video: &Path, opts: &NativeOptions, ctx: &GateContext, settings: &GateSettings) -> Result<Score, QualityError> {
    let (pass, fps, (w, h), duration_s) = frame_pass(ff, video, opts)?;
    if pass.frames == 0 {
        return Err(QualityError::Decode(format!("{} has no frames", video.display())));
    }
    let mut dims = BTreeMap::new();
    let mut put = |name: &str, value: Option<f64>, method: Method, fraction: Option<f64>| {
        if let Some(value) = value.filter(|v| v.is_finite()) {
            if opts.wants(name) {
                dims.insert(name.to_string(), DimensionScore { value, method, fraction });
            }
        }
    };
    let mean = |(s, n): (f64, u64)| (n > 0).then(|| s / n as f64);
    put("temporal_flickering", mean(pass.flicker).map(|m| (255.0 - m) / 255.0), Method::Exact, None);
    put("motion_smoothness", mean(pass.smooth).map(|m| (255.0 - m) / 255.0), Method::Approximation, None);
    if pass.dynamic_frames > 0 {
        let (moving, fraction) = dynamic::verdict(&pass.dynamic_scores, pass.dynamic_frames, pass.dynamic_threshold);
        put("dynamic_degree", Some(if moving { 1.0 } else { 0.0 }), Method::Approximation, Some(fraction));
    }
    put("subject_consistency", pass.subject.value(), Method::Approximation, None);
    put("background_consistency", pass.background.value(), Method::Approximation, None);
    put("imaging_quality", (!pass.imaging.is_empty()).then(|| imaging::imaging_score(&pass.imaging)), Method::Heuristic, None);
    put("aesthetic_quality", (!pass.aesthetic.is_empty()).then(|| imaging::aesthetic_score(&pass.aesthetic)), Method::Heuristic, None);

    let mut gate_results: Vec<GateResult> = Vec::new();
    if opts.gates {
        gate_results.push(gates::black(&pass.black_share, fps, &ctx.exempt, settings));
        gate_results.push(gates::frozen(&pass.pair_mae, fps, &ctx.exempt, settings));
        if let Some(expected) = ctx.expected_duration_s {
            gate_results.push(gates::duration(duration_s, expected, ctx.longer_ok, settings));
        }
        if let Some(overlays) = &ctx.overlays {
            gate_results.push(gates::safe_area(overlays, w, h));
        }
        if ctx.audio {
            let loud = measure_loudness(ff, video)?;
            gate_results.push(gates::loudness(loud.as_ref(), settings));
            gate_results.extend(gates::silence(loud.as_ref(), settings));
        }
    }
    let quality = aggregate::quality(&dims).unwrap_or(0.0);
    Ok(Score::Scored { dimensions: dims, quality, gates: gate_results, scorer: "native".into(), version: NATIVE_VERSION.into() })
}

/// Integrated and momentary loudness of the first audio stream; `None` without audio.
pub fn measure_loudness(ff: &Ffmpeg, video: &Path) -> Result<Option<super::loudness::Loudness>, QualityError> {
    let probe = ff.probe(video)?;
    if !probe.has_audio {
        return Ok(None);
    }
    let mut meter = LoudnessMeter::new(probe.audio_channels.max(1) as usize);
    for_each_audio_chunk(ff, video, probe.audio_channels.max(1), RATE, |s| meter.push(s))?;
    Ok(Some(meter.finish()))
}
