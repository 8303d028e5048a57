//! The final cut: the picture (cards, clips, transitions, on-screen text, captions) in
//! one ffmpeg filter graph, and beside it the soundtrack (music, ambience and voice,
//! ducked, mastered to the loudness target and peak-checked after encoding); muxed into
//! a temporary file that is renamed only after ffprobe confirms it.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::drawtext::{drawtext_filter, ffmpeg_color, Entrance, TextStyle};
use super::{display_font, feed_graded, measure_behind, parse_cube, plate_alpha, plate_for, Cube, YuvGrade};
use super::captions::{ass_script, caption_cues, caption_layout};
use super::timeline::{SegmentKind, Timeline};
use super::{escape_filter_value, Ffmpeg, MediaError, Probe};
use crate::domain::{CaptionMode, CaptionStyle, Cue, Transition, TransitionKind};
use crate::text::wrap_balanced;

/// One scene's clip in the final cut.
#[derive(Debug, Clone, Serialize)]
pub struct ComposeClip {
    pub path: PathBuf,
    pub duration_s: f64,
    /// On-screen text overlaid on the clip (empty for none).
    pub text: String,
    /// How the clip comes in (from the intro card or the clip before).
    pub transition: Transition,
    /// The scene's voiceover line, placed by the timeline.
    pub voice: Option<VoiceLine>,
    /// The clip's own sound goes on the ambience bus (it has some, and the bus is on).
    #[serde(default)]
    pub ambience: bool,
}

/// A recorded voiceover line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoiceLine {
    pub path: PathBuf,
    /// Its measured length at tempo 1.
    pub duration_s: f64,
    /// Played this much faster to fit its scene (1.0: as recorded; at most `MAX_TEMPO`).
    pub tempo: f64,
    /// Its words and when they are heard (seconds from the line's start, at tempo 1).
    pub cues: Vec<Cue>,
}

