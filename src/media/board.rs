//! The mood board: how well a candidate image carries a palette (the rule `--auto`
//! picks by), and a contact sheet of a board's candidates.

use std::path::Path;

use super::MediaError;
use crate::domain::hex_rgb;

/// How much of `palette` a picture carries, 0..1: for each palette colour, the share of
/// the picture's pixels (on a 48×48 thumbnail) within a small distance of it, averaged.
/// Deterministic; a picture without the palette's colours scores near 0.
pub fn palette_fit(image: &Path, palette: &[String]) -> Result<f64, MediaError> {
    let bad = |message: String| MediaError::BadImage { path: image.display().to_string(), message };
    let img = image::open(image).map_err(|e| bad(e.to_string()))?.thumbnail_exact(48, 48).to_rgb8();
    let colours: Vec<[u8; 3]> = palette.iter().filter_map(|c| hex_rgb(c)).collect();
    if colours.is_empty() {
        return Ok(0.0);
    }
    let n = (img.width() * img.height()).max(1) as f64;
    let near = |c: &[u8; 3]| {
        img.pixels()
            .filter(|p| {
                let d: i32 = (0..3).map(|i| (p[i] as i32 - c[i] as i32).pow(2)).sum();
                d <= 48 * 48 * 3
            })
            .count() as f64
            / n
    };
    Ok(colours.iter().map(near).sum::<f64>() / colours.len() as f64)
}

/// The index of the candidate that carries `palette` best (the first of equals).
pub fn best_fit(images: &[&Path], palette: &[String]) -> Result<(usize, f64), MediaError> {
    let mut best = (0, f64::MIN);
    for (i, p) in images.iter().enumerate() {
        let f = palette_fit(p, palette)?;
        if f > best.1 + 1e-12 {
            best = (i, f);
        }
    }
    Ok(best)
}

/// A contact sheet: one row per slot, its candidates side by side at `thumb_h` pixels
/// high, the picked one framed in `frame` (RGB). Rows are (images, picked index).
pub fn contact_sheet(rows: &[(Vec<&Path>, Option<usize>)], thumb_h: u32, frame: [u8; 3]) -> Result<image::RgbImage, MediaError> {
    let gap = 6u32;
    let mut thumbs: Vec<Vec<image::RgbImage>> = Vec::new();
    for (images, _) in rows {
        let mut row = Vec::new();
        for p in images {
            let img = image::open(p).map_err(|e| MediaError::BadImage { path: p.display().to_string(), message: e.to_string() })?;
            let w = (img.width() as f64 * thumb_h as f64 / img.height().max(1) as f64).round().max(1.0) as u32;
            row.push(img.resize_exact(w, thumb_h, image::imageops::FilterType::Triangle).to_rgb8());
        }
        thumbs.push(row);
    }
    let width = thumbs.iter().map(|r| r.iter().map(|t| t.width() + gap).sum::<u32>() + gap).max().unwrap_or(gap).max(1);
    let height = (thumbs.len() as u32 * (thumb_h + gap) + gap).max(1);
    let mut sheet = image::RgbImage::from_pixel(width, height, image::Rgb([24, 24, 28]));
    for (r, row) in thumbs.iter().enumerate() {
        let y = gap + r as u32 * (thumb_h + gap);
        let mut x = gap;
        for (i, t) in row.iter().enumerate() {
            if rows[r].1 == Some(i) {
                let (x0, y0) = (x.saturating_sub(3), y.saturating_sub(3));
                for yy in y0..(y + thumb_h + 3).min(height) {
                    for xx in x0..(x + t.width() + 3).min(width) {
                        sheet.put_pixel(xx, yy, image::Rgb(frame));
                    }
                }
            }
            image::imageops::replace(&mut sheet, t, x as i64, y as i64);
            x += t.width() + gap;
        }
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_candidate_with_the_palette_wins_and_the_sheet_frames_the_pick() {
        let d = tempfile::tempdir().unwrap();
        let save = |name: &str, rgb: [u8; 3]| {
            let p = d.path().join(name);
            image::RgbImage::from_pixel(40, 30, image::Rgb(rgb)).save(&p).unwrap();
            p
        };
        let (grey, pink, navy) = (save("g.png", [128, 128, 128]), save("p.png", [255, 110, 180]), save("n.png", [27, 27, 47]));
        let palette = vec!["#ff6eb4".to_string()];
        assert_eq!(best_fit(&[&grey, &pink, &navy], &palette).unwrap().0, 1);
        assert!(palette_fit(&grey, &palette).unwrap() < 0.01);
        assert_eq!(best_fit(&[&grey, &grey], &palette).unwrap().0, 0, "equals: the first");
        let sheet = contact_sheet(&[(vec![&grey, &pink], Some(1)), (vec![&navy], None)], 30, [255, 220, 0]).unwrap();
        assert_eq!(sheet.height(), 2 * 36 + 6);
        // The frame around the second candidate of the first row.
        let x = 6 + 40 + 6 - 2;
        assert_eq!(sheet.get_pixel(x, 20).0, [255, 220, 0]);
        assert_eq!(sheet.get_pixel(6 + 40 + 6 + 10, 20).0, [255, 110, 180]);
    }
}
