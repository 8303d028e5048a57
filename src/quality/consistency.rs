//! Subject and background consistency with VBench's formula — the mean over frames
//! i ≥ 1 of ½[max(0, cos(f(i−1), f(i))) + max(0, cos(f(0), f(i)))] — over hand-made
//! features instead of DINO / CLIP embeddings.
//!
//! * subject: a centre-weighted CIE Lab grid plus a gradient-orientation histogram of the
//!   centre, where the product usually is;
//! * background: a Lab grid of the centre square (CLIP's crop) plus a colour histogram.

use super::reduced::Small;
use crate::domain::lab;

/// Mean colour of the cells of a `g`×`g` grid over the window (x0..x1, y0..y1), as Lab
/// scaled to about ±1 (L centred on 50), each cell multiplied by `weight(cx, cy)`.
fn lab_grid(s: &Small, win: (usize, usize, usize, usize), g: usize, weight: impl Fn(f32, f32) -> f32, out: &mut Vec<f32>) {
    let (x0, y0, x1, y1) = win;
    for gy in 0..g {
        for gx in 0..g {
            let (cx0, cx1) = (x0 + (x1 - x0) * gx / g, x0 + (x1 - x0) * (gx + 1) / g);
            let (cy0, cy1) = (y0 + (y1 - y0) * gy / g, y0 + (y1 - y0) * (gy + 1) / g);
            let mut sum = [0f32; 3];
            let mut n = 0f32;
            for y in (cy0..cy1.max(cy0 + 1)).step_by(2) {
                for x in (cx0..cx1.max(cx0 + 1)).step_by(2) {
                    let p = &s.rgb[(y.min(s.h - 1) * s.w + x.min(s.w - 1)) * 3..][..3];
                    for c in 0..3 {
                        sum[c] += p[c] as f32;
                    }
                    n += 1.0;
                }
            }
            let l = lab(sum.map(|v| v / n.max(1.0)));
            let wgt = weight((gx as f32 + 0.5) / g as f32, (gy as f32 + 0.5) / g as f32);
            out.extend([(l[0] - 50.0) / 50.0 * wgt, l[1] / 64.0 * wgt, l[2] / 64.0 * wgt]);
        }
    }
}

/// Histogram of gradient orientations (8 bins, magnitude-weighted) over the window,
/// centred to zero mean so that two flat frames are not "similar" by construction.
fn orientation_histogram(s: &Small, win: (usize, usize, usize, usize), scale: f32, out: &mut Vec<f32>) {
    let (x0, y0, x1, y1) = win;
    let mut bins = [0f32; 8];
    for y in (y0.max(1)..y1.min(s.h - 1)).step_by(2) {
        for x in (x0.max(1)..x1.min(s.w - 1)).step_by(2) {
            let l = |xx: usize, yy: usize| s.luma[yy * s.w + xx];
            let gx = l(x + 1, y) - l(x - 1, y);
            let gy = l(x, y + 1) - l(x, y - 1);
            let m = (gx * gx + gy * gy).sqrt();
            if m < 2.0 {
                continue;
            }
            let a = gy.atan2(gx).rem_euclid(std::f32::consts::PI);
            bins[((a / std::f32::consts::PI * 8.0) as usize).min(7)] += m;
        }
    }
    let total: f32 = bins.iter().sum();
    if total > 0.0 {
        out.extend(bins.iter().map(|b| (b / total - 0.125) * scale));
    } else {
        out.extend([0.0; 8]);
    }
}

/// The subject feature of a frame.
pub fn subject_features(s: &Small) -> Vec<f32> {
    let mut f = Vec::with_capacity(8 * 8 * 3 + 8);
    lab_grid(s, (0, 0, s.w, s.h), 8, |x, y| (-((x - 0.5).powi(2) + (y - 0.5).powi(2)) / (2.0 * 0.22f32.powi(2))).exp(), &mut f);
    let (cw, ch) = (s.w / 4, s.h / 4);
    orientation_histogram(s, (cw, ch, s.w - cw, s.h - ch), 4.0, &mut f);
    f
}

/// The background feature of a frame.
pub fn background_features(s: &Small) -> Vec<f32> {
    let side = s.w.min(s.h);
    let (x0, y0) = ((s.w - side) / 2, (s.h - side) / 2);
    let mut f = Vec::with_capacity(6 * 6 * 3 + 64);
    lab_grid(s, (x0, y0, x0 + side, y0 + side), 6, |_, _| 1.0, &mut f);
    let mut hist = [0f32; 64];
    let mut n = 0f32;
    for y in (y0..y0 + side).step_by(2) {
        for x in (x0..x0 + side).step_by(2) {
            let p = &s.rgb[(y * s.w + x) * 3..][..3];
            hist[(p[0] as usize >> 6) * 16 + (p[1] as usize >> 6) * 4 + (p[2] as usize >> 6)] += 1.0;
            n += 1.0;
        }
    }
    f.extend(hist.iter().map(|h| (h / n.max(1.0) - 1.0 / 64.0) * 4.0));
    f
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        ab += (*x * *y) as f64;
        aa += (*x * *x) as f64;
        bb += (*y * *y) as f64;
    }
    if aa == 0.0 || bb == 0.0 {
        return if aa == bb { 1.0 } else { 0.0 };
    }
    ab / (aa.sqrt() * bb.sqrt())
}

/// VBench's running consistency over a stream of feature vectors.
#[derive(Default)]
pub struct Consistency {
    first: Option<Vec<f32>>,
    prev: Option<Vec<f32>>,
    sum: f64,
    count: usize,
}

impl Consistency {
    pub fn push(&mut self, f: Vec<f32>) {
        if let (Some(first), Some(prev)) = (&self.first, &self.prev) {
            self.sum += 0.5 * (cosine(prev, &f).max(0.0) + cosine(first, &f).max(0.0));
            self.count += 1;
        } else {
            self.first = Some(f.clone());
        }
        self.prev = Some(f);
    }

    /// `None` with fewer than two frames (VBench needs two).
    pub fn value(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_matches_vbench_on_known_similarities() {
        let mut c = Consistency::default();
        c.push(vec![1.0, 0.0]);
        c.push(vec![1.0, 0.0]); // cos 1, 1 -> 1
        c.push(vec![0.0, 1.0]); // cos 0, 0 -> 0
        c.push(vec![-1.0, 0.0]); // prev cos 0, first cos -1 -> clipped 0 -> 0
        assert!((c.value().unwrap() - 1.0 / 3.0).abs() < 1e-12);
        let mut one = Consistency::default();
        one.push(vec![1.0]);
        assert_eq!(one.value(), None);
    }
}