impl VoiceLine {
    /// How long it plays on the advert.
    pub fn played_s(&self) -> f64 {
        self.duration_s / self.tempo.max(0.01)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EndCard {
    pub url: Option<String>,
    pub price: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ComposeAudio {
    /// Looped under the whole advert, faded out at the end.
    pub music: Option<PathBuf>,
}

/// Everything compose reads. Its serialisation is the final cut's cache key (with blob
/// paths standing for their content), so any change to it re-renders the final.
#[derive(Debug, Clone, Serialize)]
pub struct ComposeSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub intro_s: f64,
    pub outro_s: f64,
    pub product_name: String,
    pub call_to_action: String,
    /// The end card's web address and price badge, when given.
    pub end_card: EndCard,
    /// The cards' display face (a fontconfig pattern; `font`, when set, wins).
    pub typeface: String,
    /// Two `#rrggbb` brand colours for the intro and outro cards.
    pub colors: [String; 2],
    pub logo: Option<PathBuf>,
    pub clips: Vec<ComposeClip>,
    /// How the end card comes in.
    pub outro_transition: Transition,
    pub audio: ComposeAudio,
    /// A 3D LUT (`.cube`) graded onto the clips only, never the cards or the text.
    pub look: Option<PathBuf>,
    /// Integrated loudness of the final mix (EBU R128, LUFS) and its true-peak ceiling (dBTP).
    pub loudness_lufs: f64,
    pub true_peak_db: f64,
    pub font: String,
    pub x264_preset: String,
    pub crf: u32,
    /// The voiceover's captions: burned in, sidecar files only, or none; and their style.
    pub captions: CaptionMode,
    pub caption_style: CaptionStyle,
    /// The music's beats, when they are known (the composed bed's tempo) or detected (a
    /// brought or remote track): cuts between clips move by up to three frames to land on
    /// one (`timeline::on_the_beat`).
    pub beat: Option<super::BeatGrid>,
    /// The ambience bus (the clips' own sound) this many dB under its recorded level.
    pub ambience_db: f64,
}

impl ComposeSpec {
    /// Whether captions are drawn on the picture (there is a voice line to caption and
    /// they are asked for).
    pub fn burns_captions(&self) -> bool {
        self.captions == CaptionMode::Burn && self.clips.iter().any(|c| c.voice.as_ref().is_some_and(|v| !v.cues.is_empty()))
    }

    /// Length of the advert: intro + every clip + outro (transitions overlap, they do
    /// not add).
    pub fn total_s(&self) -> f64 {
        self.timeline().total_s
    }

    pub fn timeline(&self) -> Timeline {
        Timeline::of(self)
    }
}

/// xfade's name for a transition (`None` for a cut, which is a plain concatenation).
fn xfade_name(kind: TransitionKind) -> Option<&'static str> {
    Some(match kind {
        TransitionKind::Cut => return None,
        TransitionKind::Fade => "fadeblack",
        TransitionKind::Dissolve => "fade",
        TransitionKind::Flash => "fadewhite",
        TransitionKind::WipeLeft => "wipeleft",
        TransitionKind::WipeRight => "wiperight",
        TransitionKind::WipeUp => "wipeup",
        TransitionKind::SlideLeft => "slideleft",
        TransitionKind::SlideRight => "slideright",
        TransitionKind::SlideUp => "slideup",
        TransitionKind::Zoom => "zoomin",
        TransitionKind::Circle => "circleopen",
    })
}

/// Frames a segment's stream of `seconds` has at `fps` (trim keeps those before its end).
fn frames(seconds: f64, fps: u32) -> u64 {
    (seconds * f64::from(fps) - 1e-6).ceil().max(0.0) as u64
}

/// Join the segments' streams `[s0]…[sN]` into one, returning its label. Every frame
/// passes one concat: each segment is split into the head that blends with the one
/// before, its body, and the tail that blends with the one after, and only the blended
/// frames go through `xfade` (a chain of nested `xfade`s would pass every earlier frame
/// through every later transition).
fn join_segments(g: &mut String, tl: &Timeline, fps: u32) -> String {
    let n = tl.segments.len();
    let total: Vec<u64> = tl.segments.iter().map(|s| frames(s.render_s, fps)).collect();
    // Frames of each boundary's transition (0 for a cut), as blended on both sides.
    let mut blend = vec![0u64; n];
    for k in 1..n {
        if xfade_name(tl.segments[k].transition_in.kind).is_some() {
            let want = (tl.segments[k].transition_in.duration_s * f64::from(fps)).round() as u64;
            blend[k] = want.min(total[k - 1].saturating_sub(blend[k - 1] + 1)).min(total[k] / 2);
        }
    }
    let mut parts = Vec::new();
    for k in 0..n {
        let (head, tail) = (blend[k], if k + 1 < n { blend[k + 1] } else { 0 });
        if head == 0 && tail == 0 {
            parts.push(format!("s{k}"));
            continue;
        }
        let outs = 1 + usize::from(head > 0) + usize::from(tail > 0);
        let _ = write!(g, "[s{k}]split={outs}");
        for part in ["h", "b", "t"].iter().filter(|p| (**p != "h" || head > 0) && (**p != "t" || tail > 0)) {
            let _ = write!(g, "[{part}{k}in]");
        }
        g.push_str(";\n");
        let body_end = total[k] - tail;
        if head > 0 {
            let _ = writeln!(g, "[h{k}in]trim=start_frame=0:end_frame={head},setpts=PTS-STARTPTS[h{k}];");
        }
        let _ = writeln!(g, "[b{k}in]trim=start_frame={head}:end_frame={body_end},setpts=PTS-STARTPTS[b{k}];");
        if tail > 0 {
            let _ = writeln!(g, "[t{k}in]trim=start_frame={body_end},setpts=PTS-STARTPTS[t{k}];");
        }
        if head > 0 {
            let name = xfade_name(tl.segments[k].transition_in.kind).unwrap_or("fade");
            let _ = writeln!(g, "[t{}][h{k}]xfade=transition={name}:duration={:.4}:offset=0[x{k}];", k - 1, head as f64 / f64::from(fps));
            parts.push(format!("x{k}"));
        }
        parts.push(format!("b{k}"));
    }
    let inputs: String = parts.iter().map(|p| format!("[{p}]")).collect();
    let _ = writeln!(g, "{inputs}concat=n={}:v=1:a=0[joined];", parts.len());
    "joined".to_string()
}

/// The font family libass asks fontconfig for: the configured font file's name (its
/// folder is given to libass as well), else DejaVu Sans, the metrics the layout assumes.
fn font_family(font: &str) -> String {
    Path::new(font)
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.split(['-', '_']).next().unwrap_or(s).to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "DejaVu Sans".into())
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

/// Line pitch and baseline as fractions of the font size (DejaVu Sans: ascent 0.93 em,
/// descent 0.24 em; the safe-area estimate uses the same pitch).
const LINE_PITCH: f64 = 1.17;
const BASELINE: f64 = 0.93;

impl TextLayer {
    /// Top of the block on a frame `h` pixels high.
    fn top(&self, h: f64) -> f64 {
        let block = self.lines.len() as f64 * self.size as f64 * LINE_PITCH;
        match self.anchor {
            Anchor::Centre => (h - block) / 2.0,
            Anchor::TopAt(f) => h * f,
            Anchor::BottomAt(f) => h * f - block,
        }
    }

    /// Where the block sits, as fractions of the frame (estimated from DejaVu Sans'
    /// metrics: average advance 0.58 em, line height 1.17 em; centred horizontally).
    fn rect(&self, w: f64, h: f64) -> (f64, f64, f64, f64) {
        let chars = self.lines.iter().map(|x| x.chars().count()).max().unwrap_or(0) as f64;
        let tw = (chars * self.size as f64 * 0.58 / w).min(1.0);
        let th = self.lines.len() as f64 * self.size as f64 * LINE_PITCH / h;
        let (y0, y1) = match self.anchor {
            Anchor::Centre => (0.5 - th / 2.0, 0.5 + th / 2.0),
            Anchor::TopAt(f) => (f, f + th),
            Anchor::BottomAt(f) => (f - th, f),
        };
        (0.5 - tw / 2.0, y0, 0.5 + tw / 2.0, y1)
    }

    /// One drawtext per line, each centred on its own and set on a common baseline grid
    /// (drawtext alone would left-align the lines of a block). Lines come in one after
    /// the other from `enter_at` (stream time), rising into place.
    fn draw(&self, work: &Path, name: &str, font: &str, h: u32, how: Kinetics) -> Result<String, MediaError> {
        let Kinetics { plate, enter_at, glide_px_s } = how;
        let top = self.top(h as f64);
        let pitch = self.size as f64 * LINE_PITCH;
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            let tf = text_file(work, &format!("{name}-{i}.txt"), std::slice::from_ref(line))?;
            let baseline = top + i as f64 * pitch + self.size as f64 * BASELINE;
            // A badge is dark type on a light plate; everything else white type.
            let (color, plate, plate_color, plate_pad) = if self.badge { ("0x141414", Some(0.95), "white", 35) } else { ("white", plate, "black", 10) };
            let style = TextStyle {
                font,
                size: self.size,
                color,
                plate,
                plate_color,
                plate_pad,
                enter: Some(Entrance { at_s: enter_at + LINE_STAGGER_S * i as f64, rise_px: self.size as f64 * 0.6, glide_px_s }),
            };
            let _ = write!(out, ",{}", drawtext_filter(&tf, &style, "(w-text_w)/2", &format!("{baseline:.1}-ascent")));
        }
        Ok(out)
    }
}

