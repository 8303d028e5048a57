//! Motion design for the offline providers. A keyframe is a stack of layers — a backdrop of
//! palette gradients and geometric shapes, display type (stacked, centred or running in
//! marquee rows), and the product photo cut out as the hero with a soft shadow — that the
//! painter flattens into the still and records in it (a PNG text chunk, `DESIGN_KEY`). The
//! animator reads the record back and moves the layers apart: the camera moves the backdrop,
//! nearer layers move further (parallax), type and hero enter with eased motion timed to the
//! scene, and marquee rows run at a constant speed, so no stretch of a clip stands still.
//! Any other still (a remote model's, a user's) is animated as one plane.

mod cutout;
mod lettering;
mod raster;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::animate::{sample_window, Window};
use super::MediaError;
use crate::domain::Rng;
use crate::text::wrap_text;
pub use lettering::{display_font, text_font, Face};
use raster::{draw_sprite, luminance, mix, rgb8, Canvas, Placement, Rgb, Sprite};

/// The PNG text chunk a designed still carries its design in.
pub const DESIGN_KEY: &str = "admint-design";

/// How the elements of a design are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrangement {
    /// The hero (or the name) in the middle, a disc of the accent colour behind it.
    Spotlight,
    /// The name stacked large on the left third, the hero (if any) on the right.
    Stack,
    /// The name in rows that run across the frame in opposite directions.
    Marquee,
    /// A horizon: sky gradient, sun, hills (the environment reference).
    Horizon,
    /// Figures in the brand colours (the character reference).
    Figures,
}

/// Everything a designed still is made from. Deterministic: the same design renders the
/// same pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub width: u32,
    pub height: u32,
    pub seed: u64,
    /// The brand palette, `#rrggbb`, most important first (at least one).
    pub palette: Vec<String>,
    pub arrangement: Arrangement,
    /// A dark backdrop with light type, or the other way round.
    pub dark: bool,
    /// Display type (the product name); empty for none.
    pub title: String,
    /// The product photo to cut out as the hero.
    pub hero: Option<PathBuf>,
    /// The font the type is set in; none draws no type.
    pub font: Option<PathBuf>,
}

/// The three roles of a palette: a deep colour, a light one, and the accent (the most
/// colourful of the rest).
#[derive(Debug, Clone, Copy)]
struct Roles {
    deep: Rgb,
    light: Rgb,
    accent: Rgb,
}

/// How colourful a colour looks: its chroma (a dark navy has little, a pink a lot).
fn chroma(c: Rgb) -> f32 {
    c.iter().cloned().fold(0.0, f32::max) - c.iter().cloned().fold(1.0, f32::min)
}

/// WCAG contrast ratio of two colours.
fn contrast(a: Rgb, b: Rgb) -> f32 {
    crate::domain::contrast_ratio(luminance(a) as f64, luminance(b) as f64) as f32
}

fn roles(palette: &[String]) -> Roles {
    let mut cols: Vec<Rgb> = palette.iter().filter_map(|c| crate::domain::hex_rgb(c)).map(rgb8).collect();
    if cols.is_empty() {
        cols.push(rgb8([0xef, 0x23, 0x3c]));
    }
    let by_lum = |a: &Rgb, b: &Rgb| luminance(*a).total_cmp(&luminance(*b));
    let deepest = *cols.iter().min_by(|a, b| by_lum(a, b)).unwrap();
    let lightest = *cols.iter().max_by(|a, b| by_lum(a, b)).unwrap();
    let accent = *cols.iter().max_by(|a, b| chroma(**a).total_cmp(&chroma(**b))).unwrap();
    // A palette of one light colour still needs a deep one, and the other way round.
    let deep = if luminance(deepest) < 0.08 { deepest } else { mix(deepest, [0.04, 0.04, 0.07], 0.75) };
    let light = if luminance(lightest) > 0.6 { lightest } else { mix(lightest, [1.0; 3], 0.8) };
    // The accent must stand out from the deep backdrop.
    let accent = if contrast(accent, deep) < 2.0 { mix(accent, light, 0.5) } else { accent };
    Roles { deep, light, accent }
}

