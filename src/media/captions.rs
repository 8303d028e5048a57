//! Captions of the voiceover: phrase cues from the voice lines' word timings (placed by
//! the timeline), laid out for the frame (at most two lines of 32–42 characters, inside
//! the platform's safe area), and written as an `.ass` script for libass to burn in, and
//! as `captions.srt` / `captions.vtt` sidecars.

use std::fmt::Write as _;

use super::{ComposeSpec, Timeline};
use crate::domain::{CaptionStyle, Cue};

/// One caption on screen: its time on the advert, its lines, and its words' times.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionCue {
    pub start_s: f64,
    pub end_s: f64,
    pub lines: Vec<String>,
    /// Every word of the cue on the advert's timeline (for the karaoke highlight).
    pub words: Vec<Cue>,
}

impl CaptionCue {
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// How captions sit on a frame: font size (px), characters a line, and the bottom edge
/// of the caption block as a fraction of the height (above the platforms' buttons on
/// vertical video, inside the title-safe area elsewhere).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptionLayout {
    pub size: u32,
    pub chars_per_line: usize,
    pub bottom: f64,
}

/// Average advance of a character (DejaVu Sans Bold, in ems) and the pitch of a line.
const ADVANCE_EM: f64 = 0.6;
const PITCH_EM: f64 = 1.2;
/// A cue stays up this long after its last word (and at least `MIN_CUE_S`).
const HOLD_S: f64 = 0.3;
const MIN_CUE_S: f64 = 0.8;

pub fn caption_layout(width: u32, height: u32) -> CaptionLayout {
    let s = width.min(height) as f64;
    let usable = width as f64 * 0.88;
    // As large as reads well, but never so large that a line holds under 32 characters.
    let size = (s / 18.0).min(usable / (32.0 * ADVANCE_EM)).max(8.0);
    let chars_per_line = ((usable / (size * ADVANCE_EM)) as usize).clamp(16, 42);
    let bottom = if height > width {
        0.78
    } else if width > height {
        0.90
    } else {
        0.88
    };
    CaptionLayout { size: size.round() as u32, chars_per_line, bottom }
}

impl CaptionLayout {
    /// The caption block's vertical extent for `lines` lines: (top, bottom) as fractions.
    pub fn rows(&self, lines: usize, height: u32) -> (f64, f64) {
        let block = lines as f64 * self.size as f64 * PITCH_EM / height as f64;
        (self.bottom - block, self.bottom)
    }
}

