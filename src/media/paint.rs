//! Painted stills: the offline painter's cards and backdrops, drawn with ffmpeg.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{escape_filter_value, Ffmpeg, MediaError};
use crate::text::wrap_text;
use crate::domain::Rng;

/// What a painted card shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Motif {
    /// A stylised product: a lit card with the product name, or the user's product image.
    Product,
    /// Figures in the brand colours.
    Character,
    /// A horizon with a light source.
    Environment,
    /// Background only (title cards).
    Plain,
}

#[derive(Debug, Clone)]
pub struct PaintSpec {
    pub width: u32,
    pub height: u32,
    /// At least two `#rrggbb` colours: background gradient first.
    pub colors: Vec<String>,
    pub seed: u64,
    pub motif: Motif,
    /// Large text in the middle (e.g. the product name on the product card).
    pub title: Option<String>,
    /// A user image composited in the middle (fitted whole, never cropped).
    pub image: Option<PathBuf>,
    /// Font file; empty means fontconfig's default.
    pub font: String,
}

/// `#rrggbb` as ffmpeg's `0xrrggbb`, or `fallback` when it is not a colour.
pub(super) fn ffmpeg_color(c: &str, fallback: &str) -> String {
    let t = c.trim().trim_start_matches('#');
    if t.len() == 6 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("0x{t}")
    } else {
        fallback.into()
    }
}

/// `drawtext` with the text read from a file, so quotes, colons, percent signs, commas
/// and backslashes render literally (`expansion=none` turns off `%{…}` expansion).
pub fn drawtext_filter(textfile: &Path, font: &str, size: u32, color: &str, x: &str, y: &str, boxed: bool) -> String {
    let mut f = format!(
        "drawtext=textfile={}:expansion=none:fontsize={size}:fontcolor={color}:x={x}:y={y}:line_spacing={}",
        escape_filter_value(&textfile.display().to_string()),
        size / 5
    );
    if !font.is_empty() {
        f.push_str(&format!(":fontfile={}", escape_filter_value(font)));
    }
    if boxed {
        // A plate that fits the line: lines of a block sit one pitch apart, so plates
        // touch without overlapping (overlaps would show as darker stripes).
        f.push_str(&format!(":box=1:boxcolor=black@0.45:boxborderw={}", (size / 10).max(1)));
    } else {
        f.push_str(&format!(":shadowcolor=black@0.55:shadowx={s}:shadowy={s}", s = (size / 18).max(1)));
    }
    f
}

