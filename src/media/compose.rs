//! The final cut: cards, clips, on-screen text, music and voice in one ffmpeg filter
//! graph, written to a temporary file and renamed only after ffprobe confirms it.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::paint::{drawtext_filter, ffmpeg_color};
use super::{Ffmpeg, MediaError, Probe};
use crate::text::wrap_text;

/// One scene's clip in the final cut.
#[derive(Debug, Clone)]
pub struct ComposeClip {
    pub path: PathBuf,
    pub duration_s: f64,
    /// On-screen text overlaid on the clip (empty for none).
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct ComposeAudio {
    /// Looped under the whole advert, faded out at the end.
    pub music: Option<PathBuf>,
    /// Voiceover lines: (start in seconds on the final timeline, audio file).
    pub voiceover: Vec<(f64, PathBuf)>,
}

#[derive(Debug, Clone)]
pub struct ComposeSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub intro_s: f64,
    pub outro_s: f64,
    pub product_name: String,
    pub call_to_action: String,
    /// Two `#rrggbb` brand colours for the intro and outro cards.
    pub colors: [String; 2],
    pub logo: Option<PathBuf>,
    pub clips: Vec<ComposeClip>,
    pub audio: ComposeAudio,
    pub font: String,
    pub x264_preset: String,
    pub crf: u32,
}

impl ComposeSpec {
    /// Length of the advert: intro + every clip + outro.
    pub fn total_s(&self) -> f64 {
        self.intro_s + self.clips.iter().map(|c| c.duration_s).sum::<f64>() + self.outro_s
    }
}

/// Write `lines` to a fresh text file for drawtext.
fn text_file(work: &Path, name: &str, lines: &[String]) -> Result<PathBuf, MediaError> {
    let p = work.join(name);
    std::fs::write(&p, lines.join("\n"))?;
    Ok(p)
}

/// Where a block of text sits vertically.
#[derive(Debug, Clone, Copy)]
enum Anchor {
    Centre,
    /// Top edge at this fraction of the height.
    TopAt(f64),
    /// Bottom edge at this fraction of the height.
    BottomAt(f64),
}

impl Anchor {
    fn expr(self) -> String {
        match self {
            Anchor::Centre => "(h-text_h)/2".into(),
            Anchor::TopAt(f) => format!("h*{f:.2}"),
            Anchor::BottomAt(f) => format!("h*{f:.2}-text_h"),
        }
    }
}

/// One drawtext block: wrapped lines at a size and an anchor.
#[derive(Debug, Clone)]
struct TextLayer {
    label: String,
    lines: Vec<String>,
    size: u32,
    anchor: Anchor,
}

/// A text overlay's estimated box on screen, for the safe-area check.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlayBox {
    pub label: String,
    /// (x0, y0, x1, y1) as fractions of the frame.
    pub rect: (f64, f64, f64, f64),
}

/// The text of the advert, laid out once for both the filter graph and the safe-area
/// check: (intro title, each clip's caption, outro call to action and name).
struct Layout {
    intro: Vec<TextLayer>,
    clips: Vec<Option<TextLayer>>,
    outro: Vec<TextLayer>,
}

fn layout(spec: &ComposeSpec) -> Layout {
    let w = spec.width;
    let s = spec.width.min(spec.height);
    let chars_per_line = |size: u32, frac: f64| ((w as f64 * frac) / (size as f64 * 0.58)).max(8.0) as usize;
    let vertical = spec.height > spec.width;
    let intro = if spec.intro_s > 0.0 {
        let size = (s / 9).max(8);
        vec![TextLayer { label: "intro title".into(), lines: wrap_text(&spec.product_name, chars_per_line(size, 0.8), 2), size, anchor: Anchor::Centre }]
    } else {
        vec![]
    };
    // Captions sit above the platforms' button area on vertical video.
    let caption_bottom = if vertical { 0.78 } else { 0.80 };
    let clips = spec
        .clips
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let size = (s / 16).max(8);
            (!c.text.trim().is_empty()).then(|| TextLayer {
                label: format!("scene {} caption", k + 1),
                lines: wrap_text(c.text.trim(), chars_per_line(size, 0.8), 3),
                size,
                anchor: Anchor::BottomAt(caption_bottom),
            })
        })
        .collect();
    let outro = if spec.outro_s > 0.0 {
        let size = (s / 12).max(8);
        vec![
            TextLayer { label: "call to action".into(), lines: wrap_text(&spec.call_to_action, chars_per_line(size, 0.8), 3), size, anchor: Anchor::Centre },
            TextLayer {
                label: "outro name".into(),
                lines: wrap_text(&spec.product_name, chars_per_line(size / 2, 0.8), 1),
                size: (size / 2).max(8),
                anchor: Anchor::TopAt(0.72),
            },
        ]
    } else {
        vec![]
    };
    Layout { intro, clips, outro }
}

