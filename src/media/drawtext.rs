//! Text and colour for ffmpeg filter graphs: `drawtext` with the text read from a file,
//! brand colours in ffmpeg's notation.

use std::path::Path;

use super::escape_filter_value;

/// `#rrggbb` as ffmpeg's `0xrrggbb`, or `fallback` when it is not a colour.
pub(super) fn ffmpeg_color(c: &str, fallback: &str) -> String {
    match crate::domain::hex_rgb(c) {
        Some([r, g, b]) => format!("0x{r:02x}{g:02x}{b:02x}"),
        None => fallback.into(),
    }
}

/// How one line of text is drawn.
#[derive(Debug, Clone)]
pub struct TextStyle<'a> {
    /// Font file; empty means fontconfig's default.
    pub font: &'a str,
    pub size: u32,
    pub color: &'a str,
    /// A plate of this opacity behind the line (for contrast), else a soft shadow.
    pub plate: Option<f64>,
    /// The plate's colour (ffmpeg's notation).
    pub plate_color: &'a str,
    /// The plate's margin around the letters, in % of the size.
    pub plate_pad: u32,
    /// Kinetic entrance: fades in while rising into place, eased.
    pub enter: Option<Entrance>,
}

#[derive(Debug, Clone, Copy)]
pub struct Entrance {
    /// When it starts, in the stream's time (seconds).
    pub at_s: f64,
    /// How far below its place it starts (pixels).
    pub rise_px: f64,
    /// After it is in, it keeps rising this fast (pixels per second): type on a card
    /// never stands still.
    pub glide_px_s: f64,
}

/// How long a line takes to come in.
pub const ENTRANCE_S: f64 = 0.45;

/// `drawtext` with the text read from a file, so quotes, colons, percent signs, commas
/// and backslashes render literally (`expansion=none` turns off `%{…}` expansion).
pub fn drawtext_filter(textfile: &Path, style: &TextStyle, x: &str, y: &str) -> String {
    let size = style.size;
    let (y, alpha) = match style.enter {
        // Progress p = clip((t - at) / d, 0, 1); the line rises by (1 - p)^3 of the way.
        Some(e) => {
            let p = format!("clip((t-{:.3})/{ENTRANCE_S},0,1)", e.at_s);
            let mut y = format!("{y}+{:.1}*pow(1-{p},3)", e.rise_px);
            if e.glide_px_s > 0.0 {
                y.push_str(&format!("-{:.2}*max(t-{:.3},0)", e.glide_px_s, e.at_s));
            }
            (y, Some(p))
        }
        None => (y.to_string(), None),
    };
    let mut f = format!(
        "drawtext=textfile={}:expansion=none:fontsize={size}:fontcolor={}:x={}:y={}:line_spacing={}",
        escape_filter_value(&textfile.display().to_string()),
        style.color,
        escape_filter_value(x),
        escape_filter_value(&y),
        size / 5
    );
    if let Some(a) = alpha {
        f.push_str(&format!(":alpha={}", escape_filter_value(&a)));
    }
    if !style.font.is_empty() {
        f.push_str(&format!(":fontfile={}", escape_filter_value(style.font)));
    }
    match style.plate {
        // A plate that fits the line: lines of a block sit one pitch apart, so plates
        // touch without overlapping (overlaps would show as darker stripes).
        Some(a) => f.push_str(&format!(":box=1:boxcolor={}@{a:.2}:boxborderw={}", style.plate_color, (size * style.plate_pad / 100).max(1))),
        None => f.push_str(&format!(":shadowcolor=black@0.55:shadowx={s}:shadowy={s}", s = (size / 18).max(1))),
    }
    f
}