/// How a layer moves over a clip.
#[derive(Debug, Clone)]
struct Layer {
    sprite: Sprite,
    /// Top-left at rest, in canvas pixels.
    x: f64,
    y: f64,
    /// 1 moves with the backdrop; nearer layers (>1) move further.
    depth: f64,
    /// The entrance: starts at this time (s), from this offset (canvas pixels).
    enter_at: f64,
    enter_from: (f64, f64),
    /// Constant speed (canvas pixels per second): marquee rows run (from their rest
    /// position at t = 0); anything else glides through its rest position at mid-clip.
    drift: (f64, f64),
    /// Tiled along x with this step (marquee rows).
    repeat: Option<f64>,
}

/// How far a layer follows the camera: the backdrop 1; the hero further (it is nearer);
/// type much less, so it stays in the title-safe area through any move (0 would pin it
/// to the frame).
const HERO_DEPTH: f64 = 1.3;
const TYPE_DEPTH: f64 = 0.35;

/// How fast type and hero glide: a share of the canvas' short side per second.
const GLIDE: f64 = 0.026;

/// How long an entrance takes.
const ENTRANCE_S: f64 = 0.7;

/// The marquee's rows keep to this share of the frame's height (top, bottom): the scene
/// text sits below 0.72 (or above 0.16 with burned captions), and the camera's closest
/// framings (a dolly's 1.38× push a little above the centre, a zoom's 1.32×) carry 0.63
/// out to at most 0.715 and 0.25 to at least 0.17.
const MARQUEE_BAND: (f64, f64) = (0.25, 0.63);
/// A marquee row's drawn height in font sizes (ascent, descent and padding).
const MARQUEE_LINE_BOX: f64 = 1.25;

fn ease_out_cubic(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    1.0 - (1.0 - t).powi(3)
}

/// A design rendered into its layers, ready to be drawn at any time and camera window.
pub struct Layers {
    width: u32,
    height: u32,
    backdrop: image::RgbImage,
    layers: Vec<Layer>,
    /// When every entrance has finished.
    pub settled_s: f64,
    /// The clip's length (glides pass their rest position half way through).
    duration_s: f64,
}

impl Design {
    /// The demo's design at `width` x `height` (pink and navy, "AirRun Pro", spotlit), for
    /// benches and tests that need a designed still.
    pub fn sample(width: u32, height: u32) -> Design {
        Design {
            width,
            height,
            seed: 3,
            palette: vec!["#ff6eb4".into(), "#19235a".into(), "#f5f5f5".into()],
            arrangement: Arrangement::Spotlight,
            dark: true,
            title: "AirRun Pro".into(),
            hero: None,
            font: display_font("", ""),
        }
    }

