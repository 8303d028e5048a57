//! Text that reads on any picture. White type needs a contrast of at least 4.5:1 (WCAG 2,
//! AA) against what is behind it; the brightest part of a clip behind a text box is
//! measured on the graded picture, and a black plate just opaque enough to bring it there
//! is put behind the text. A dark picture gets no plate (a soft shadow only).

use std::path::Path;

use super::{frames::thumbnails, Cube, Ffmpeg, MediaError};
use crate::domain::{contrast_ratio, grey_of_luminance, relative_luminance};

/// WCAG 2 AA for body text.
pub const MIN_CONTRAST: f64 = 4.5;
/// What the plate aims for: above the minimum, because chroma subsampling and the encoder
/// soften the edges of letters.
const TARGET_CONTRAST: f64 = 5.5;
/// Under this the plate is not worth drawing (a shadow is enough).
const MIN_PLATE: f64 = 0.12;
/// Behind text over a busy picture (other type, hard edges: a wide spread of luminance),
/// the plate is at least this dark, whatever the contrast says.
const BUSY_PLATE: f64 = 0.5;
const BUSY_SPREAD: f64 = 0.12;

/// What is behind a text box, measured: the brightest part and how busy it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behind {
    /// Relative luminance of the brightest part (95th percentile).
    pub bright: f64,
    /// 95th minus 5th percentile of relative luminance.
    pub spread: f64,
}

/// The plate behind white text on `behind`: `plate_alpha` of its brightest part, and at
/// least `BUSY_PLATE` over a busy picture.
pub fn plate_for(behind: Behind) -> Option<f64> {
    let busy = (behind.spread > BUSY_SPREAD).then_some(BUSY_PLATE);
    match (plate_alpha(behind.bright), busy) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// How opaque the black plate behind white text must be for the target contrast against a
/// backdrop whose brightest part has relative luminance `behind`; `None` when white text
/// already reaches it.
pub fn plate_alpha(behind: f64) -> Option<f64> {
    if contrast_ratio(1.0, behind) >= TARGET_CONTRAST {
        return None;
    }
    // A black plate at alpha a scales the backdrop's sRGB values by (1 - a).
    let allowed = grey_of_luminance(1.05 / TARGET_CONTRAST - 0.05);
    let grey = grey_of_luminance(behind);
    Some((1.0 - allowed / grey).clamp(MIN_PLATE, 1.0))
}

/// What is inside `rect` (fractions of the frame) over a clip, as the final cut shows
/// it: cropped to the frame's aspect and graded by `look`.
pub fn measure_behind(ff: &Ffmpeg, clip: &Path, aspect: (u32, u32), rect: (f64, f64, f64, f64), look: Option<&Cube>) -> Result<Behind, MediaError> {
    // A small picture is enough: the plate covers the whole box.
    let w = 160u32;
    let h = ((w as f64 * aspect.1 as f64 / aspect.0 as f64).round() as u32).max(2);
    let frames = thumbnails(ff, clip, w, h, 3.0)?;
    let (x0, y0) = ((rect.0.clamp(0.0, 1.0) * w as f64) as usize, (rect.1.clamp(0.0, 1.0) * h as f64) as usize);
    let (x1, y1) = ((rect.2.clamp(0.0, 1.0) * w as f64).ceil() as usize, (rect.3.clamp(0.0, 1.0) * h as f64).ceil() as usize);
    let mut lum = Vec::new();
    for f in &frames {
        for y in y0..y1.min(h as usize) {
            for x in x0..x1.min(w as usize) {
                let i = (y * w as usize + x) * 3;
                let c = [f[i], f[i + 1], f[i + 2]].map(|v| v as f64 / 255.0);
                lum.push(relative_luminance(look.map_or(c, |l| l.apply(c))));
            }
        }
    }
    if lum.is_empty() {
        return Ok(Behind { bright: 0.0, spread: 0.0 });
    }
    lum.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: usize| lum[(lum.len() - 1) * p / 100];
    Ok(Behind { bright: pct(95), spread: pct(95) - pct(5) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plate_brings_white_text_to_the_target_on_any_backdrop() {
        assert_eq!(plate_alpha(0.0), None);
        assert_eq!(plate_alpha(0.05), None);
        for behind in [0.15, 0.3, 0.6, 1.0] {
            let a = plate_alpha(behind).unwrap();
            let under = relative_luminance([grey_of_luminance(behind) * (1.0 - a); 3]);
            let c = contrast_ratio(1.0, under);
            assert!(c >= TARGET_CONTRAST - 1e-6, "{behind}: alpha {a}, contrast {c}");
        }
        // White needs a plate of a little over half.
        let a = plate_alpha(1.0).unwrap();
        assert!(a > 0.5 && a < 0.7, "{a}");
        // A dark but busy picture (type behind type) still gets a plate.
        assert_eq!(plate_for(Behind { bright: 0.05, spread: 0.01 }), None);
        assert_eq!(plate_for(Behind { bright: 0.05, spread: 0.2 }), Some(BUSY_PLATE));
        assert_eq!(plate_for(Behind { bright: 1.0, spread: 0.5 }), plate_alpha(1.0));
    }
}