/// How a block is drawn over its picture: the plate behind it, when it comes in (stream
/// time) and how fast it keeps rising.
#[derive(Debug, Clone, Copy)]
struct Kinetics {
    plate: Option<f64>,
    enter_at: f64,
    glide_px_s: f64,
}

/// How fast card text keeps rising once in: a share of the frame's height per second.
const CARD_GLIDE: f64 = 0.02;

/// Between the entrances of two lines of a block.
const LINE_STAGGER_S: f64 = 0.12;
/// After the middle of its incoming transition, a scene's text waits this long.
const TEXT_DELAY_S: f64 = 0.15;

/// One drawtext block: wrapped lines at a size and an anchor.
#[derive(Debug, Clone)]
struct TextLayer {
    label: String,
    lines: Vec<String>,
    size: u32,
    anchor: Anchor,
    /// Drawn as a badge (the price).
    badge: bool,
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
        let size = (s / 7).max(8);
        // A tall frame has room for a third line (a three-word name, one word a line).
        let lines = wrap_balanced(&spec.product_name, chars_per_line(size, 0.8), if vertical { 3 } else { 2 });
        vec![TextLayer { label: "intro title".into(), lines, size, anchor: Anchor::Centre, badge: false }]
    } else {
        vec![]
    };
    // Scene text sits above the platforms' button area on vertical video, or at the top
    // when burned captions take the bottom.
    let anchor = if spec.burns_captions() {
        Anchor::TopAt(if vertical { 0.12 } else { 0.08 })
    } else {
        Anchor::BottomAt(if vertical { 0.78 } else { 0.80 })
    };
    let clips = spec
        .clips
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let size = (s / 13).max(8);
            (!c.text.trim().is_empty()).then(|| TextLayer {
                label: format!("scene {} caption", k + 1),
                lines: wrap_balanced(c.text.trim(), chars_per_line(size, 0.8), 3),
                size,
                anchor,
                badge: false,
            })
        })
        .collect();
    // The end card: the price badge above the call to action, the name and the web
    // address below it.
    let outro = if spec.outro_s > 0.0 {
        let size = (s / 12).max(8);
        let small = (size / 2).max(8);
        let line = |label: &str, text: &str, size: u32, max: usize, anchor: Anchor, badge: bool| TextLayer {
            label: label.into(),
            lines: wrap_balanced(text, chars_per_line(size, 0.8), max),
            size,
            anchor,
            badge,
        };
        let mut layers = vec![line("call to action", &spec.call_to_action, size, 3, Anchor::Centre, false)];
        if let Some(p) = &spec.end_card.price {
            layers.push(line("price", p, (size * 3 / 4).max(8), 1, Anchor::BottomAt(if vertical { 0.38 } else { 0.30 }), true));
        }
        layers.push(line("outro name", &spec.product_name, small, 1, Anchor::TopAt(if vertical { 0.62 } else { 0.70 }), false));
        if let Some(u) = &spec.end_card.url {
            layers.push(line("url", u, small, 1, Anchor::TopAt(if vertical { 0.67 } else { 0.79 }), false));
        }
        layers
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
    let captions: Vec<OverlayBox> = if spec.burns_captions() {
        let cl = caption_layout(spec.width, spec.height);
        caption_cues(spec, &spec.timeline())
            .iter()
            .map(|c| {
                let chars = c.lines.iter().map(|x| x.chars().count()).max().unwrap_or(0) as f64;
                let tw = (chars * cl.size as f64 * 0.6 / w).min(1.0);
                let (y0, y1) = cl.rows(c.lines.len(), spec.height);
                OverlayBox { label: format!("caption \"{}\"", c.text()), rect: (0.5 - tw / 2.0, y0, 0.5 + tw / 2.0, y1) }
            })
            .collect()
    } else {
        vec![]
    };
    l.intro
        .iter()
        .chain(l.clips.iter().flatten())
        .chain(l.outro.iter())
        .map(|t| OverlayBox { label: t.label.clone(), rect: t.rect(w, h) })
        .chain(captions)
        .collect()
}

/// How dark a plate each text needs for white type to read (`legibility`): measured on
/// each clip behind its text (graded by the look), computed from the colours for the cards.
#[derive(Debug, Clone, Default)]
pub struct Plates {
    pub clips: Vec<Option<f64>>,
    pub cards: Option<f64>,
}

/// The spec's look, read and checked.
fn read_look(spec: &ComposeSpec) -> Result<Option<Cube>, MediaError> {
    match &spec.look {
        Some(p) => {
            let text = std::fs::read_to_string(p)?;
            Ok(Some(parse_cube(&text, &p.display().to_string()).map_err(|m| MediaError::BadMedia { path: p.display().to_string(), message: m })?))
        }
        None => Ok(None),
    }
}

