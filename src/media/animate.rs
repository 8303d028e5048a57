//! Stills into clips: sub-pixel camera moves (bilinear sampling in Rust) piped to x264
//! as 4:2:0 frames.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::design::Design;
use super::{Ffmpeg, MediaError};
use crate::domain::CameraMove;

/// How to turn a still into a clip.
#[derive(Debug, Clone, PartialEq)]
pub struct AnimateSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub duration_s: f64,
    pub camera: CameraMove,
    /// 0..1.
    pub intensity: f32,
    pub x264_preset: String,
    pub crf: u32,
}

impl AnimateSpec {
    pub fn frames(&self) -> u64 {
        (self.duration_s * self.fps as f64).round().max(1.0) as u64
    }
}

/// The visible part of the source, in normalised source coordinates (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// The share of the camera path that is linear (the rest is eased): the camera's slowest
/// speed, as a fraction of its average.
const MIN_SPEED: f64 = 0.65;

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Where the camera looks at time `t` (0..1): a continuous, eased path, so motion is
/// smooth at any frame rate. The window always stays inside the source.
pub fn camera_window(camera: CameraMove, intensity: f32, t: f64) -> Window {
    let amp = 0.12 + 0.20 * intensity.clamp(0.0, 1.0) as f64;
    // Eased, but never still: a linear share keeps the camera moving at both ends, so no
    // stretch of a clip reads as a frozen frame.
    let e = (1.0 - MIN_SPEED) * smoothstep(t) + MIN_SPEED * t.clamp(0.0, 1.0);
    let centred = |scale: f64, cx: f64, cy: f64| {
        let w = 1.0 / scale;
        let h = 1.0 / scale;
        Window { x: (cx - w / 2.0).clamp(0.0, 1.0 - w), y: (cy - h / 2.0).clamp(0.0, 1.0 - h), w, h }
    };
    match camera {
        // "Static" is a locked-off shot that still breathes: a slow 4 % push.
        CameraMove::Static => centred(1.0 + 0.04 * e, 0.5, 0.5),
        CameraMove::ZoomIn => centred(1.0 + amp * e, 0.5, 0.5),
        CameraMove::ZoomOut => centred(1.0 + amp * (1.0 - e), 0.5, 0.5),
        CameraMove::PanLeft | CameraMove::PanRight => {
            let scale = 1.0 + amp;
            let w = 1.0 / scale;
            let travel = 1.0 - w;
            let x = if camera == CameraMove::PanRight { travel * e } else { travel * (1.0 - e) };
            Window { x, y: (1.0 - w) / 2.0, w, h: w }
        }
        CameraMove::Dolly => {
            let scale = 1.0 + 1.2 * amp * e;
            centred(scale, 0.5, 0.5 - 0.08 * amp * e)
        }
    }
}

/// Crop the largest region of the output's aspect ratio out of the centre of the image,
/// as an (x, y, w, h) rectangle in pixels.
fn cover_region(iw: u32, ih: u32, ow: u32, oh: u32) -> (f64, f64, f64, f64) {
    let (iw, ih, ow, oh) = (iw as f64, ih as f64, ow as f64, oh as f64);
    if iw / ih > ow / oh {
        let w = ih * ow / oh;
        ((iw - w) / 2.0, 0.0, w, ih)
    } else {
        let h = iw * oh / ow;
        (0.0, (ih - h) / 2.0, iw, h)
    }
}

/// One tap of the separable bilinear sampler: source index and 8-bit weight of the next pixel.
#[derive(Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    w1: u32,
}

/// Reusable tap tables and the row buffer for drawing frames.
#[derive(Default)]
pub struct Scratch {
    xt: Vec<Tap>,
    yt: Vec<Tap>,
    /// One output row's source span blended vertically (×256).
    column: Vec<u16>,
}

fn taps(out: u32, start: f64, step: f64, limit: u32, taps: &mut Vec<Tap>) {
    taps.clear();
    let max = (limit - 1) as f64;
    for o in 0..out {
        let s = (start + (o as f64 + 0.5) * step - 0.5).clamp(0.0, max);
        let i0 = s.floor() as usize;
        let i1 = (i0 + 1).min(limit as usize - 1);
        taps.push(Tap { i0, i1, w1: ((s - i0 as f64) * 256.0).round() as u32 });
    }
}

