//! The product photo as the hero of a design: cut out from a plain background (a studio
//! packshot: the border is one colour, flood-filled away from the edges inwards), or, when
//! the photo has a scene behind it, kept whole as a card with rounded corners; either way
//! with a soft drop shadow.

use std::path::Path;

use image::imageops::FilterType;

use super::raster::{blur, Rgb, Sprite};
use super::super::MediaError;

/// How far (0..255, RGB distance) a pixel may be from the border's colour and still count
/// as background.
const BACKGROUND_TOLERANCE: f32 = 38.0;

/// The photo's alpha: its own when it has transparency, else the cut-out of a plain
/// background, else a rounded card. Also says which one it was.
fn alpha_of(img: &image::RgbaImage) -> (Vec<f32>, Kind) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let own: Vec<f32> = img.pixels().map(|p| p.0[3] as f32 / 255.0).collect();
    if own.iter().any(|a| *a < 0.9) {
        return (own, Kind::Transparent);
    }
    let border: Vec<[f32; 3]> = (0..w)
        .flat_map(|x| [(x, 0), (x, h - 1)])
        .chain((0..h).flat_map(|y| [(0, y), (w - 1, y)]))
        .map(|(x, y)| img.get_pixel(x as u32, y as u32).0)
        .map(|p| [p[0] as f32, p[1] as f32, p[2] as f32])
        .collect();
    let median = |c: usize| {
        let mut v: Vec<f32> = border.iter().map(|p| p[c]).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let bg = [median(0), median(1), median(2)];
    let dist = |p: &image::Rgba<u8>| ((p.0[0] as f32 - bg[0]).powi(2) + (p.0[1] as f32 - bg[1]).powi(2) + (p.0[2] as f32 - bg[2]).powi(2)).sqrt();
    let plain = border.iter().filter(|p| ((p[0] - bg[0]).powi(2) + (p[1] - bg[1]).powi(2) + (p[2] - bg[2]).powi(2)).sqrt() < BACKGROUND_TOLERANCE * 0.6).count();
    if (plain as f32) < border.len() as f32 * 0.9 {
        // A photo with a scene in it: keep it whole, corners rounded.
        let r = (w.min(h) as f32 * 0.05).max(2.0);
        let a = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let qx = (r - px).max(px - (w as f32 - r)).max(0.0);
                let qy = (r - py).max(py - (h as f32 - r)).max(0.0);
                (0.5 - (qx.hypot(qy) - r)).clamp(0.0, 1.0)
            })
            .collect();
        return (a, Kind::Card);
    }
    // Flood the background in from the border, so a white lace inside a shoe on white stays.
    let mut alpha = vec![1.0f32; w * h];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for x in 0..w {
        stack.push((x, 0));
        stack.push((x, h - 1));
    }
    for y in 0..h {
        stack.push((0, y));
        stack.push((w - 1, y));
    }
    while let Some((x, y)) = stack.pop() {
        let i = y * w + x;
        if alpha[i] == 0.0 || dist(img.get_pixel(x as u32, y as u32)) >= BACKGROUND_TOLERANCE {
            continue;
        }
        alpha[i] = 0.0;
        if x > 0 {
            stack.push((x - 1, y));
        }
        if x + 1 < w {
            stack.push((x + 1, y));
        }
        if y > 0 {
            stack.push((x, y - 1));
        }
        if y + 1 < h {
            stack.push((x, y + 1));
        }
    }
    // A one-pixel feather, so the edge is not stair-stepped.
    blur(&mut alpha, w as u32, h as u32, 1);
    (alpha, Kind::CutOut)
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// The photo had its own transparency.
    Transparent,
    /// Cut out from a plain background.
    CutOut,
    /// A photo with a scene behind it, kept whole with rounded corners.
    Card,
}