fn plates(ff: &Ffmpeg, spec: &ComposeSpec, look: Option<&Cube>) -> Result<Plates, MediaError> {
    let l = layout(spec);
    let (w, h) = (spec.width as f64, spec.height as f64);
    // Each clip decoded on a thread of its own (two at a time would do on two cores; the
    // clips with text are few).
    let clips = std::thread::scope(|scope| {
        let measures: Vec<_> = spec
            .clips
            .iter()
            .zip(&l.clips)
            .map(|(clip, text)| text.as_ref().map(|t| scope.spawn(move || measure_behind(ff, &clip.path, (spec.width, spec.height), t.rect(w, h), look))))
            .collect();
        measures
            .into_iter()
            .map(|m| match m {
                Some(m) => m.join().unwrap_or_else(|_| Err(MediaError::Failed { what: "legibility".into(), message: "a measuring thread panicked".into() })).map(plate_for),
                None => Ok(None),
            })
            .collect::<Result<Vec<_>, MediaError>>()
    })?;
    // A colour that is not one counts as the cards' dark fallback (0x202020).
    let lum = |c: &str| crate::domain::relative_luminance(crate::domain::hex_rgb(c).unwrap_or([0x20; 3]).map(|x| x as f64 / 255.0));
    let cards = plate_alpha(lum(&spec.colors[0]).max(lum(&spec.colors[1])));
    Ok(Plates { clips, cards })
}

/// The filter that brings a clip to the advert's frame: cover, crop, rate, 4:2:0.
fn fit_clip(spec: &ComposeSpec) -> String {
    let (w, h, fps) = (spec.width, spec.height, spec.fps);
    format!("scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h},setsar=1,fps={fps},format=yuv420p")
}

/// One ffmpeg run's inputs and filter graph. With a look, the clips come graded through
/// pipes (`fed`, in order from `pipe:3`), fitted to the frame already.
pub struct Graph {
    pub inputs: Vec<OsString>,
    pub graph: String,
    pub fed: Vec<PathBuf>,
}

