//! The offline analyst: palette by k-means on pixels, brightness and contrast from luma,
//! the dominant subject as the box of pixels unlike the border, features from the brief.

use async_trait::async_trait;
use std::path::Path;

use super::words::prompt_features;
use crate::domain::{Analysis, Brief, ReferenceKind, Rng};
use crate::providers::{Analyst, ProviderError};

#[derive(Debug, Default, Clone)]
pub struct PixelAnalyst;

fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// k-means (k-means++ seeding, fixed seed) over RGB pixels; clusters largest first as hex.
pub fn palette_kmeans(pixels: &[[f32; 3]], k: usize) -> Vec<(String, f32)> {
    if pixels.is_empty() || k == 0 {
        return vec![];
    }
    let mut rng = Rng::new(42);
    let mut centres = vec![pixels[rng.below(pixels.len())]];
    while centres.len() < k {
        let d: Vec<f32> = pixels.iter().map(|p| centres.iter().map(|c| dist2(*p, *c)).fold(f32::MAX, f32::min)).collect();
        let total: f32 = d.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut r = rng.unit() as f32 * total;
        let mut pick = 0;
        for (i, x) in d.iter().enumerate() {
            r -= x;
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        centres.push(pixels[pick]);
    }
    let mut assign = vec![0usize; pixels.len()];
    for _ in 0..12 {
        for (i, p) in pixels.iter().enumerate() {
            assign[i] = (0..centres.len()).min_by(|&a, &b| dist2(*p, centres[a]).total_cmp(&dist2(*p, centres[b]))).unwrap_or(0);
        }
        let mut sums = vec![([0f32; 3], 0usize); centres.len()];
        for (p, &a) in pixels.iter().zip(&assign) {
            for (s, v) in sums[a].0.iter_mut().zip(p) {
                *s += v;
            }
            sums[a].1 += 1;
        }
        for (c, (s, n)) in centres.iter_mut().zip(&sums) {
            if *n > 0 {
                *c = [s[0] / *n as f32, s[1] / *n as f32, s[2] / *n as f32];
            }
        }
    }
    let mut counts = vec![0usize; centres.len()];
    for &a in &assign {
        counts[a] += 1;
    }
    let mut out: Vec<(String, f32)> = centres
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (format!("#{:02x}{:02x}{:02x}", c[0].round() as u8, c[1].round() as u8, c[2].round() as u8), *n as f32 / pixels.len() as f32))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

pub fn analyse_pixels(img: &image::RgbImage) -> Analysis {
    let thumb = image::imageops::thumbnail(img, 64, 64);
    let (tw, th) = thumb.dimensions();
    let px: Vec<[f32; 3]> = thumb.pixels().map(|p| [p[0] as f32, p[1] as f32, p[2] as f32]).collect();
    let luma: Vec<f32> = px.iter().map(|p| (0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]) / 255.0).collect();
    let mean = luma.iter().sum::<f32>() / luma.len().max(1) as f32;
    let var = luma.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / luma.len().max(1) as f32;
    let palette: Vec<String> = palette_kmeans(&px, 5).into_iter().map(|(h, _)| h).collect();
    // Subject: pixels far from the mean border colour.
    let mut border = [0f32; 3];
    let mut nb = 0.0f32;
    for y in 0..th {
        for x in 0..tw {
            if x == 0 || y == 0 || x == tw - 1 || y == th - 1 {
                let p = px[(y * tw + x) as usize];
                for c in 0..3 {
                    border[c] += p[c];
                }
                nb += 1.0;
            }
        }
    }
    let border = border.map(|v| v / nb.max(1.0));
    let (mut x0, mut y0, mut x1, mut y1, mut n) = (tw, th, 0, 0, 0);
    for y in 0..th {
        for x in 0..tw {
            if dist2(px[(y * tw + x) as usize], border) > 60.0 * 60.0 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
                n += 1;
            }
        }
    }
    let subject_box = (n > (tw * th) as usize / 50 && n < (tw * th) as usize * 9 / 10).then(|| {
        let sx = img.width() as f32 / tw as f32;
        let sy = img.height() as f32 / th as f32;
        [(x0 as f32 * sx) as u32, (y0 as f32 * sy) as u32, ((x1 - x0 + 1) as f32 * sx) as u32, ((y1 - y0 + 1) as f32 * sy) as u32]
    });
    let sat = px.iter().map(|p| {
        let mx = p[0].max(p[1]).max(p[2]);
        let mn = p[0].min(p[1]).min(p[2]);
        if mx > 0.0 { (mx - mn) / mx } else { 0.0 }
    }).sum::<f32>() / px.len().max(1) as f32;
    let style = format!(
        "{}, {}, {} colour",
        if mean > 0.6 { "bright high-key" } else if mean < 0.3 { "dark low-key" } else { "balanced exposure" },
        if var.sqrt() > 0.22 { "high contrast" } else { "soft contrast" },
        if sat > 0.45 { "vivid" } else if sat < 0.15 { "muted" } else { "natural" },
    );
    Analysis { palette, brightness: mean, contrast: var.sqrt(), features: vec![], style, subject_box }
}

#[async_trait]
impl Analyst for PixelAnalyst {
    fn id(&self) -> String {
        "offline/pixel-analyst".into()
    }

    async fn analyse(&self, image: &Path, kind: ReferenceKind, brief: &Brief) -> Result<Analysis, ProviderError> {
        let path = image.to_path_buf();
        let img = tokio::task::spawn_blocking(move || image::open(&path).map(|i| i.to_rgb8()))
            .await
            .map_err(|e| ProviderError::Protocol(e.to_string()))?
            .map_err(|e| ProviderError::Media(crate::media::MediaError::BadImage { path: image.display().to_string(), message: e.to_string() }))?;
        let mut a = analyse_pixels(&img);
        if kind == ReferenceKind::Product {
            a.features = prompt_features(&brief.prompt);
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn finds_the_two_colours_and_the_subject() {
        let mut img = image::RgbImage::from_pixel(100, 60, image::Rgb([20, 30, 90]));
        for y in 20..40 {
            for x in 40..70 {
                img.put_pixel(x, y, image::Rgb([250, 110, 180]));
            }
        }
        let a = analyse_pixels(&img);
        assert_eq!(a.palette[0], "#141e5a");
        assert!(a.palette.iter().any(|c| c == "#fa6eb4"), "{:?}", a.palette);
        let b = a.subject_box.expect("subject found");
        assert!((35..=45).contains(&b[0]) && (15..=25).contains(&b[1]), "{b:?}");
        assert!(a.brightness < 0.3 && a.contrast > 0.1);
    }
}