/// Two balanced lines (or one) of at most `cpl` characters each.
fn balance(text: &str, cpl: usize) -> Vec<String> {
    let n = text.chars().count();
    if n <= cpl {
        return vec![text.to_string()];
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut best: Option<(usize, usize)> = None;
    for k in 1..words.len() {
        let a = words[..k].join(" ").chars().count();
        let b = words[k..].join(" ").chars().count();
        if a <= cpl && b <= cpl && best.is_none_or(|(_, d)| a.abs_diff(b) < d) {
            best = Some((k, a.abs_diff(b)));
        }
    }
    match best {
        Some((k, _)) => vec![words[..k].join(" "), words[k..].join(" ")],
        None => crate::text::wrap_text(text, cpl, 2),
    }
}

/// Every caption of the advert, in order, never overlapping: each voice line's words
/// grouped into phrases that fit two lines, broken at sentence ends (and at commas once a
/// line is mostly full), timed by the words and held a moment after the last.
pub fn caption_cues(spec: &ComposeSpec, tl: &Timeline) -> Vec<CaptionCue> {
    let layout = caption_layout(spec.width, spec.height);
    let cpl = layout.chars_per_line;
    let mut cues: Vec<CaptionCue> = Vec::new();
    for (k, clip) in spec.clips.iter().enumerate() {
        let (Some(line), Some(start), Some((slot_start, slot_len))) = (&clip.voice, tl.voice_start(k), tl.clip_slot(k)) else { continue };
        let tempo = line.tempo.max(0.01);
        let words: Vec<Cue> = line
            .cues
            .iter()
            .map(|w| Cue { start_s: start + w.start_s / tempo, end_s: start + w.end_s / tempo, text: clean(&w.text) })
            .filter(|w| !w.text.is_empty())
            .collect();
        let mut group: Vec<Cue> = Vec::new();
        let flush = |group: &mut Vec<Cue>, cues: &mut Vec<CaptionCue>| {
            if group.is_empty() {
                return;
            }
            let text = group.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            cues.push(CaptionCue { start_s: group[0].start_s, end_s: group[group.len() - 1].end_s, lines: balance(&text, cpl), words: std::mem::take(group) });
        };
        for w in words {
            let len = group.iter().map(|g| g.text.chars().count() + 1).sum::<usize>();
            if !group.is_empty() && len + w.text.chars().count() > 2 * cpl {
                flush(&mut group, &mut cues);
            }
            let (stop, pause) = (w.text.ends_with(['.', '!', '?']), w.text.ends_with([',', ';', ':', '—']));
            group.push(w);
            let len = group.iter().map(|g| g.text.chars().count() + 1).sum::<usize>();
            if stop || (pause && len * 10 >= cpl * 12) {
                flush(&mut group, &mut cues);
            }
        }
        flush(&mut group, &mut cues);
        // Hold each cue a moment, but never past the next one or the scene.
        let scene_end = slot_start + slot_len;
        let first = cues.iter().position(|c| c.start_s >= slot_start - 1e-6).unwrap_or(cues.len());
        for i in first..cues.len() {
            let next = cues.get(i + 1).map_or(scene_end, |n| n.start_s);
            let c = &mut cues[i];
            c.end_s = (c.end_s + HOLD_S).max(c.start_s + MIN_CUE_S).min(next).min(scene_end).max(c.start_s + 0.05);
        }
    }
    cues
}

/// Caption text as it will be shown: control characters and line breaks become spaces.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `&HAABBGGRR` from `#rrggbb` (alpha 0 is opaque).
fn ass_colour(hex: &str, alpha: u8, fallback: &str) -> String {
    let t = hex.trim().trim_start_matches('#');
    let t = if t.len() == 6 && t.chars().all(|c| c.is_ascii_hexdigit()) { t } else { fallback };
    format!("&H{alpha:02X}{}{}{}", &t[4..6], &t[2..4], &t[0..2]).to_uppercase()
}

/// Text as libass shows it literally: braces escaped (`\{`, `\}`), and a word joiner
/// after each backslash so `\N`, `\h` or `\k` in the text are not read as codes.
pub fn ass_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '\\' => out.push_str("\\\u{2060}"),
            c => out.push(c),
        }
    }
    out
}

fn ass_time(t: f64) -> String {
    let cs = (t.max(0.0) * 100.0).round() as u64;
    format!("{}:{:02}:{:02}.{:02}", cs / 360_000, cs / 6000 % 60, cs / 100 % 60, cs % 100)
}

/// The karaoke highlight: a warm yellow, the social-video norm. A brand accent was tried
/// and dropped: the clips are shot in the brand's palette, so its accent is the one
/// colour guaranteed to sink into the picture behind it.
const HIGHLIGHT: &str = "#ffd400";