/// Build the filter graph and the input arguments for one ffmpeg run. Each segment of
/// the timeline becomes one stream of exactly its render length; neighbours are joined by
/// `xfade` at the timeline's offsets, or concatenated at a cut.
pub fn build_graph(spec: &ComposeSpec, plates: &Plates, work: &Path) -> Result<Graph, MediaError> {
    let (w, h, fps) = (spec.width, spec.height, spec.fps);
    let s = w.min(h);
    let text = layout(spec);
    let tl = spec.timeline();
    let mut inputs: Vec<OsString> = Vec::new();
    let mut g = String::new();
    // What every segment stream ends with, so xfade's inputs agree in every respect.
    let norm = format!("fps={fps},format=yuv420p,setsar=1,settb=AVTB,setpts=PTS-STARTPTS");

    // Logo is input 0 when present (looped still image).
    let logo_idx = spec.logo.as_ref().map(|p| {
        inputs.extend(["-loop".into(), "1".into(), "-i".into(), p.as_os_str().to_owned()]);
        0usize
    });
    let mut next_input = inputs.iter().filter(|a| *a == "-i").count();

    // Cards are set in the bold face the designer uses for display type.
    let card_font = display_font(&spec.font, &spec.typeface).map(|p| p.display().to_string()).unwrap_or_default();
    let card = |g: &mut String, label: &str, d: f64, lead_in: f64, layers: &[TextLayer], logo: Option<usize>| -> Result<(), MediaError> {
        // The brand gradient, drawn once (ffmpeg's gradients source costs ~0.7 s of CPU
        // per second of 1080p) a little larger than the frame, and drifted across it
        // diagonally: the card lives without paying for the source on every frame.
        let (ow, oh) = (even(f64::from(w) * CARD_OVERSCAN), even(f64::from(h) * CARD_OVERSCAN));
        let _ = write!(
            g,
            "gradients=s={w}x{h}:c0={}:c1={}:x0=0:y0=0:x1={w}:y1={h}:speed=0.01:seed=1:rate={fps}:duration={:.4},format=yuv420p,scale={ow}:{oh}:flags=bicubic,\
             tpad=stop_mode=clone:stop_duration={d:.4},trim=duration={d:.4},setpts=PTS-STARTPTS,crop={w}:{h}:x='(in_w-out_w)*t/{d:.4}':y='(in_h-out_h)*(1-t/{d:.4})'",
            ffmpeg_color(&spec.colors[0], "0x202020"),
            ffmpeg_color(&spec.colors[1], "0x202020"),
            1.0 / f64::from(fps)
        );
        for (n, t) in layers.iter().enumerate() {
            let how = Kinetics { plate: plates.cards, enter_at: lead_in + TEXT_DELAY_S + 0.25 * n as f64, glide_px_s: f64::from(h) * CARD_GLIDE };
            g.push_str(&t.draw(work, &format!("{label}-{n}"), &card_font, h, how)?);
        }
        match logo {
            Some(i) => {
                let lh = (s / 6).max(8);
                let _ = writeln!(
                    g,
                    "[{label}bg];[{i}:v]scale=-2:{lh},format=rgba,trim=duration={d:.4}[{label}logo];[{label}bg][{label}logo]overlay=(W-w)/2:H*0.12:format=auto:shortest=1,{norm}[{label}];"
                );
            }
            None => {
                let _ = writeln!(g, ",{norm}[{label}];");
            }
        }
        Ok(())
    };

    // The grade is on the clip alone (`grade`, before its frames come in); the text is
    // drawn after it, so it keeps its colour.
    let mut fed = Vec::new();
    for (n, seg) in tl.segments.iter().enumerate() {
        let label = format!("s{n}");
        match seg.kind {
            SegmentKind::Intro => card(&mut g, &label, seg.render_s, seg.lead_in_s(), &text.intro, logo_idx)?,
            SegmentKind::Outro => card(&mut g, &label, seg.render_s, seg.lead_in_s(), &text.outro, logo_idx)?,
            SegmentKind::Clip(k) => {
                let clip = &spec.clips[k];
                let i = next_input;
                next_input += 1;
                let fit = if spec.look.is_some() {
                    let pipe = format!("pipe:{}", super::FIRST_FED_FD as usize + fed.len());
                    inputs.extend(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", &format!("{w}x{h}"), "-r", &fps.to_string(), "-i", &pipe].map(OsString::from));
                    fed.push(clip.path.clone());
                    "setsar=1".to_string()
                } else {
                    inputs.extend(["-i".into(), clip.path.as_os_str().to_owned()]);
                    fit_clip(spec)
                };
                // The clip starts with its slot: the first frame is held through the first
                // half of the incoming transition, the last through the outgoing one.
                let _ = write!(
                    g,
                    "[{i}:v]{fit},tpad=start_mode=clone:start_duration={:.4}:stop_mode=clone:stop_duration={:.4},trim=duration={:.4},setpts=PTS-STARTPTS",
                    seg.lead_in_s(),
                    seg.render_s,
                    seg.render_s,
                );
                if let Some(t) = &text.clips[k] {
                    let plate = plates.clips.get(k).copied().flatten();
                    let how = Kinetics { plate, enter_at: seg.lead_in_s() + TEXT_DELAY_S, glide_px_s: 0.0 };
                    g.push_str(&t.draw(work, &format!("scene-{k}"), &spec.font, h, how)?);
                }
                let _ = writeln!(g, ",{norm}[{label}];");
            }
        }
    }

    let acc = join_segments(&mut g, &tl, fps);
    // Captions over everything, from the script admint wrote (libass).
    let captions = if spec.burns_captions() {
        let script = work.join("captions.ass");
        std::fs::write(&script, ass_script(spec, &caption_cues(spec, &tl), spec.caption_style, &font_family(&spec.font)))?;
        let mut f = format!(",ass=filename={}", escape_filter_value(&script.display().to_string()));
        if let Some(dir) = Path::new(&spec.font).parent().filter(|d| !spec.font.is_empty() && d.is_dir()) {
            let _ = write!(f, ":fontsdir={}", escape_filter_value(&dir.display().to_string()));
        }
        f
    } else {
        String::new()
    };
    let _ = write!(g, "[{acc}]format=yuv420p{captions}[vout]");
    Ok(Graph { inputs, graph: g, fed })
}

/// Broadcast loudness, `[input]` to `[aout]`: one gain to the target (as measured on the
/// mix; no pumping, so the ducking keeps its depth), then a look-ahead limiter under the
/// true-peak ceiling that only touches the loudest transients.
fn master(spec: &ComposeSpec, integrated: Option<f64>, trim_db: f64, gain_db: f64, input: &str) -> String {
    match integrated {
        Some(i) => format!(
            ";[{input}]volume={:.2}dB,alimiter=limit={:.4}:attack=1:release=50:level=false,aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[aout]",
            spec.loudness_lufs - i + gain_db,
            10f64.powf((spec.true_peak_db - AAC_HEADROOM_DB - LIMITER_OVERSHOOT_DB - trim_db) / 20.0)
        ),
        None => format!(";[{input}]anull[aout]"),
    }
}

/// Which buses of the soundtrack a graph carries (the final mix has both; the stems one).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Buses {
    music: bool,
    voice: bool,
}

const ALL_BUSES: Buses = Buses { music: true, voice: true };

/// How much quieter the music is under a voice line (−12 dB), and how fast it dips and
/// comes back (seconds).
const DUCK_GAIN: f64 = 0.25;
const DUCK_ATTACK_S: f64 = 0.15;
const DUCK_RELEASE_S: f64 = 0.4;

/// The music's gain as a function of `t`: 1, dipping to `DUCK_GAIN` under each voice
/// line with linear ramps (the lines' times come from the timeline).
fn duck_expr(lines: &[(f64, f64)]) -> String {
    let under = lines
        .iter()
        .map(|(a, b)| format!("clip((t-{:.3})/{DUCK_ATTACK_S},0,1)*clip(({:.3}-t)/{DUCK_RELEASE_S},0,1)", a - DUCK_ATTACK_S, b + DUCK_RELEASE_S))
        .reduce(|acc, x| format!("max({acc},{x})"))
        .unwrap_or_else(|| "0".into());
    format!("1-{:.3}*{under}", 1.0 - DUCK_GAIN)
}