/// Paint a still (reference image, keyframe or card) to a PNG with ffmpeg.
pub fn paint_card(ff: &Ffmpeg, spec: &PaintSpec, work: &Path, out: &Path) -> Result<(), MediaError> {
    let (w, h) = (spec.width, spec.height);
    let mut rng = Rng::new(spec.seed);
    let c = |i: usize| ffmpeg_color(&spec.colors[i % spec.colors.len().max(1)], "0x808080");
    let a = rng.unit() * std::f64::consts::TAU;
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let r = w.max(h) as f64 / 2.0;
    let mut chain = vec![format!(
        "gradients=s={w}x{h}:c0={}:c1={}:x0={}:y0={}:x1={}:y1={}:nb_colors=2:speed=0.00001:rate=1:seed={},format=rgb24",
        c(0),
        c(1),
        (cx - a.cos() * r).clamp(0.0, w as f64 - 1.0) as i64,
        (cy - a.sin() * r).clamp(0.0, h as f64 - 1.0) as i64,
        (cx + a.cos() * r).clamp(0.0, w as f64 - 1.0) as i64,
        (cy + a.sin() * r).clamp(0.0, h as f64 - 1.0) as i64,
        spec.seed % 1_000_000
    )];
    // Soft translucent light panels give the camera something to move across.
    for i in 0..7 {
        let bw = (w as f64 * (0.08 + 0.22 * rng.unit())) as u32;
        let bh = (h as f64 * (0.08 + 0.30 * rng.unit())) as u32;
        let x = (rng.unit() * (w - bw.min(w)) as f64) as u32;
        let y = (rng.unit() * (h - bh.min(h)) as f64) as u32;
        let col = if i % 2 == 0 { "white".to_string() } else { c(2 + i) };
        chain.push(format!("drawbox=x={x}:y={y}:w={bw}:h={bh}:color={col}@{:.2}:t=fill", 0.06 + 0.12 * rng.unit()));
    }
    let s = w.min(h);
    match spec.motif {
        Motif::Environment => {
            chain.push(format!("drawbox=x=0:y={}:w={w}:h={}:color={}@0.55:t=fill", h * 62 / 100, h * 38 / 100, c(1)));
            let sun = s / 4;
            chain.push(format!("drawbox=x={}:y={}:w={sun}:h={sun}:color=white@0.35:t=fill", w * 70 / 100, h * 20 / 100));
        }
        Motif::Character => {
            for (k, fx) in [0.3f64, 0.55, 0.75].iter().enumerate() {
                let bw = s / 7;
                let bh = s * (45 + 8 * k as u32) / 100;
                let x = (w as f64 * fx) as u32;
                chain.push(format!("drawbox=x={x}:y={}:w={bw}:h={bh}:color={}@0.8:t=fill", h - bh, c(k + 2)));
                chain.push(format!("drawbox=x={}:y={}:w={}:h={}:color={}@0.85:t=fill", x + bw / 5, h - bh - bw * 3 / 4, bw * 3 / 5, bw * 3 / 5, c(k + 2)));
            }
        }
        Motif::Product if spec.image.is_none() => {
            let (pw, ph) = (w * 34 / 100, h * 46 / 100);
            let (px, py) = ((w - pw) / 2, (h - ph) / 2);
            chain.push(format!("drawbox=x={}:y={}:w={pw}:h={ph}:color=black@0.35:t=fill", px + s / 40, py + s / 40));
            chain.push(format!("drawbox=x={px}:y={py}:w={pw}:h={ph}:color={}@0.95:t=fill", c(2)));
            chain.push(format!("drawbox=x={px}:y={py}:w={pw}:h={}:color=white@0.25:t=fill", ph / 6));
        }
        _ => {}
    }
    chain.push("noise=alls=5:allf=0".into());
    chain.push("vignette=angle=PI/6".into());
    let mut graph = chain.join(",");
    let mut args: Vec<OsString> = Vec::new();
    let mut last = "[bg]".to_string();
    let mut text_file = None;
    graph = format!("{graph}{last}");
    if let Some(img) = &spec.image {
        args.extend(["-i".into(), img.as_os_str().to_owned()]);
        let (bw, bh) = (w * 62 / 100, h * 70 / 100);
        graph.push_str(&format!(
            ";[0:v]scale={bw}:{bh}:force_original_aspect_ratio=decrease,format=rgba[img];{last}[img]overlay=(W-w)/2:(H-h)/2:format=auto[fg]"
        ));
        last = "[fg]".into();
    }
    if let Some(title) = spec.title.as_ref().filter(|t| !t.trim().is_empty()) {
        let size = (s / 14).max(8);
        // Fit the product card (34% of the width) with a margin.
        let lines = wrap_text(title, ((w * 31 / 100) as f64 / (size as f64 * 0.62)).max(6.0) as usize, 3);
        let tf = work.join(format!("title-{}.txt", uuid::Uuid::new_v4().simple()));
        std::fs::write(&tf, lines.join("\n"))?;
        text_file = Some(tf.clone());
        let y = if spec.image.is_some() { "h*0.82".to_string() } else { "(h-text_h)/2".into() };
        graph.push_str(&format!(";{last}{}[txt]", drawtext_filter(&tf, &spec.font, size, "white", "(w-text_w)/2", &y, spec.image.is_some())));
        last = "[txt]".into();
    }
    graph.push_str(&format!(";{last}null[out]"));
    let script = work.join(format!("paint-{}.graph", uuid::Uuid::new_v4().simple()));
    std::fs::write(&script, &graph)?;
    args.extend(["-filter_complex_script".into(), script.as_os_str().to_owned()]);
    args.extend(["-map".into(), "[out]".into(), "-frames:v".into(), "1".into(), "-update".into(), "1".into()]);
    args.push(out.as_os_str().to_owned());
    let r = ff.run("paint", &args, None, None, |_| {});
    let _ = std::fs::remove_file(&script);
    if let Some(tf) = text_file {
        let _ = std::fs::remove_file(tf);
    }
    r
}
