//! Display type for the designer: a font face (the configured font file, else fontconfig's
//! bold sans), a line of text rasterised to a coverage mask, and outlined type.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec, Glyph, PxScale, ScaleFont};

use super::super::MediaError;

pub struct Face {
    font: FontVec,
}

/// A line of text as a coverage mask (0..1), tight to its ink plus `pad` pixels each side.
#[derive(Debug, Clone)]
pub struct Mask {
    pub width: u32,
    pub height: u32,
    pub px: Vec<f32>,
}

/// The font file to set display type in: `configured` when given, else the file fontconfig
/// picks for `typeface` (a pattern such as `DejaVu Serif:bold`; its own fallback when that
/// face is not installed), else for a bold sans, else none (the design then goes without
/// type).
pub fn display_font(configured: &str, typeface: &str) -> Option<PathBuf> {
    let pattern = if typeface.trim().is_empty() { "sans:bold" } else { typeface.trim() };
    configured_or(configured, pattern)
}

/// The font file drawtext sets running text in: `configured`, else fontconfig's sans.
pub fn text_font(configured: &str) -> Option<PathBuf> {
    configured_or(configured, "sans")
}

fn configured_or(configured: &str, pattern: &str) -> Option<PathBuf> {
    if !configured.trim().is_empty() {
        return Some(PathBuf::from(configured));
    }
    let out = std::process::Command::new("fc-match").args(["-f", "%{file}", pattern]).output().ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && path.is_file()).then_some(path)
}

impl Face {
    pub fn load(path: &Path) -> Result<Face, MediaError> {
        let bytes = std::fs::read(path)?;
        let font = FontVec::try_from_vec(bytes).map_err(|e| MediaError::BadMedia { path: path.display().to_string(), message: format!("not a font: {e}") })?;
        Ok(Face { font })
    }

    /// The characters of `text` this face has no glyph for (emoji, most scripts in a Latin
    /// font): drawn, they would be empty boxes.
    pub fn missing(&self, text: &str) -> Vec<char> {
        let mut out: Vec<char> = text.chars().filter(|c| !c.is_whitespace() && !c.is_control() && self.font.glyph_id(*c).0 == 0).collect();
        out.dedup();
        out
    }

    /// Width in pixels of `text` set at `px` with `tracking` (extra space per letter, in em).
    pub fn advance(&self, text: &str, px: f32, tracking: f32) -> f32 {
        self.glyphs(text, px, tracking).1
    }

    fn glyphs(&self, text: &str, px: f32, tracking: f32) -> (Vec<Glyph>, f32) {
        let sf = self.font.as_scaled(PxScale::from(px));
        let mut x = 0.0f32;
        let mut out = Vec::new();
        let mut prev = None;
        for c in text.chars().filter(|c| !c.is_control()) {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            out.push(id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, sf.ascent())));
            x += sf.h_advance(id) + tracking * px;
            prev = Some(id);
        }
        (out, (x - tracking * px).max(0.0))
    }

    /// Rasterise one line. The mask's height is the font's ascent + descent (so lines of
    /// one size share a baseline), its width the advance, plus `pad` on every side.
    pub fn line(&self, text: &str, px: f32, tracking: f32, pad: u32) -> Mask {
        let sf = self.font.as_scaled(PxScale::from(px));
        let (glyphs, adv) = self.glyphs(text, px, tracking);
        let width = adv.ceil() as u32 + 2 * pad;
        let height = (sf.ascent() - sf.descent()).ceil() as u32 + 2 * pad;
        let mut m = vec![0.0f32; width as usize * height as usize];
        for g in glyphs {
            if let Some(og) = self.font.outline_glyph(g) {
                let b = og.px_bounds();
                og.draw(|x, y, c| {
                    let (tx, ty) = (x as i64 + b.min.x as i64 + pad as i64, y as i64 + b.min.y as i64 + pad as i64);
                    if tx >= 0 && ty >= 0 && (tx as u32) < width && (ty as u32) < height {
                        let p = &mut m[ty as usize * width as usize + tx as usize];
                        *p = (*p + c).min(1.0);
                    }
                });
            }
        }
        Mask { width, height, px: m }
    }
}

impl Mask {
    /// Outlined type: the ring of width `stroke` around the letters (a round dilation of
    /// the mask, minus the mask).
    pub fn outline(&self, stroke: u32) -> Mask {
        let (w, h) = (self.width as i64, self.height as i64);
        let r = stroke as i64;
        let offsets: Vec<(i64, i64, f32)> = (-r..=r)
            .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
            .filter_map(|(dx, dy)| {
                let d = ((dx * dx + dy * dy) as f32).sqrt();
                (d <= r as f32 + 0.5).then(|| (dx, dy, (r as f32 + 0.5 - d).min(1.0)))
            })
            .collect();
        let mut out = vec![0.0f32; self.px.len()];
        for y in 0..h {
            for x in 0..w {
                let mut best = 0.0f32;
                for &(dx, dy, k) in &offsets {
                    let (sx, sy) = (x + dx, y + dy);
                    if sx >= 0 && sy >= 0 && sx < w && sy < h {
                        best = best.max(self.px[(sy * w + sx) as usize] * k);
                        if best >= 1.0 {
                            break;
                        }
                    }
                }
                let i = (y * w + x) as usize;
                out[i] = (best - self.px[i]).max(0.0);
            }
        }
        Mask { width: self.width, height: self.height, px: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face() -> Face {
        Face::load(&display_font("", "").expect("a system font (make deps installs DejaVu)")).unwrap()
    }

    #[test]
    fn a_line_has_ink_and_its_outline_surrounds_it() {
        let f = face();
        let m = f.line("Hello", 40.0, 0.0, 4);
        let ink: f32 = m.px.iter().sum();
        assert!(ink > 200.0, "{ink}");
        assert!((m.width as f32 - f.advance("Hello", 40.0, 0.0) - 8.0).abs() < 1.5);
        let o = m.outline(2);
        // The outline lies outside the letters.
        let overlap = m.px.iter().zip(&o.px).filter(|(a, _)| **a > 0.99).map(|(_, b)| *b).fold(0.0f32, f32::max);
        assert!(overlap < 0.02, "{overlap}");
        assert!(o.px.iter().sum::<f32>() > ink * 0.3);
    }

    #[test]
    fn a_typeface_pattern_picks_its_face_and_falls_back_to_a_bold_sans() {
        // make deps installs DejaVu (sans, sans bold, serif bold).
        let serif = display_font("", "DejaVu Serif:bold").unwrap();
        assert!(serif.to_string_lossy().contains("Serif"), "{}", serif.display());
        let sans = display_font("", "").unwrap();
        assert_ne!(serif, sans);
        // A face that is not installed still gives a font (fontconfig's fallback).
        assert!(display_font("", "No Such Face Anywhere:bold").is_some());
        // A configured file wins over any pattern.
        assert_eq!(display_font("/x/my.ttf", "DejaVu Serif:bold"), Some(PathBuf::from("/x/my.ttf")));
    }

    #[test]
    fn emoji_are_reported_missing() {
        let f = face();
        assert_eq!(f.missing("Run 🏃 fast"), vec!['🏃']);
        assert!(f.missing("Crème brûlée: 20% off!").is_empty());
    }
}