    /// Render the layers. `duration_s` bounds the marquee's travel (the rows always cover
    /// the frame); 0 for a still.
    pub fn layers(&self, duration_s: f64) -> Result<Layers, MediaError> {
        let (w, h) = (self.width as f64, self.height as f64);
        let s = w.min(h);
        let r = roles(&self.palette);
        let mut rng = Rng::new(self.seed ^ 0x00D3_516E);
        let (bg0, bg1, ink) = if self.dark { (r.deep, mix(r.deep, r.accent, 0.35), r.light) } else { (r.light, mix(r.light, r.accent, 0.25), r.deep) };
        let angle = (rng.unit() * std::f64::consts::TAU) as f32;
        let mut back = Canvas::gradient(self.width, self.height, bg0, bg1, angle);
        let face = match &self.font {
            Some(p) if !self.title.trim().is_empty() => Some(Face::load(p)?),
            _ => None,
        };
        // Type the face cannot draw is left out, not drawn as boxes.
        let title: String = match &face {
            Some(f) => {
                let missing = f.missing(&self.title);
                self.title.chars().filter(|c| !missing.contains(c)).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
            }
            None => String::new(),
        };
        let mut layers = Vec::new();
        let hero = match &self.hero {
            Some(p) => {
                let (mw, mh) = match self.arrangement {
                    Arrangement::Stack if h > w => (w * 0.8, h * 0.36),
                    Arrangement::Stack => (w * 0.42, h * 0.62),
                    _ => (w * 0.55, h * 0.62),
                };
                Some(cutout::hero(p, mw as u32, mh as u32, mix(r.deep, [0.0; 3], 0.6))?.0)
            }
            None => None,
        };
        let f32s = |v: f64| v as f32;
        match self.arrangement {
            Arrangement::Spotlight => {
                let (cx, cy) = (w * (0.5 + 0.04 * (rng.unit() - 0.5)), h * 0.5);
                back.glow(f32s(cx), f32s(cy), f32s(s * 0.9), mix(bg1, [1.0; 3], 0.25), 0.6);
                back.disc(f32s(cx), f32s(cy), f32s(s * 0.4), r.accent, 1.0);
                back.ring(f32s(cx), f32s(cy), f32s(s * 0.47), f32s(s * 0.006), ink, 0.45);
                back.dots((f32s(w * 0.04), f32s(h * 0.06), f32s(w * 0.2), f32s(h * 0.26)), 6, 5, f32s(s * 0.006), ink, 0.35);
                if let Some(face) = &face.as_ref().filter(|_| !title.is_empty()) {
                    if hero.is_some() {
                        // Giant outlined name behind the product.
                        let px = fit(face, &title, w * 0.92, h * 0.3);
                        let m = face.line(&title, px as f32, 0.02, 8).outline((px / 60.0).max(1.0) as u32);
                        let sp = Sprite::from_mask(m.width, m.height, &m.px, ink, 0.55);
                        layers.push(Layer::at((w - sp.width as f64) / 2.0, (h - sp.height as f64) / 2.0, sp, 0.8, 0.15, (0.0, h * 0.04)));
                    } else {
                        // The name inside the disc, in whichever of the deep and light
                        // colours stands out more from the accent.
                        let on_disc = if contrast(r.light, r.accent) >= contrast(r.deep, r.accent) { r.light } else { r.deep };
                        let lines = wrap_text(&title, 12, 2);
                        let px = lines.iter().map(|l| fit(face, l, s * 0.6, s * 0.2)).fold(f64::MAX, f64::min);
                        let top = cy - px * 1.15 * lines.len() as f64 / 2.0;
                        for (i, l) in lines.iter().enumerate() {
                            let m = face.line(l, px as f32, 0.0, 4);
                            let sp = Sprite::from_mask(m.width, m.height, &m.px, on_disc, 1.0);
                                    layers.push(Layer::at(cx - sp.width as f64 / 2.0, top + i as f64 * px * 1.15, sp, TYPE_DEPTH, 0.15 + 0.12 * i as f64, (0.0, h * 0.06)));
                        }
                    }
                }
                if let Some(sp) = hero {
                    layers.push(Layer::at(cx - sp.width as f64 / 2.0, cy - sp.height as f64 / 2.0 + h * 0.02, sp, HERO_DEPTH, 0.35, (0.0, h * 0.05)));
                }
            }
            Arrangement::Stack => {
                // Landscape: the name on the left, the hero on the right; portrait: the
                // name above, the hero below.
                let vertical = h > w;
                let (dx, dy) = if vertical { (w * 0.5, h * 0.74) } else { (w * 0.82, h * 0.52) };
                back.disc(f32s(dx), f32s(dy), f32s(s * 0.5), r.accent, 0.9);
                back.ring(f32s(dx), f32s(dy), f32s(s * 0.6), f32s(s * 0.005), ink, 0.4);
                back.band(f32s(w * 0.1), f32s(h * 0.9), -0.35, f32s(s * 0.05), r.accent, 0.25);
                if let Some(face) = face.as_ref().filter(|_| !title.is_empty()) {
                    // A word a line, as large as its half of the frame allows.
                    let lines = wrap_text(&title, title.split_whitespace().map(|w| w.chars().count()).max().unwrap_or(1), 3);
                    let (max_w, max_h) = if vertical { (w * 0.8, h * 0.11) } else { (w * if hero.is_some() { 0.4 } else { 0.48 }, h * 0.22) };
                    let px = lines.iter().map(|l| fit(face, l, max_w, max_h)).fold(f64::MAX, f64::min);
                    let pitch = px * 1.08;
                    let block = pitch * lines.len() as f64;
                    let top = if vertical { h * 0.3 - block / 2.0 } else { (h - block) / 2.0 };
                    for (i, l) in lines.iter().enumerate() {
                        let m = face.line(l, px as f32, -0.01, 4);
                        let outlined = i % 2 == 1 && lines.len() > 1;
                        let m = if outlined { m.outline((px / 45.0).max(1.0) as u32) } else { m };
                        let sp = Sprite::from_mask(m.width, m.height, &m.px, ink, 1.0);
                        layers.push(Layer::at(w * 0.12, top + i as f64 * pitch, sp, TYPE_DEPTH, 0.1 + 0.14 * i as f64, (-w * 0.08, 0.0)));
                    }
                }
                if let Some(sp) = hero {
                    let (hx, hy) = if vertical { (w * 0.5, h * 0.7) } else { (w * 0.7, h * 0.5) };
                    layers.push(Layer::at(hx - sp.width as f64 / 2.0, hy - sp.height as f64 / 2.0, sp, HERO_DEPTH, 0.35, (w * 0.06, 0.0)));
                }
            }
            Arrangement::Marquee => {
                for k in 0..3 {
                    back.band(f32s(w * (0.2 + 0.3 * k as f64)), f32s(h * 0.5), 1.2, f32s(s * 0.08), r.accent, 0.18);
                }
                if let Some(face) = face.as_ref().filter(|_| !title.is_empty()) {
                    let unit = format!("{title}  \u{2022}  ");
                    // Three rows in the middle band, clear of the scene's text (at the
                    // bottom, or at the top when captions are burned) even when the
                    // camera is at its closest.
                    let (top, bottom) = MARQUEE_BAND;
                    let rows = 3;
                    let px = (w * 0.3).min((bottom - top) * h / (1.15 * (rows - 1) as f64 + MARQUEE_LINE_BOX));
                    let fill = face.line(&unit, px as f32, 0.0, 6);
                    let outline = fill.outline((px / 50.0).max(1.0) as u32);
                    let step = face.advance(&unit, px as f32, 0.0) as f64;
                    let behind = if hero.is_some() { 0.4 } else { 1.0 };
                    let mid = rows / 2;
                    for row in 0..rows {
                        let m = if row % 2 == mid % 2 { &fill } else { &outline };
                        let colour = if row == mid { r.accent } else { ink };
                        let sp = Sprite::from_mask(m.width, m.height, &m.px, colour, behind as f32);
                        let dir = if row % 2 == 0 { 1.0 } else { -1.0 };
                        // Fast enough to read as motion, slow enough to read the words; the
                        // rows always cover the frame for the whole clip.
                        let speed = (w * 0.045).min(step / duration_s.max(1.0));
                        let y = h * (top + bottom) / 2.0 + (row as f64 - mid as f64) * px * 1.15 - m.height as f64 / 2.0;
                        let mut l = Layer::at(-step * (rng.unit() + 1.0), y, sp, 0.7, 0.1 * row as f64, (dir * w * 0.1, 0.0));
                        l.drift = (dir * speed, 0.0);
                        l.repeat = Some(step);
                        layers.push(l);
                    }
                }
                if let Some(sp) = hero {
                    layers.push(Layer::at((w - sp.width as f64) / 2.0, (h - sp.height as f64) / 2.0, sp, HERO_DEPTH, 0.35, (0.0, h * 0.05)));
                }
            }
            Arrangement::Horizon => {
                back = Canvas::gradient(self.width, self.height, mix(r.light, [1.0; 3], 0.3), mix(r.accent, r.light, 0.4), std::f32::consts::FRAC_PI_2);
                let (sx, sy) = (w * (0.6 + 0.2 * rng.unit()), h * 0.32);
                back.glow(f32s(sx), f32s(sy), f32s(s * 0.6), [1.0, 0.97, 0.9], 0.7);
                back.disc(f32s(sx), f32s(sy), f32s(s * 0.1), [1.0, 0.98, 0.92], 1.0);
                back.disc(f32s(w * 0.25), f32s(h * 1.55), f32s(h * 0.95), mix(r.accent, r.deep, 0.4), 1.0);
                back.disc(f32s(w * 0.85), f32s(h * 1.7), f32s(h * 1.05), mix(r.deep, r.accent, 0.2), 1.0);
            }
            Arrangement::Figures => {
                back.glow(f32s(w * 0.5), f32s(h * 0.45), f32s(s * 0.8), mix(bg1, [1.0; 3], 0.2), 0.5);
                let cols = [r.accent, ink, mix(r.accent, ink, 0.5)];
                for (k, fx) in [0.3f64, 0.5, 0.7].iter().enumerate() {
                    let (x, head) = (w * fx, s * (0.075 + 0.01 * k as f64));
                    let top = h * (0.38 - 0.03 * k as f64);
                    back.disc(f32s(x), f32s(top), f32s(head), cols[k], 1.0);
                    back.disc(f32s(x), f32s(top + head * 1.3 + s * 0.42), f32s(s * 0.42 - head * 0.1), cols[k], 0.95);
                }
            }
        }
        // Nothing stands still: type and hero glide at a speed the eye (and the frozen
        // gate) reads as motion, through their rest position at mid-clip.
        let glide = s * GLIDE;
        for l in layers.iter_mut().filter(|l| l.repeat.is_none()) {
            l.drift = match self.arrangement {
                Arrangement::Stack if l.depth == TYPE_DEPTH => (glide, 0.0),
                _ => (0.0, -glide),
            };
        }
        let settled_s = layers.iter().map(|l| l.enter_at + ENTRANCE_S).fold(0.0, f64::max);
        Ok(Layers { width: self.width, height: self.height, backdrop: back.to_rgb8(), layers, settled_s, duration_s })
    }

