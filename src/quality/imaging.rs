//! Heuristic stand-ins for VBench's learned judges (MUSIQ for imaging quality, the LAION
//! aesthetic head for aesthetic quality). They are labelled `heuristic` everywhere they
//! appear. Imaging works on frames whose longer side is near 512 px, as MUSIQ's input is.

use super::reduced::Small;

/// The measurements behind imaging quality, kept for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ImagingParts {
    /// Variance of the Laplacian of luma (0..255 scale).
    pub sharpness: f64,
    /// Immerkær's noise sigma estimate (0..255 scale).
    pub noise: f64,
    /// Mean step across 8-px block edges ÷ mean step elsewhere (1 = no blocking).
    pub blockiness: f64,
    /// Fraction of pixels at 0..2 or 253..255.
    pub clipped: f64,
    /// RMS contrast of luma (0..255 scale).
    pub contrast: f64,
}

/// Measure one frame: `s` is the reduced frame, `full` the rgb24 frame (for blocking,
/// which only exists on the codec's pixel grid).
pub fn measure(s: &Small, full: &[u8], width: usize, height: usize) -> ImagingParts {
    let (w, h) = (s.w, s.h);
    let l = &s.luma;
    let (mut lap_s, mut lap_s2, mut noise, mut n) = (0f64, 0f64, 0f64, 0f64);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let c = l[y * w + x];
            let (up, dn, lf, rt) = (l[(y - 1) * w + x], l[(y + 1) * w + x], l[y * w + x - 1], l[y * w + x + 1]);
            let lap = (up + dn + lf + rt - 4.0 * c) as f64;
            lap_s += lap;
            lap_s2 += lap * lap;
            let diag = l[(y - 1) * w + x - 1] + l[(y - 1) * w + x + 1] + l[(y + 1) * w + x - 1] + l[(y + 1) * w + x + 1];
            noise += (diag as f64 - 2.0 * (up + dn + lf + rt) as f64 + 4.0 * c as f64).abs();
            n += 1.0;
        }
    }
    let sharpness = if n > 0.0 { lap_s2 / n - (lap_s / n).powi(2) } else { 0.0 };
    let noise = if n > 0.0 { (std::f64::consts::PI / 2.0).sqrt() * noise / (6.0 * n) } else { 0.0 };
    let (mut mean, mut m2, mut clip) = (0f64, 0f64, 0f64);
    for &v in l {
        mean += v as f64;
        m2 += (v as f64) * (v as f64);
        if v <= 2.0 || v >= 253.0 {
            clip += 1.0;
        }
    }
    let count = l.len().max(1) as f64;
    mean /= count;
    let contrast = (m2 / count - mean * mean).max(0.0).sqrt();
    ImagingParts { sharpness, noise, blockiness: blockiness(full, width, height), clipped: clip / count, contrast }
}