/// The soundtrack, ending in `[amixed]`: the music bed (faded in and out, ducked under
/// the voice), each voice line where the timeline puts it, over silence.
fn audio_graph(spec: &ComposeSpec, tl: &Timeline, mut next_input: usize, inputs: &mut Vec<OsString>, buses: Buses) -> String {
    let total = tl.total_s;
    let mut g = String::new();
    let mut mix = Vec::new();
    let lines: Vec<(usize, &VoiceLine, f64)> = spec.clips.iter().enumerate().filter_map(|(k, c)| Some((k, c.voice.as_ref()?, tl.voice_start(k)?))).collect();
    if let Some(m) = spec.audio.music.as_ref().filter(|_| buses.music) {
        let i = next_input;
        next_input += 1;
        inputs.extend(["-stream_loop".into(), "-1".into(), "-i".into(), m.as_os_str().to_owned()]);
        let out = (total - 1.5).max(0.0);
        let spans: Vec<(f64, f64)> = lines.iter().map(|(_, v, start)| (*start, start + v.played_s())).collect();
        let _ = writeln!(
            g,
            "[{i}:a]aresample=48000,aformat=channel_layouts=stereo,atrim=0:{total},asetpts=PTS-STARTPTS,volume='{}':eval=frame,afade=t=in:d=0.3,afade=t=out:st={out:.3}:d=1.5[music];",
            duck_expr(&spans)
        );
        mix.push("[music]".to_string());
    }
    // The ambience bus: each clip's own sound in its slot, low, with short fades, ducked
    // like the music under the voice.
    for (k, c) in spec.clips.iter().enumerate().filter(|(_, c)| c.ambience && buses.music) {
        let Some((start, len)) = tl.clip_slot(k) else { continue };
        let i = next_input;
        next_input += 1;
        inputs.extend(["-i".into(), c.path.as_os_str().to_owned()]);
        let ms = (start * 1000.0).round() as u64;
        let spans: Vec<(f64, f64)> = lines.iter().map(|(_, v, s)| (*s - start, s - start + v.played_s())).collect();
        let _ = writeln!(
            g,
            "[{i}:a]aresample=48000,aformat=channel_layouts=stereo,atrim=0:{len:.4},apad=whole_dur={len:.4},asetpts=PTS-STARTPTS,volume={:.1}dB,volume='{}':eval=frame,afade=t=in:d=0.05,afade=t=out:st={:.4}:d=0.05,adelay={ms}:all=1[amb{k}];",
            -spec.ambience_db.abs(),
            duck_expr(&spans),
            (len - 0.05).max(0.0)
        );
        mix.push(format!("[amb{k}]"));
    }
    for (k, line, start) in lines.iter().filter(|_| buses.voice) {
        let i = next_input;
        next_input += 1;
        inputs.extend(["-i".into(), line.path.as_os_str().to_owned()]);
        let ms = (start * 1000.0).round() as u64;
        // A line that runs a little long is played up to 15 % faster (atempo keeps the pitch).
        let tempo = if line.tempo > 1.001 { format!(",atempo={:.4}", line.tempo) } else { String::new() };
        let _ = writeln!(g, "[{i}:a]aresample=48000,aformat=channel_layouts=stereo{tempo},adelay={ms}:all=1[vo{k}];");
        mix.push(format!("[vo{k}]"));
    }
    let _ = writeln!(g, "anullsrc=r=48000:cl=stereo,atrim=0:{total}[silence];");
    mix.push("[silence]".into());
    let _ = write!(g, "{}amix=inputs={}:duration=longest:normalize=0,atrim=0:{total},asetpts=PTS-STARTPTS[amixed]", mix.join(""), mix.len());
    g
}

/// How much larger than the frame a card's gradient is drawn, for its drift.
const CARD_OVERSCAN: f64 = 1.06;

/// The even number nearest `x` (yuv420p sizes are even).
fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32) * 2
}

/// The AAC encoder's overshoot: the mix is limited this much under the true-peak ceiling
/// so the encoded file stays under it.
const AAC_HEADROOM_DB: f64 = 0.5;
/// The limiter works on samples; peaks between samples can be this much higher.
const LIMITER_OVERSHOOT_DB: f64 = 1.0;

/// The advert's sound, every bus mixed (before the master), rendered once to a float
/// WAV that the loudness is measured on and the master is made from. `None` when the
/// advert has no sound at all.
fn mix_down(ff: &Ffmpeg, spec: &ComposeSpec, work: &Path) -> Result<Option<PathBuf>, MediaError> {
    if spec.audio.music.is_none() && spec.clips.iter().all(|c| c.voice.is_none() && !c.ambience) {
        return Ok(None);
    }
    let tl = spec.timeline();
    let mut args: Vec<OsString> = Vec::new();
    let graph = audio_graph(spec, &tl, 0, &mut args, ALL_BUSES) + ";[amixed]anull[aout]";
    let script = work.join("mix.graph");
    std::fs::write(&script, graph)?;
    let wav = work.join("mix.wav");
    args.extend(["-filter_complex_script".into(), script.into_os_string(), "-map".into(), "[aout]".into(), "-c:a".into(), "pcm_f32le".into(), "-t".into(), format!("{:.3}", tl.total_s).into(), "-y".into()]);
    args.push(wav.as_os_str().to_owned());
    ff.run("mix", &args, None, None, |_| {})?;
    Ok(Some(wav))
}

/// EBU R128 below this is digital silence (ebur128 reports -70 LUFS for it).
const SILENCE_LUFS: f64 = -69.0;

/// Pass 1: the mix and its integrated loudness (LUFS), measured on the mix alone (cheap:
/// no video). `None` when the advert is silent.
fn measure_loudness(ff: &Ffmpeg, spec: &ComposeSpec, work: &Path) -> Result<Option<(PathBuf, f64)>, MediaError> {
    let Some(mix) = mix_down(ff, spec, work)? else { return Ok(None) };
    let (integrated, _) = ebur128(ff, &mix, false)?;
    Ok((integrated > SILENCE_LUFS).then_some((mix, integrated)))
}