    /// Paint the still (every entrance finished, the whole canvas) to `out` as a PNG that
    /// records this design.
    pub fn paint(&self, out: &Path) -> Result<(), MediaError> {
        let layers = self.layers(0.0)?;
        let mut px = vec![0u8; self.width as usize * self.height as usize * 3];
        layers.frame(Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 }, layers.settled_s, self.width, self.height, &mut px, &mut Default::default());
        let json = serde_json::to_string(self).map_err(|e| MediaError::Failed { what: "design".into(), message: e.to_string() })?;
        let png_err = |e: png::EncodingError| MediaError::Failed { what: "design".into(), message: e.to_string() };
        let file = std::io::BufWriter::new(std::fs::File::create(out)?);
        let mut enc = png::Encoder::new(file, self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // fdeflate's PNG-tuned mode: a keyframe in a fraction of the default's time.
        enc.set_compression(png::Compression::Fast);
        enc.add_itxt_chunk(DESIGN_KEY.into(), json).map_err(png_err)?;
        let mut writer = enc.write_header().map_err(png_err)?;
        writer.write_image_data(&px).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        Ok(())
    }

    /// The design a still records, if it is one of the designer's (and its hero and font
    /// are still there to draw it again).
    pub fn read(still: &Path) -> Option<Design> {
        let file = std::io::BufReader::new(std::fs::File::open(still).ok()?);
        let reader = png::Decoder::new(file).read_info().ok()?;
        let chunk = reader.info().utf8_text.iter().find(|c| c.keyword == DESIGN_KEY)?;
        let d: Design = serde_json::from_str(&chunk.get_text().ok()?).ok()?;
        let present = |p: &Option<PathBuf>| p.as_ref().is_none_or(|p| p.is_file());
        (present(&d.hero) && present(&d.font)).then_some(d)
    }
}