/// The hero sprite: the product fitted inside `max_w` x `max_h`, with a drop shadow of
/// colour `shadow` below and behind it. Returns the sprite and the kind of cut.
pub fn hero(path: &Path, max_w: u32, max_h: u32, shadow: Rgb) -> Result<(Sprite, Kind), MediaError> {
    let img = image::open(path).map_err(|e| MediaError::BadImage { path: path.display().to_string(), message: e.to_string() })?.to_rgba8();
    if img.width() < 2 || img.height() < 2 {
        return Err(MediaError::BadImage { path: path.display().to_string(), message: "image is too small".into() });
    }
    let (alpha, kind) = alpha_of(&img);
    let w = img.width() as usize;
    // Crop to what is left, premultiplied (so resizing does not bleed the old background in).
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, a) in alpha.iter().enumerate() {
        if *a > 0.02 {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    if x0 >= x1 || y0 >= y1 {
        return Err(MediaError::BadImage { path: path.display().to_string(), message: "nothing is left after removing the background".into() });
    }
    let mut pre = image::Rgba32FImage::new((x1 - x0) as u32, (y1 - y0) as u32);
    for (x, y, p) in pre.enumerate_pixels_mut() {
        let s = img.get_pixel(x + x0 as u32, y + y0 as u32).0;
        let a = alpha[(y as usize + y0) * w + x as usize + x0];
        p.0 = [s[0] as f32 / 255.0 * a, s[1] as f32 / 255.0 * a, s[2] as f32 / 255.0 * a, a];
    }
    let k = (max_w as f32 / pre.width() as f32).min(max_h as f32 / pre.height() as f32);
    let (tw, th) = (((pre.width() as f32 * k).round() as u32).max(1), ((pre.height() as f32 * k).round() as u32).max(1));
    let fitted = image::imageops::resize(&pre, tw, th, FilterType::Lanczos3);
    let product = Sprite { width: tw, height: th, px: fitted.pixels().map(|p| p.0.map(|v| v.clamp(0.0, 1.0))).map(|[r, g, b, a]| [r.min(a), g.min(a), b.min(a), a]).collect() };
    // The shadow: the silhouette blurred, dropped down and a little right.
    let r = ((th as f32) * 0.035).max(1.0) as u32;
    let (dx, dy) = ((th as f32 * 0.02) as u32, (th as f32 * 0.05) as u32);
    let pad = 3 * r;
    let (sw, sh) = (tw + 2 * pad + dx, th + 2 * pad + dy);
    let mut mask = vec![0.0f32; sw as usize * sh as usize];
    for y in 0..th {
        for x in 0..tw {
            mask[((y + pad + dy) * sw + x + pad + dx) as usize] = product.px[(y * tw + x) as usize][3];
        }
    }
    blur(&mut mask, sw, sh, r);
    let mut out = Sprite::from_mask(sw, sh, &mask, shadow, 0.5);
    out.over(&product, pad as i64, pad as i64);
    Ok((out, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pink "shoe" (an ellipse with a white stripe inside it, not touching its edge) on a
    /// white studio background.
    fn packshot(dir: &Path) -> std::path::PathBuf {
        let img = image::RgbImage::from_fn(200, 120, |x, y| {
            let (u, v) = ((x as f32 - 100.0) / 70.0, (y as f32 - 60.0) / 35.0);
            if u * u + v * v < 1.0 {
                if (y as i32 - 60).abs() < 3 && (x as i32 - 100).abs() < 40 { image::Rgb([255, 255, 255]) } else { image::Rgb([230, 80, 150]) }
            } else {
                image::Rgb([250, 250, 250])
            }
        });
        let p = dir.join("shoe.png");
        img.save(&p).unwrap();
        p
    }

    #[test]
    fn a_plain_background_is_cut_away_and_the_white_inside_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (s, kind) = hero(&packshot(dir.path()), 140, 70, [0.0; 3]).unwrap();
        assert_eq!(kind, Kind::CutOut);
        // The product (140x70 after the crop) sits at (pad, pad); its middle is opaque pink,
        // the white stripe through it is kept, and a corner of the box is not the old white.
        let pad = 3 * ((70.0f32 * 0.035) as u32).max(1);
        let at = |x: u32, y: u32| s.px[((y + pad) * s.width + x + pad) as usize];
        let mid = at(70, 20);
        assert!(mid[3] > 0.99 && mid[0] > 0.85 && mid[1] < 0.4, "{mid:?}");
        let stripe = at(70, 35);
        assert!(stripe[3] > 0.99 && stripe[1] > 0.95, "{stripe:?}");
        let corner = at(2, 2);
        assert!(corner[1] < 0.3, "old background left in the corner: {corner:?}");
    }

    #[test]
    fn a_photo_with_a_scene_is_kept_whole_as_a_card() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbImage::from_fn(100, 80, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 90]));
        let p = dir.path().join("scene.png");
        img.save(&p).unwrap();
        let (s, kind) = hero(&p, 100, 80, [0.0; 3]).unwrap();
        assert_eq!(kind, Kind::Card);
        assert!(s.width >= 100 && s.height >= 80);
    }
}