/// Draw the part `win` (normalised, of the largest centred region of the output's aspect)
/// of `src` into `out` (`ow` x `oh` RGB) by bilinear sampling, sub-pixel accurate.
///
/// Separably: each output row first blends its two source rows over the span it reads
/// (contiguous, so it vectorises), then each pixel blends two of those. The integer sums
/// are the same as blending four pixels at once.
pub(crate) fn sample_window(src: &image::RgbImage, win: Window, ow: u32, oh: u32, out: &mut [u8], scratch: &mut Scratch) {
    let (rx, ry, rw, rh) = cover_region(src.width(), src.height(), ow, oh);
    let (x0, y0) = (rx + win.x * rw, ry + win.y * rh);
    let (sx, sy) = (win.w * rw / ow as f64, win.h * rh / oh as f64);
    let Scratch { xt, yt, column } = scratch;
    taps(ow, x0, sx, src.width(), xt);
    taps(oh, y0, sy, src.height(), yt);
    // The source columns the row reads (taps move left to right).
    let (first, last) = (xt.first().map_or(0, |t| t.i0), xt.last().map_or(0, |t| t.i1));
    let span = (first * 3, (last + 1) * 3);
    // One pixel of padding: a tap's second pixel is always the next one (at the right
    // edge the taps repeat the last pixel with weight 0, so the padding weighs nothing).
    column.resize(span.1 - span.0 + 3, 0);
    let stride = src.width() as usize * 3;
    let raw = src.as_raw();
    for (row, ty) in out.chunks_exact_mut(ow as usize * 3).zip(yt.iter()) {
        let r0 = &raw[ty.i0 * stride + span.0..ty.i0 * stride + span.1];
        let r1 = &raw[ty.i1 * stride + span.0..ty.i1 * stride + span.1];
        let (wy0, wy1) = (256 - ty.w1 as u16, ty.w1 as u16);
        for ((v, &a), &b) in column.iter_mut().zip(r0).zip(r1) {
            *v = a as u16 * wy0 + b as u16 * wy1;
        }
        for (px, tx) in row.chunks_exact_mut(3).zip(xt.iter()) {
            debug_assert!(tx.i1 == tx.i0 + 1 || tx.w1 == 0);
            let a = tx.i0 * 3 - span.0;
            let pair: &[u16; 6] = column[a..a + 6].try_into().expect("six samples");
            let (wx0, wx1) = (256 - tx.w1, tx.w1);
            for c in 0..3 {
                px[c] = ((pair[c] as u32 * wx0 + pair[c + 3] as u32 * wx1 + (1 << 15)) >> 16) as u8;
            }
        }
    }
}

/// Animate a still into an H.264 clip at `out`. A still the offline designer made is
/// animated layer by layer (parallax, entrances, running type: `design`); any other is
/// one plane under the camera move.
pub fn animate_still(
    ff: &Ffmpeg,
    image_path: &Path,
    out: &Path,
    spec: &AnimateSpec,
    cancel: Option<&AtomicBool>,
    progress: impl FnMut(f32),
) -> Result<(), MediaError> {
    let bad = |message: String| MediaError::BadImage { path: image_path.display().to_string(), message };
    if let Some(design) = Design::read(image_path) {
        let layers = design.layers(spec.duration_s)?;
        return encode_frames(ff, spec, out, cancel, progress, |t, secs, buf, scratch| {
            layers.frame(camera_window(spec.camera, spec.intensity, t), secs, spec.width, spec.height, buf, scratch)
        });
    }
    let src = image::open(image_path).map_err(|e| bad(e.to_string()))?.to_rgb8();
    if src.width() < 2 || src.height() < 2 {
        return Err(bad("image is too small".into()));
    }
    encode_frames(ff, spec, out, cancel, progress, |t, _, buf, scratch| {
        sample_window(&src, camera_window(spec.camera, spec.intensity, t), spec.width, spec.height, buf, scratch)
    })
}