/// The largest size (px) at which `text` fits `max_w` wide and `max_h` tall.
fn fit(face: &Face, text: &str, max_w: f64, max_h: f64) -> f64 {
    let at100 = face.advance(text, 100.0, 0.0).max(1.0) as f64;
    (100.0 * max_w / at100).min(max_h).max(8.0)
}

impl Layer {
    fn at(x: f64, y: f64, sprite: Sprite, depth: f64, enter_at: f64, enter_from: (f64, f64)) -> Layer {
        Layer { sprite, x, y, depth, enter_at, enter_from, drift: (0.0, 0.0), repeat: None }
    }
}

/// Scratch space for drawing frames.
pub type FrameScratch = super::animate::Scratch;

impl Layers {
    /// Draw the frame at time `t` (seconds into the clip) with the camera looking at `win`
    /// (normalised canvas coordinates) into `out` (`ow` x `oh` RGB).
    pub fn frame(&self, win: Window, t: f64, ow: u32, oh: u32, out: &mut [u8], scratch: &mut FrameScratch) {
        sample_window(&self.backdrop, win, ow, oh, out, scratch);
        let (cw, ch) = (self.width as f64, self.height as f64);
        let (cx, cy) = (win.x + win.w / 2.0, win.y + win.h / 2.0);
        for l in &self.layers {
            let p = ((t - l.enter_at) / ENTRANCE_S).clamp(0.0, 1.0);
            if p <= 0.0 {
                continue;
            }
            let e = ease_out_cubic(p);
            let opacity = (p * 1.6).min(1.0) as f32;
            // Nearer layers travel further and grow faster than the backdrop.
            let (wd, hd) = (win.w.powf(l.depth), win.h.powf(l.depth));
            let (ox, oy) = ((0.5 + (cx - 0.5) * l.depth - wd / 2.0) * cw, (0.5 + (cy - 0.5) * l.depth - hd / 2.0) * ch);
            let scale = ow as f64 / (wd * cw);
            let since = if l.repeat.is_some() { t } else { t - self.duration_s / 2.0 };
            let x = l.x + l.enter_from.0 * (1.0 - e) + l.drift.0 * since;
            let y = l.y + l.enter_from.1 * (1.0 - e) + l.drift.1 * since;
            let place = |x: f64| Placement { origin_x: ox - x, origin_y: oy - y, scale, opacity };
            match l.repeat {
                Some(step) if step > 0.0 => {
                    // Only the tiles that reach the visible part of the layer.
                    let (v0, v1) = (ox, ox + wd * cw);
                    let k0 = ((v0 - x - l.sprite.width as f64) / step).floor() as i64;
                    let k1 = ((v1 - x) / step).ceil() as i64;
                    for k in k0..=k1 {
                        draw_sprite(out, ow, oh, &l.sprite, place(x + k as f64 * step));
                    }
                }
                _ => draw_sprite(out, ow, oh, &l.sprite, place(x)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(arrangement: Arrangement, hero: Option<PathBuf>) -> Design {
        Design {
            width: 320,
            height: 180,
            seed: 7,
            palette: vec!["#f4a6c6".into(), "#8d99ae".into(), "#2b2d42".into()],
            arrangement,
            dark: true,
            title: "AirRun Pro 🏃".into(),
            hero,
            font: display_font("", ""),
        }
    }

    /// `DESIGN_DUMP=dir cargo test --lib design::tests::dump` writes every arrangement to look at.
    #[test]
    fn dump() {
        let Ok(dir) = std::env::var("DESIGN_DUMP") else { return };
        for (i, a) in [Arrangement::Spotlight, Arrangement::Stack, Arrangement::Marquee, Arrangement::Horizon, Arrangement::Figures].into_iter().enumerate() {
            for dark in [true, false] {
                let d = Design { width: 1200, height: 676, dark, title: "AirRun Pro".into(), ..design(a, std::env::var("DESIGN_HERO").ok().map(PathBuf::from)) };
                d.paint(&Path::new(&dir).join(format!("{i}-{a:?}-{dark}.png"))).unwrap();
            }
        }
    }

    #[test]
    fn a_designed_still_records_its_design_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = design(Arrangement::Stack, None);
        let p = dir.path().join("k.png");
        d.paint(&p).unwrap();
        assert_eq!(Design::read(&p), Some(d));
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (320, 180));
        // A still from anywhere else carries no design.
        let plain = dir.path().join("plain.png");
        img.save(&plain).unwrap();
        assert_eq!(Design::read(&plain), None);
    }

    #[test]
    fn every_arrangement_draws_type_or_shapes_over_a_varied_backdrop() {
        for a in [Arrangement::Spotlight, Arrangement::Stack, Arrangement::Marquee, Arrangement::Horizon, Arrangement::Figures] {
            let layers = design(a, None).layers(4.0).unwrap();
            let mut px = vec![0u8; 320 * 180 * 3];
            layers.frame(Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 }, layers.settled_s, 320, 180, &mut px, &mut Default::default());
            let luma: Vec<f64> = px.chunks(3).map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64).collect();
            let mean = luma.iter().sum::<f64>() / luma.len() as f64;
            let sd = (luma.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / luma.len() as f64).sqrt();
            assert!(sd > 20.0, "{a:?} is flat: sd {sd}");
            if matches!(a, Arrangement::Spotlight | Arrangement::Stack | Arrangement::Marquee) {
                assert!(!layers.layers.is_empty(), "{a:?} has no type");
            }
        }
    }