/// The mix's stems for an editor, each the advert's length at 48 kHz: `voice.wav` (the
/// voice lines where they play), `music.wav` (the bed as mixed: ducked and faded, before
/// the master gain) and `mix.wav` (the final mix at the loudness target).
pub fn render_stems(ff: &Ffmpeg, spec: &ComposeSpec, work: &Path, dir: &Path) -> Result<Vec<PathBuf>, MediaError> {
    std::fs::create_dir_all(work)?;
    std::fs::create_dir_all(dir)?;
    let loudness = measure_loudness(ff, spec, work)?;
    let tl = spec.timeline();
    let stems = [
        ("voice", Buses { music: false, voice: true }, false),
        ("music", Buses { music: true, voice: false }, false),
        ("mix", ALL_BUSES, true),
    ];
    let mut out = Vec::new();
    for (name, buses, mastered) in stems {
        let mut args: Vec<OsString> = Vec::new();
        let mut graph = audio_graph(spec, &tl, 0, &mut args, buses);
        graph.push_str(&if mastered { master(spec, loudness.as_ref().map(|(_, i)| *i), 0.0, 0.0, "amixed") } else { ";[amixed]anull[aout]".into() });
        let script = work.join(format!("stem-{name}.graph"));
        std::fs::write(&script, graph)?;
        let dest = dir.join(format!("{name}.wav"));
        let tmp = dir.join(format!(".{name}.part.wav"));
        args.extend(["-filter_complex_script".into(), script.into_os_string(), "-map".into(), "[aout]".into(), "-c:a".into(), "pcm_s24le".into(), "-y".into(), tmp.clone().into_os_string()]);
        ff.run(&format!("stem {name}"), &args, None, None, |_| {})?;
        std::fs::rename(&tmp, &dest)?;
        out.push(dest);
    }
    Ok(out)
}

/// The integrated loudness (LUFS) and, with `peak`, the true peak (dBTP) of an audio
/// file, as EBU R128 measures them; a value it does not print is -inf.
fn ebur128(ff: &Ffmpeg, audio: &Path, peak: bool) -> Result<(f64, f64), MediaError> {
    let filter = if peak { "ebur128=peak=true" } else { "ebur128" };
    let args: Vec<OsString> = vec!["-nostats".into(), "-i".into(), audio.as_os_str().to_owned(), "-af".into(), filter.into(), "-f".into(), "null".into(), "-".into()];
    let log = ff.run_for_log("loudness", &args)?;
    let summary = &log[log.rfind("Summary:").unwrap_or(0)..];
    let value = |label: &str| summary.split(label).nth(1).and_then(|r| r.split_whitespace().next()).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NEG_INFINITY);
    Ok((value(" I:"), if peak { value("Peak:") } else { f64::NEG_INFINITY }))
}

/// How far from the loudness target the encoded master may land before it is corrected.
const LOUDNESS_SLACK_LU: f64 = 0.5;

/// The soundtrack, mixed, mastered and encoded (AAC) once, before the picture. Its
/// loudness and true peak are measured on the encoded file: when the limiter pulled it
/// under the target (short, dense adverts) or the encoder's overshoot took it over the
/// ceiling, the gain or the limiter is corrected by the difference and it is encoded
/// again (audio alone is cheap). The picture's run copies it.
fn master_audio(ff: &Ffmpeg, spec: &ComposeSpec, work: &Path) -> Result<PathBuf, MediaError> {
    let tl = spec.timeline();
    let out = work.join("soundtrack.m4a");
    let total = format!("{:.3}", tl.total_s);
    // ffmpeg's native AAC encoder with its fast coder at 192 kb/s: a third of the default
    // coder's time, and on a dense mix its true peak stays under the source's where the
    // default coder at 160 kb/s overshot by 3 dB (so one encode usually passes).
    let aac = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "192k"];
    let Some((mix, integrated)) = measure_loudness(ff, spec, work)? else {
        // Silence: the timeline's length of it, nothing to master.
        let mut args: Vec<OsString> = Vec::new();
        let graph = audio_graph(spec, &tl, 0, &mut args, ALL_BUSES) + ";[amixed]anull[aout]";
        let script = work.join("soundtrack.graph");
        std::fs::write(&script, graph)?;
        args.extend(["-filter_complex_script", &script.display().to_string(), "-map", "[aout]"].iter().map(OsString::from));
        args.extend(aac.iter().chain(&["-t", &total, "-y"]).map(OsString::from));
        args.push(out.as_os_str().to_owned());
        ff.run("soundtrack", &args, None, None, |_| {})?;
        return Ok(out);
    };
    let (mut trim, mut gain) = (0.0, 0.0);
    for attempt in 0..3 {
        let chain = master(spec, Some(integrated), trim, gain, "0:a");
        let mut args: Vec<OsString> = vec!["-i".into(), mix.as_os_str().to_owned(), "-filter_complex".into(), chain.trim_start_matches(';').into(), "-map".into(), "[aout]".into()];
        args.extend(aac.iter().chain(&["-t", &total, "-y"]).map(OsString::from));
        args.push(out.as_os_str().to_owned());
        ff.run("soundtrack", &args, None, None, |_| {})?;
        let (loud, tp) = ebur128(ff, &out, true)?;
        let off = spec.loudness_lufs - loud;
        let (loud_ok, peak_ok) = (off.abs() <= LOUDNESS_SLACK_LU, tp <= spec.true_peak_db);
        if (loud_ok && peak_ok) || attempt == 2 {
            break;
        }
        if !peak_ok {
            trim += tp - spec.true_peak_db + 0.2;
        }
        if !loud_ok {
            gain += off;
        }
    }
    Ok(out)
}