/// Estimated boxes of every overlay, from the layout and DejaVu Sans' metrics (average
/// advance 0.58 em, line height 1.17 em); drawtext centres each block horizontally.
pub fn overlay_boxes(spec: &ComposeSpec) -> Vec<OverlayBox> {
    let l = layout(spec);
    let (w, h) = (spec.width as f64, spec.height as f64);
    l.intro
        .iter()
        .chain(l.clips.iter().flatten())
        .chain(l.outro.iter())
        .map(|t| {
            let chars = t.lines.iter().map(|x| x.chars().count()).max().unwrap_or(0) as f64;
            let tw = (chars * t.size as f64 * 0.58 / w).min(1.0);
            let th = t.lines.len() as f64 * t.size as f64 * 1.17 / h;
            let (y0, y1) = match t.anchor {
                Anchor::Centre => (0.5 - th / 2.0, 0.5 + th / 2.0),
                Anchor::TopAt(f) => (f, f + th),
                Anchor::BottomAt(f) => (f - th, f),
            };
            OverlayBox { label: t.label.clone(), rect: (0.5 - tw / 2.0, y0, 0.5 + tw / 2.0, y1) }
        })
        .collect()
}

/// Build the filter graph and the input arguments for one ffmpeg run.
pub fn build_graph(spec: &ComposeSpec, work: &Path) -> Result<(Vec<OsString>, String), MediaError> {
    let (w, h, fps) = (spec.width, spec.height, spec.fps);
    let s = w.min(h);
    let text = layout(spec);
    let mut inputs: Vec<OsString> = Vec::new();
    let mut g = String::new();
    let mut segs = Vec::new();
    let fade = |d: f64| (d / 6.0).min(0.3);

    // Logo is input 0 when present (looped still image).
    let logo_idx = spec.logo.as_ref().map(|p| {
        inputs.extend(["-loop".into(), "1".into(), "-i".into(), p.as_os_str().to_owned()]);
        0usize
    });
    let mut next_input = inputs.iter().filter(|a| *a == "-i").count();

    let card = |g: &mut String, label: &str, d: f64, layers: &[TextLayer], logo: Option<usize>| -> Result<(), MediaError> {
        let _ = write!(
            g,
            "gradients=s={w}x{h}:c0={}:c1={}:x0=0:y0=0:x1={w}:y1={h}:speed=0.01:rate={fps}:duration={d},format=yuv420p",
            ffmpeg_color(&spec.colors[0], "0x202020"),
            ffmpeg_color(&spec.colors[1], "0x202020")
        );
        for (n, t) in layers.iter().enumerate() {
            let tf = text_file(work, &format!("{label}-{n}.txt"), &t.lines)?;
            let _ = write!(g, ",{}", drawtext_filter(&tf, &spec.font, t.size, "white", "(w-text_w)/2", &t.anchor.expr(), false));
        }
        let f = fade(d);
        let _ = write!(g, ",fade=t=in:st=0:d={f:.3},fade=t=out:st={:.3}:d={f:.3}", d - f);
        match logo {
            Some(i) => {
                let lh = (s / 6).max(8);
                let _ = writeln!(
                    g,
                    "[{label}bg];[{i}:v]scale=-2:{lh},format=rgba,trim=duration={d}[{label}logo];[{label}bg][{label}logo]overlay=(W-w)/2:H*0.12:format=auto:shortest=1,setsar=1[{label}];"
                );
            }
            None => {
                let _ = writeln!(g, ",setsar=1[{label}];");
            }
        }
        Ok(())
    };

    if spec.intro_s > 0.0 {
        card(&mut g, "intro", spec.intro_s, &text.intro, logo_idx)?;
        segs.push("[intro]".to_string());
    }

    for (k, clip) in spec.clips.iter().enumerate() {
        let i = next_input;
        next_input += 1;
        inputs.extend(["-i".into(), clip.path.as_os_str().to_owned()]);
        let d = clip.duration_s;
        let _ = write!(
            g,
            "[{i}:v]scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h},setsar=1,fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={d},trim=duration={d},setpts=PTS-STARTPTS"
        );
        if let Some(t) = &text.clips[k] {
            let tf = text_file(work, &format!("scene-{k}.txt"), &t.lines)?;
            let _ = write!(g, ",{}", drawtext_filter(&tf, &spec.font, t.size, "white", "(w-text_w)/2", &t.anchor.expr(), true));
        }
        let f = fade(d).min(0.2);
        let _ = writeln!(g, ",fade=t=in:st=0:d={f:.3},fade=t=out:st={:.3}:d={f:.3}[c{k}];", d - f);
        segs.push(format!("[c{k}]"));
    }

    if spec.outro_s > 0.0 {
        card(&mut g, "outro", spec.outro_s, &text.outro, logo_idx)?;
        segs.push("[outro]".to_string());
    }

    let _ = writeln!(g, "{}concat=n={}:v=1:a=0,format=yuv420p[vout];", segs.join(""), segs.len());

    // Audio: music looped and faded, voiceover lines placed on the timeline, else silence.
    let total = spec.total_s();
    let mut mix = Vec::new();
    if let Some(m) = &spec.audio.music {
        let i = next_input;
        next_input += 1;
        inputs.extend(["-stream_loop".into(), "-1".into(), "-i".into(), m.as_os_str().to_owned()]);
        let out = (total - 1.5).max(0.0);
        let vol = if spec.audio.voiceover.is_empty() { 0.8 } else { 0.35 };
        let _ = writeln!(
            g,
            "[{i}:a]aresample=48000,aformat=channel_layouts=stereo,atrim=0:{total},asetpts=PTS-STARTPTS,volume={vol},afade=t=in:d=0.5,afade=t=out:st={out:.3}:d=1.5[music];"
        );
        mix.push("[music]".to_string());
    }
    for (k, (start, path)) in spec.audio.voiceover.iter().enumerate() {
        let i = next_input;
        next_input += 1;
        inputs.extend(["-i".into(), path.as_os_str().to_owned()]);
        let ms = (start * 1000.0).round() as u64;
        let _ = writeln!(g, "[{i}:a]aresample=48000,aformat=channel_layouts=stereo,adelay={ms}:all=1[vo{k}];");
        mix.push(format!("[vo{k}]"));
    }
    let _ = writeln!(g, "anullsrc=r=48000:cl=stereo,atrim=0:{total}[silence];");
    mix.push("[silence]".into());
    let _ = write!(
        g,
        "{}amix=inputs={}:duration=longest:normalize=0,atrim=0:{total},asetpts=PTS-STARTPTS[aout]",
        mix.join(""),
        mix.len()
    );
    Ok((inputs, g))
}