    #[test]
    fn type_enters_then_marquee_rows_keep_moving() {
        let layers = design(Arrangement::Marquee, None).layers(6.0).unwrap();
        let full = Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 };
        let at = |t: f64| {
            let mut px = vec![0u8; 320 * 180 * 3];
            layers.frame(full, t, 320, 180, &mut px, &mut Default::default());
            px
        };
        let diff = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| (*x as i32 - *y as i32).abs() as f64).sum::<f64>() / a.len() as f64;
        // Before the entrance: the backdrop only; after it, type.
        assert!(diff(&at(0.0), &at(1.5)) > 3.0, "{}", diff(&at(0.0), &at(1.5)));
        // Long after the entrances, a still camera still sees the rows run.
        assert!(diff(&at(4.0), &at(4.0 + 1.0 / 30.0)) > 0.3, "{}", diff(&at(4.0), &at(4.0 + 1.0 / 30.0)));
    }

    #[test]
    fn marquee_rows_stay_in_their_band_clear_of_the_scene_text() {
        for (w, h) in [(1920u32, 1080u32), (1080, 1920), (1080, 1080)] {
            let mut d = design(Arrangement::Marquee, None);
            (d.width, d.height) = (w, h);
            let layers = d.layers(6.0).unwrap();
            assert_eq!(layers.layers.len(), 3);
            for l in &layers.layers {
                let (y0, y1) = (l.y / h as f64, (l.y + l.sprite.height as f64) / h as f64);
                assert!(y0 >= MARQUEE_BAND.0 - 0.01 && y1 <= MARQUEE_BAND.1 + 0.01, "{w}x{h}: row spans {y0:.3}..{y1:.3}");
                // At the camera's closest (the strongest dolly, zoom or pan) the row stays off the text.
                for camera in [crate::domain::CameraMove::Dolly, crate::domain::CameraMove::ZoomIn, crate::domain::CameraMove::PanLeft] {
                    let closest = crate::media::camera_window(camera, 1.0, 1.0);
                    let seen = |y: f64| (y - closest.y) / closest.h;
                    assert!(seen(y0) >= 0.16 && seen(y1) <= 0.72, "{w}x{h} {camera:?}: at the closest a row spans {:.3}..{:.3}", seen(y0), seen(y1));
                }
            }
        }
    }

    #[test]
    fn stacked_and_spotlit_type_glides_after_its_entrance() {
        for a in [Arrangement::Stack, Arrangement::Spotlight] {
            let layers = design(a, None).layers(6.0).unwrap();
            let full = Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 };
            let at = |t: f64| {
                let mut px = vec![0u8; 320 * 180 * 3];
                layers.frame(full, t, 320, 180, &mut px, &mut Default::default());
                px
            };
            let moved = at(3.0).iter().zip(at(3.5).iter()).filter(|(x, y)| x != y).count();
            assert!(moved > 200, "{a:?}: {moved} pixels changed in half a second");
        }
    }

    #[test]
    fn the_hero_is_cut_out_and_stands_in_front() {
        let dir = tempfile::tempdir().unwrap();
        let shoe = image::RgbImage::from_fn(200, 120, |x, y| {
            let (u, v) = ((x as f32 - 100.0) / 70.0, (y as f32 - 60.0) / 35.0);
            if u * u + v * v < 1.0 { image::Rgb([20, 200, 60]) } else { image::Rgb([255, 255, 255]) }
        });
        let p = dir.path().join("shoe.png");
        shoe.save(&p).unwrap();
        let layers = design(Arrangement::Spotlight, Some(p)).layers(4.0).unwrap();
        let mut px = vec![0u8; 320 * 180 * 3];
        layers.frame(Window { x: 0.0, y: 0.0, w: 1.0, h: 1.0 }, layers.settled_s, 320, 180, &mut px, &mut Default::default());
        let at = |x: usize, y: usize| &px[(y * 320 + x) * 3..(y * 320 + x) * 3 + 3];
        // The product's green in the middle; no studio white anywhere.
        let c = at(160, 93);
        assert!(c[1] > 150 && c[0] < 80, "{c:?}");
        assert!(!px.chunks(3).any(|p| p.iter().all(|v| *v > 250)), "the studio background was not cut away");
    }
}