/// Compose the advert into `out`: the picture (one ffmpeg run of the whole filter graph)
/// and the soundtrack (mixed, mastered, encoded and peak-checked) side by side, then
/// muxed into a temp file beside `out` that is renamed only after ffprobe confirms the
/// expected duration and size.
pub fn compose(
    ff: &Ffmpeg,
    spec: &ComposeSpec,
    work: &Path,
    out: &Path,
    cancel: Option<&AtomicBool>,
    progress: impl FnMut(f32),
) -> Result<Probe, MediaError> {
    std::fs::create_dir_all(work)?;
    // The soundtrack is mastered on a thread of its own while the picture renders.
    let sound = std::thread::scope(|scope| -> Result<(PathBuf, PathBuf), MediaError> {
        let audio = scope.spawn(|| master_audio(ff, spec, work));
        let picture = render_picture(ff, spec, work, cancel, progress);
        let audio = audio.join().map_err(|_| MediaError::Failed { what: "soundtrack".into(), message: "the mastering thread panicked".into() })?;
        Ok((picture?, audio?))
    });
    let (picture, soundtrack) = sound?;
    let tmp = out.with_file_name(format!(
        ".{}.part.mp4",
        out.file_stem().and_then(|s| s.to_str()).unwrap_or("final")
    ));
    let total = spec.total_s();
    let mut args: Vec<OsString> = vec!["-i".into(), picture.into_os_string(), "-i".into(), soundtrack.into_os_string()];
    args.extend(["-map", "0:v", "-map", "1:a", "-c", "copy", "-movflags", "+faststart", "-t", &format!("{total:.3}"), "-y"].iter().map(OsString::from));
    args.push(tmp.as_os_str().to_owned());
    if let Err(e) = ff.run("mux", &args, None, None, |_| {}) {
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

/// The picture alone: the filter graph of every card, clip, transition, text and
/// caption, encoded to `work/picture.mp4`.
fn render_picture(ff: &Ffmpeg, spec: &ComposeSpec, work: &Path, cancel: Option<&AtomicBool>, progress: impl FnMut(f32)) -> Result<PathBuf, MediaError> {
    let look = read_look(spec)?;
    let started = std::time::Instant::now();
    let plates = plates(ff, spec, look.as_ref())?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "text plates measured");
    let Graph { inputs: mut args, graph, fed } = build_graph(spec, &plates, work)?;
    let script = work.join("compose.graph");
    std::fs::write(&script, &graph)?;
    let picture = work.join("picture.mp4");
    let total = spec.total_s();
    args.extend(
        [
            "-filter_complex_script", &script.display().to_string(),
            "-map", "[vout]",
            "-c:v", "libx264", "-preset", &spec.x264_preset, "-crf", &spec.crf.to_string(),
            "-pix_fmt", "yuv420p", "-r", &spec.fps.to_string(),
            "-t", &format!("{total:.3}"), "-y",
        ]
        .iter()
        .map(OsString::from),
    );
    args.push(picture.as_os_str().to_owned());
    let frames = (total * spec.fps as f64).round() as u64;
    match look {
        None => ff.run("compose", &args, Some(frames), cancel, progress)?,
        Some(cube) => run_graded(ff, spec, &args, &fed, cube, frames, cancel, progress)?,
    }
    Ok(picture)
}

/// The composing run with its clips graded on the way in: a thread per clip decodes it,
/// grades each frame through a `YuvGrade` of its own (the rows a clip needs are few) and
/// writes it into a pipe ffmpeg reads. A clip that cannot be decoded fails the compose
/// (ffmpeg alone would see a short input and pad it).
#[allow(clippy::too_many_arguments)]
fn run_graded(ff: &Ffmpeg, spec: &ComposeSpec, args: &[OsString], fed: &[PathBuf], cube: Cube, frames: u64, cancel: Option<&AtomicBool>, progress: impl FnMut(f32)) -> Result<(), MediaError> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut readers = Vec::new();
    let mut writers = Vec::new();
    for _ in fed {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills two descriptors this process then owns (closed on exec, so
        // no other child holds them).
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        super::grade::widen_pipe(fds[1]);
        // SAFETY: both were just opened and are owned by nothing else.
        unsafe {
            readers.push(OwnedFd::from_raw_fd(fds[0]));
            writers.push(std::fs::File::from(OwnedFd::from_raw_fd(fds[1])));
        }
    }
    let fit = fit_clip(spec);
    let size = (spec.width, spec.height);
    std::thread::scope(|scope| {
        let feeders: Vec<_> = fed
            .iter()
            .zip(writers)
            .map(|(clip, out)| {
                let (cube, fit) = (cube.clone(), &fit);
                scope.spawn(move || feed_graded(ff, clip, fit, size, &mut YuvGrade::new(cube), std::io::BufWriter::with_capacity(1 << 20, out), cancel))
            })
            .collect();
        let composed = ff.run_fed("compose", args, readers, Some(frames), cancel, progress);
        let fed: Result<Vec<()>, MediaError> = feeders.into_iter().map(|f| f.join().unwrap_or_else(|_| Err(MediaError::Failed { what: "grade".into(), message: "a grading thread panicked".into() }))).collect();
        composed?;
        fed.map(|_| ())
    })
}