/// Horizontal steps of the green channel at columns 8k vs the other columns, on every
/// fourth row.
fn blockiness(full: &[u8], w: usize, h: usize) -> f64 {
    let (mut edge, mut ne, mut inner, mut ni) = (0u64, 0u64, 0u64, 0u64);
    for y in (0..h).step_by(4) {
        let row = &full[y * w * 3..(y + 1) * w * 3];
        for x in 1..w {
            let d = row[x * 3 + 1].abs_diff(row[(x - 1) * 3 + 1]) as u64;
            if x % 8 == 0 {
                edge += d;
                ne += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    if ne == 0 || ni == 0 || inner == 0 {
        return 1.0;
    }
    (edge as f64 / ne as f64) / (inner as f64 / ni as f64)
}

/// Imaging quality 0..1 from the measurements of the sampled frames.
pub fn imaging_score(parts: &[ImagingParts]) -> f64 {
    if parts.is_empty() {
        return 0.0;
    }
    let n = parts.len() as f64;
    let avg = |f: fn(&ImagingParts) -> f64| parts.iter().map(f).sum::<f64>() / n;
    let sharp = avg(|p| p.sharpness);
    let sharp_q = sharp / (sharp + 120.0);
    let noise_q = 1.0 / (1.0 + (avg(|p| p.noise) / 6.0).powi(2));
    let block_q = (1.0 - (avg(|p| p.blockiness) - 1.0).max(0.0) / 1.5).clamp(0.0, 1.0);
    let clip_q = (1.0 - 3.0 * avg(|p| p.clipped)).clamp(0.0, 1.0);
    let contrast_q = (avg(|p| p.contrast) / 55.0).min(1.0);
    0.45 * sharp_q + 0.2 * noise_q + 0.15 * block_q + 0.1 * clip_q + 0.1 * contrast_q
}

/// The measurements behind aesthetic quality.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AestheticParts {
    /// Hasler & Süsstrunk's colourfulness.
    pub colourfulness: f64,
    /// Mean luma 0..255.
    pub exposure: f64,
    /// Distance (fraction of the diagonal) from the centre of visual weight to the nearest
    /// rule-of-thirds point or the centre.
    pub composition: f64,
}

pub fn measure_aesthetic(s: &Small) -> AestheticParts {
    let (mut rg, mut rg2, mut yb, mut yb2) = (0f64, 0f64, 0f64, 0f64);
    let (mut mx, mut my, mut mw, mut lum) = (0f64, 0f64, 0f64, 0f64);
    let n = (s.w * s.h).max(1) as f64;
    for y in 0..s.h {
        for x in 0..s.w {
            let i = y * s.w + x;
            let p = &s.rgb[i * 3..i * 3 + 3];
            let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
            let a = r - g;
            let c = 0.5 * (r + g) - b;
            rg += a;
            rg2 += a * a;
            yb += c;
            yb2 += c * c;
            lum += s.luma[i] as f64;
            if x > 0 && y > 0 {
                let gx = (s.luma[i] - s.luma[i - 1]).abs() as f64;
                let gy = (s.luma[i] - s.luma[i - s.w]).abs() as f64;
                let wgt = gx + gy;
                mx += wgt * x as f64;
                my += wgt * y as f64;
                mw += wgt;
            }
        }
    }
    let (mrg, myb) = (rg / n, yb / n);
    let (srg, syb) = ((rg2 / n - mrg * mrg).max(0.0).sqrt(), (yb2 / n - myb * myb).max(0.0).sqrt());
    let colourfulness = (srg * srg + syb * syb).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt();
    let (cx, cy) = if mw > 0.0 { (mx / mw / s.w as f64, my / mw / s.h as f64) } else { (0.5, 0.5) };
    let points = [(0.5, 0.5), (1.0 / 3.0, 1.0 / 3.0), (2.0 / 3.0, 1.0 / 3.0), (1.0 / 3.0, 2.0 / 3.0), (2.0 / 3.0, 2.0 / 3.0)];
    let composition = points.iter().map(|(px, py)| ((cx - px).powi(2) + (cy - py).powi(2)).sqrt()).fold(f64::MAX, f64::min) / 2f64.sqrt();
    AestheticParts { colourfulness, exposure: lum / n, composition }
}

/// Aesthetic quality 0..1 from the measurements of the sampled frames.
pub fn aesthetic_score(parts: &[AestheticParts]) -> f64 {
    if parts.is_empty() {
        return 0.0;
    }
    let n = parts.len() as f64;
    let colour_q = (parts.iter().map(|p| p.colourfulness).sum::<f64>() / n / 70.0).min(1.0);
    let exposure_q = 1.0 - ((parts.iter().map(|p| p.exposure).sum::<f64>() / n) - 118.0).abs() / 118.0;
    let composition_q = 1.0 - (parts.iter().map(|p| p.composition).sum::<f64>() / n / 0.35).min(1.0);
    (0.45 * colour_q + 0.35 * exposure_q.clamp(0.0, 1.0) + 0.2 * composition_q).clamp(0.0, 1.0)
}