/// The `.ass` script libass burns in: one style (bold sans, white, a dark outline in the
/// brand's dark colour and a soft shadow, bottom centre at the safe-area line), one
/// dialogue line per cue, with `\k` word timings in karaoke style.
pub fn ass_script(spec: &ComposeSpec, cues: &[CaptionCue], style: CaptionStyle, font_family: &str) -> String {
    let (w, h) = (spec.width, spec.height);
    let l = caption_layout(w, h);
    let outline = (l.size as f64 / 14.0).max(1.0);
    let margin_v = ((1.0 - l.bottom) * h as f64).round() as u32;
    let margin_lr = (w as f64 * 0.06).round() as u32;
    let (primary, secondary) = match style {
        // Karaoke: a word is white until it is spoken, then lit.
        CaptionStyle::Karaoke => (ass_colour(HIGHLIGHT, 0, "ffd400"), ass_colour("#ffffff", 0, "ffffff")),
        CaptionStyle::Plain => (ass_colour("#ffffff", 0, "ffffff"), ass_colour("#ffffff", 0, "ffffff")),
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {w}\nPlayResY: {h}\nWrapStyle: 2\nScaledBorderAndShadow: yes\n\n\
[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
Style: Caption,{font_family},{},{primary},{secondary},{},{},-1,0,0,0,100,100,0,0,1,{outline:.1},{:.1},2,{margin_lr},{margin_lr},{margin_v},1\n\n\
[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        l.size,
        ass_colour(&spec.colors[0], 0, "101018"),
        ass_colour("#000000", 0x70, "000000"),
        (outline / 2.0).max(1.0),
    );
    for c in cues {
        let text = match style {
            CaptionStyle::Plain => c.lines.iter().map(|l| ass_escape(l)).collect::<Vec<_>>().join("\\N"),
            CaptionStyle::Karaoke => karaoke(c),
        };
        let _ = writeln!(s, "Dialogue: 0,{},{},Caption,,0,0,0,,{text}", ass_time(c.start_s), ass_time(c.end_s));
    }
    s
}

/// A cue's words with `\k` durations (centiseconds from one word's start to the next),
/// broken into its lines where the layout broke them.
fn karaoke(c: &CaptionCue) -> String {
    let first_line_words = c.lines.first().map_or(0, |l| l.split(' ').count());
    let mut out = String::new();
    let mut t = c.start_s;
    for (i, w) in c.words.iter().enumerate() {
        if w.start_s > t + 0.005 {
            let _ = write!(out, "{{\\k{}}}", ((w.start_s - t) * 100.0).round() as u64);
            t = w.start_s;
        }
        let until = c.words.get(i + 1).map_or(c.end_s, |n| n.start_s).max(t);
        let sep = match i {
            0 => "",
            i if i == first_line_words && c.lines.len() > 1 => "\\N",
            _ => " ",
        };
        let _ = write!(out, "{sep}{{\\k{}}}{}", ((until - t) * 100.0).round() as u64, ass_escape(&w.text));
        t = until;
    }
    out
}

fn stamp(t: f64, sep: char) -> String {
    let ms = (t.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}{sep}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// SubRip: numbered cues, `HH:MM:SS,mmm`, the text as it is.
pub fn srt(cues: &[CaptionCue]) -> String {
    let mut s = String::new();
    for (i, c) in cues.iter().enumerate() {
        let _ = write!(s, "{}\n{} --> {}\n{}\n\n", i + 1, stamp(c.start_s, ','), stamp(c.end_s, ','), c.lines.join("\n"));
    }
    s
}

/// WebVTT: `HH:MM:SS.mmm`, with `&`, `<` and `>` escaped as the format requires.
pub fn vtt(cues: &[CaptionCue]) -> String {
    let esc = |l: &String| l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut s = String::from("WEBVTT\n\n");
    for c in cues {
        let _ = write!(s, "{} --> {}\n{}\n\n", stamp(c.start_s, '.'), stamp(c.end_s, '.'), c.lines.iter().map(esc).collect::<Vec<_>>().join("\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_keeps_lines_between_32_and_42_characters() {
        for (w, h) in [(1920, 1080), (1080, 1920), (1080, 1080), (320, 180), (180, 320)] {
            let l = caption_layout(w, h);
            assert!((32..=42).contains(&l.chars_per_line) || w < 400, "{w}x{h}: {l:?}");
            assert!(l.chars_per_line as f64 * l.size as f64 * ADVANCE_EM <= w as f64 * 0.9, "{w}x{h}: {l:?}");
        }
        assert!(caption_layout(1080, 1920).bottom <= 0.8, "above the buttons of vertical video");
    }

    #[test]
    fn escaping_shows_codes_literally() {
        assert_eq!(ass_escape("{\\b1}50% off: \"now\", it's"), "\\{\\\u{2060}b1\\}50% off: \"now\", it's");
        assert_eq!(ass_escape("two\nlines\ttab"), "two lines tab");
        assert_eq!(ass_time(3725.456), "1:02:05.46");
        assert_eq!(stamp(3725.4567, ','), "01:02:05,457");
        assert_eq!(ass_colour("#112233", 0, "000000"), "&H00332211");
    }

    #[test]
    fn balanced_lines() {
        assert_eq!(balance("short", 32), vec!["short"]);
        let two = balance("Feel the difference every single day with Stride running shoes", 32);
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|l| l.chars().count() <= 32), "{two:?}");
        assert!(two[0].chars().count().abs_diff(two[1].chars().count()) < 10, "{two:?}");
    }

    #[test]
    fn sidecars_are_well_formed() {
        let c = CaptionCue { start_s: 1.5, end_s: 2.25, lines: vec!["Tom & <Jerry>".into(), "second".into()], words: vec![] };
        assert_eq!(srt(std::slice::from_ref(&c)), "1\n00:00:01,500 --> 00:00:02,250\nTom & <Jerry>\nsecond\n\n");
        assert_eq!(vtt(&[c]), "WEBVTT\n\n00:00:01.500 --> 00:00:02.250\nTom &amp; &lt;Jerry&gt;\nsecond\n\n");
    }
}