/// Compose the advert into `out` with one ffmpeg run. Writes to a temp file beside it and
/// renames only after ffprobe confirms the expected duration and size.
pub fn compose(
    ff: &Ffmpeg,
    spec: &ComposeSpec,
    work: &Path,
    out: &Path,
    cancel: Option<&AtomicBool>,
    progress: impl FnMut(f32),
) -> Result<Probe, MediaError> {
    std::fs::create_dir_all(work)?;
    let (mut args, graph) = build_graph(spec, work)?;
    let script = work.join("compose.graph");
    std::fs::write(&script, &graph)?;
    let tmp = out.with_file_name(format!(
        ".{}.part.mp4",
        out.file_stem().and_then(|s| s.to_str()).unwrap_or("final")
    ));
    let total = spec.total_s();
    args.extend(
        [
            "-filter_complex_script", &script.display().to_string(),
            "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", &spec.x264_preset, "-crf", &spec.crf.to_string(),
            "-pix_fmt", "yuv420p", "-r", &spec.fps.to_string(),
            "-c:a", "aac", "-b:a", "160k",
            "-movflags", "+faststart",
            "-t", &format!("{total:.3}"),
        ]
        .iter()
        .map(OsString::from),
    );
    args.push(tmp.as_os_str().to_owned());
    let frames = (total * spec.fps as f64).round() as u64;
    let result = ff.run("compose", &args, Some(frames), cancel, progress);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let probe = ff.probe(&tmp)?;
    let verify = |m: String| MediaError::Verify { path: out.display().to_string(), message: m };
    if (probe.duration_s - total).abs() > 0.1 {
        let _ = std::fs::remove_file(&tmp);
        return Err(verify(format!("duration {:.3}s, expected {total:.3}s", probe.duration_s)));
    }
    if probe.width != spec.width || probe.height != spec.height {
        let _ = std::fs::remove_file(&tmp);
        return Err(verify(format!("size {}x{}, expected {}x{}", probe.width, probe.height, spec.width, spec.height)));
    }
    std::fs::rename(&tmp, out)?;
    Ok(probe)
}