/// Pipe the frames `render(t in 0..1, seconds, buffer, scratch)` draws to x264.
fn encode_frames(
    ff: &Ffmpeg,
    spec: &AnimateSpec,
    out: &Path,
    cancel: Option<&AtomicBool>,
    mut progress: impl FnMut(f32),
    mut render: impl FnMut(f64, f64, &mut [u8], &mut Scratch),
) -> Result<(), MediaError> {
    let frames = spec.frames();
    let args: Vec<OsString> = [
        "-f", "rawvideo", "-pix_fmt", "yuv420p",
        "-s", &format!("{}x{}", spec.width, spec.height),
        "-r", &spec.fps.to_string(),
        "-i", "-",
        "-c:v", "libx264", "-preset", &spec.x264_preset, "-crf", &spec.crf.to_string(),
        "-pix_fmt", "yuv420p", "-movflags", "+faststart",
    ]
    .iter()
    .map(OsString::from)
    .chain([out.as_os_str().to_owned()])
    .collect();
    let mut cmd = ff.command();
    cmd.args(&args);
    let mut child = cmd.spawn()?;
    let mut stdin = child.take_stdin().ok_or_else(|| MediaError::Failed { what: "animate".into(), message: "no stdin".into() })?;
    let iter = child.iter().map_err(|e| MediaError::Failed { what: "animate".into(), message: e.to_string() })?;
    let errors = std::thread::spawn(move || {
        iter.filter_map(|ev| match ev {
            ffmpeg_sidecar::event::FfmpegEvent::Log(
                ffmpeg_sidecar::event::LogLevel::Error | ffmpeg_sidecar::event::LogLevel::Fatal,
                m,
            ) => Some(m),
            _ => None,
        })
        .collect::<Vec<_>>()
    });
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut buf = vec![0u8; w * h * 3];
    // Frames go to x264 in its own format, converted here (see `yuv.rs`).
    let mut yuv = vec![0u8; super::yuv::yuv420_len(w, h)];
    let mut scratch = Scratch::default();
    let mut write_err = None;
    for f in 0..frames {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(MediaError::Cancelled);
        }
        let t = if frames > 1 { f as f64 / (frames - 1) as f64 } else { 0.0 };
        render(t, f as f64 / spec.fps.max(1) as f64, &mut buf, &mut scratch);
        super::yuv::rgb_to_yuv420(&buf, w, h, &mut yuv);
        if let Err(e) = stdin.write_all(&yuv) {
            write_err = Some(e);
            break;
        }
        progress((f + 1) as f32 / frames as f32);
    }
    drop(stdin);
    let status = child.wait()?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() || write_err.is_some() {
        return Err(MediaError::Failed {
            what: "animate".into(),
            message: errors.last().cloned().or(write_err.map(|e| e.to_string())).unwrap_or_else(|| status.to_string()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stay_inside_and_move_monotonically() {
        for cam in CameraMove::ALL {
            let mut prev: Option<Window> = None;
            for i in 0..=30 {
                let w = camera_window(cam, 0.8, i as f64 / 30.0);
                assert!(w.x >= -1e-9 && w.y >= -1e-9 && w.x + w.w <= 1.0 + 1e-9 && w.y + w.h <= 1.0 + 1e-9, "{cam:?} {w:?}");
                if let Some(p) = prev {
                    // No jumps: consecutive windows differ by a small, sub-pixel-scale amount.
                    assert!((w.x - p.x).abs() < 0.02 && (w.w - p.w).abs() < 0.02, "{cam:?} jumps");
                }
                prev = Some(w);
            }
        }
        let a = camera_window(CameraMove::PanRight, 0.5, 0.0);
        let b = camera_window(CameraMove::PanRight, 0.5, 1.0);
        assert!(b.x > a.x);
        let a = camera_window(CameraMove::ZoomIn, 0.5, 0.0);
        let b = camera_window(CameraMove::ZoomIn, 0.5, 1.0);
        assert!(b.w < a.w);
        // Never still, even at the ends of the ease and at the lowest intensity.
        for cam in CameraMove::ALL {
            for t in [0.0, 0.5, 29.0 / 30.0] {
                let (p, q) = (camera_window(cam, 0.0, t), camera_window(cam, 0.0, t + 1.0 / 30.0));
                let moved = (p.x - q.x).abs() + (p.y - q.y).abs() + (p.w - q.w).abs();
                assert!(moved > 1e-4, "{cam:?} stands still at t={t}: {moved}");
            }
        }
    }

    #[test]
    fn the_separable_sampler_equals_blending_four_pixels() {
        // A busy source and windows that zoom, pan and touch the edges.
        let src = image::RgbImage::from_fn(97, 61, |x, y| image::Rgb([(x * 37 + y * 11) as u8, (x * y) as u8, (255 + y * 3 - x * 2) as u8]));
        let (ow, oh) = (40u32, 24u32);
        for win in [camera_window(CameraMove::ZoomIn, 1.0, 0.37), camera_window(CameraMove::PanLeft, 0.6, 0.9), Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 }] {
            let mut got = vec![0u8; (ow * oh * 3) as usize];
            sample_window(&src, win, ow, oh, &mut got, &mut Scratch::default());
            // The direct form: four taps per pixel, each weighted by both of its weights.
            let (mut xt, mut yt) = (Vec::new(), Vec::new());
            let (rx, ry, rw, rh) = cover_region(src.width(), src.height(), ow, oh);
            taps(ow, rx + win.x * rw, win.w * rw / ow as f64, src.width(), &mut xt);
            taps(oh, ry + win.y * rh, win.h * rh / oh as f64, src.height(), &mut yt);
            for (y, ty) in yt.iter().enumerate() {
                for (x, tx) in xt.iter().enumerate() {
                    for c in 0..3 {
                        let p = |xi: usize, yi: usize| src.get_pixel(xi as u32, yi as u32)[c] as u32;
                        let top = p(tx.i0, ty.i0) * (256 - tx.w1) + p(tx.i1, ty.i0) * tx.w1;
                        let bot = p(tx.i0, ty.i1) * (256 - tx.w1) + p(tx.i1, ty.i1) * tx.w1;
                        let want = ((top * (256 - ty.w1) + bot * ty.w1 + (1 << 15)) >> 16) as u8;
                        assert_eq!(got[(y * ow as usize + x) * 3 + c], want, "{win:?} at ({x}, {y})");
                    }
                }
            }
        }
    }

    #[test]
    fn sampler_reproduces_a_uniform_image() {
        let src = image::RgbImage::from_pixel(64, 36, image::Rgb([10, 200, 90]));
        let mut out = vec![0u8; 32 * 18 * 3];
        sample_window(&src, camera_window(CameraMove::ZoomIn, 1.0, 0.37), 32, 18, &mut out, &mut Scratch::default());
        assert!(out.chunks(3).all(|p| p == [10, 200, 90]));
    }
}
