//! Classical motion estimation: coarse-to-fine block matching on luma pyramids, with
//! sub-pixel refinement by a parabola through the matching costs.
//!
//! Two matchers share the code: *forward* (where did this block of `a` go in `b`?) for
//! dynamic degree, and *bilateral* (which symmetric motion through this block of an
//! unseen middle frame best explains `a` and `b`?) for frame interpolation.

use super::reduced::Pyramid;

/// Block variance (luma², 0..255 scale) under which a block is too flat to match.
const FLAT_VARIANCE: f32 = 6.0;
/// The best match must beat "no motion" by this factor, or the block is called still
/// (noise alone must not look like motion).
const ZERO_BIAS: f32 = 0.92;

/// One motion vector per block on level 0.
pub struct BlockField {
    pub cols: usize,
    pub rows: usize,
    pub block: usize,
    /// (dx, dy) in level-0 pixels. Forward: `a`→`b`. Bilateral: half the `a`→`b` motion.
    pub vectors: Vec<(f32, f32)>,
    /// Blocks with enough texture for the vector to mean something.
    pub textured: Vec<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Forward,
    Bilateral,
}

#[inline]
fn at(p: &[f32], w: usize, h: usize, x: i32, y: i32) -> f32 {
    let x = x.clamp(0, w as i32 - 1) as usize;
    let y = y.clamp(0, h as i32 - 1) as usize;
    p[y * w + x]
}

/// Sum of absolute differences over a `win`×`win` window centred at (cx, cy).
#[allow(clippy::too_many_arguments)]
fn cost(a: &[f32], b: &[f32], w: usize, h: usize, cx: i32, cy: i32, win: i32, v: (i32, i32), mode: Matching) -> f32 {
    let (ax, ay) = if mode == Matching::Bilateral { (-v.0, -v.1) } else { (0, 0) };
    let half = win / 2;
    let mut s = 0.0;
    let inside = cx - half - v.0.abs() >= 0
        && cy - half - v.1.abs() >= 0
        && cx + half + v.0.abs() < w as i32
        && cy + half + v.1.abs() < h as i32;
    for dy in -half..half {
        let y = cy + dy;
        if inside {
            let ra = ((y + ay) as usize) * w;
            let rb = ((y + v.1) as usize) * w;
            let x0 = cx - half;
            let sa = &a[ra + (x0 + ax) as usize..ra + (x0 + ax + win) as usize];
            let sb = &b[rb + (x0 + v.0) as usize..rb + (x0 + v.0 + win) as usize];
            s += sad_f32(sa, sb);
        } else {
            for dx in -half..half {
                let x = cx + dx;
                s += (at(a, w, h, x + ax, y + ay) - at(b, w, h, x + v.0, y + v.1)).abs();
            }
        }
    }
    s
}

/// Sum of |a − b| over two equal rows, in eight running sums (one vector's lanes).
fn sad_f32(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(p, q)| (p - q).abs()).sum();
    let mut lanes = [0f32; LANES];
    for (p, q) in ca.zip(cb) {
        for i in 0..LANES {
            lanes[i] += (p[i] - q[i]).abs();
        }
    }
    lanes.iter().sum::<f32>() + tail
}

fn variance(a: &[f32], w: usize, h: usize, cx: i32, cy: i32, win: i32) -> f32 {
    let half = win / 2;
    let (mut s, mut s2, mut n) = (0f32, 0f32, 0f32);
    for y in cy - half..cy + half {
        for x in cx - half..cx + half {
            let v = at(a, w, h, x, y);
            s += v;
            s2 += v * v;
            n += 1.0;
        }
    }
    let m = s / n;
    (s2 / n - m * m).max(0.0)
}

/// Vertex offset of the parabola through (-1, l), (0, c), (1, r), within ±0.5.
fn parabola(l: f32, c: f32, r: f32) -> f32 {
    let d = l - 2.0 * c + r;
    if d <= 1e-6 {
        return 0.0;
    }
    (0.5 * (l - r) / d).clamp(-0.5, 0.5)
}

/// Match every `block`×`block` block of level 0, searching ±`top_range` pixels on the
/// coarsest level and ±1 on each finer one.
pub fn match_blocks(a: &Pyramid, b: &Pyramid, block: usize, top_range: i32, mode: Matching) -> BlockField {
    let (_, w0, h0) = a.levels[0];
    let cols = (w0 / block).max(1);
    let rows = (h0 / block).max(1);
    let top = a.levels.len().min(b.levels.len()) - 1;
    // Blocks are matched independently: rows of blocks are shared across the cores.
    let shares = super::split::by_rows(rows, |share| {
        let mut vectors = Vec::with_capacity(cols * share.len());
        let mut textured = Vec::with_capacity(cols * share.len());
        for by in share {
            for bx in 0..cols {
                let (cx0, cy0) = ((bx * block + block / 2) as i32, (by * block + block / 2) as i32);
                let mut v = (0i32, 0i32);
                for level in (0..=top).rev() {
                    let (pa, w, h) = &a.levels[level];
                    let (pb, _, _) = &b.levels[level];
                    let (cx, cy) = (cx0 >> level, cy0 >> level);
                    // Coarse levels see at least 8x8 pixels: smaller windows match noise.
                    let win = ((block >> level) as i32).max(8);
                    let range = if level == top { top_range } else { 1 };
                    let centre = if level == top { (0, 0) } else { (v.0 * 2, v.1 * 2) };
                    // The prediction wins ties, so flat windows do not drift.
                    let mut best = (cost(pa, pb, *w, *h, cx, cy, win, centre, mode), centre);
                    for dy in -range..=range {
                        for dx in -range..=range {
                            let cand = (centre.0 + dx, centre.1 + dy);
                            if cand == centre {
                                continue;
                            }
                            let c = cost(pa, pb, *w, *h, cx, cy, win, cand, mode);
                            if c < best.0 {
                                best = (c, cand);
                            }
                        }
                    }
                    v = best.1;
                }
                let (pa, w, h) = &a.levels[0];
                let (pb, _, _) = &b.levels[0];
                let (cx, cy) = (cx0, cy0);
                let win = block as i32;
                let c = |v: (i32, i32)| cost(pa, pb, *w, *h, cx, cy, win, v, mode);
                let here = c(v);
                let still = c((0, 0));
                if v != (0, 0) && here >= ZERO_BIAS * still {
                    v = (0, 0);
                }
                let here = if v == (0, 0) { still } else { here };
                let fx = parabola(c((v.0 - 1, v.1)), here, c((v.0 + 1, v.1)));
                let fy = parabola(c((v.0, v.1 - 1)), here, c((v.0, v.1 + 1)));
                let flat = variance(pa, *w, *h, cx, cy, win) < FLAT_VARIANCE;
                vectors.push(if v == (0, 0) && (fx.abs() < 0.25 && fy.abs() < 0.25) { (0.0, 0.0) } else { (v.0 as f32 + fx, v.1 as f32 + fy) });
                textured.push(!flat);
            }
        }
        (vectors, textured)
    });
    let (vectors, textured): (Vec<_>, Vec<_>) = shares.into_iter().unzip();
    let (vectors, textured) = (vectors.concat(), textured.concat());
    BlockField { cols, rows, block, vectors, textured }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Aperiodic value noise (a hashed 4-px lattice, bilinearly interpolated), shifted.
    fn texture(w: usize, h: usize, shift: (f32, f32)) -> Vec<f32> {
        let lattice = |x: i32, y: i32| {
            let mut v = (x as u32).wrapping_mul(0x9E37_79B1) ^ (y as u32).wrapping_mul(0x85EB_CA77);
            v ^= v >> 15;
            v = v.wrapping_mul(0x2C1B_3C6D);
            v ^= v >> 12;
            (v % 200) as f32 + 28.0
        };
        (0..w * h)
            .map(|i| {
                let (x, y) = (((i % w) as f32 - shift.0) / 4.0, ((i / w) as f32 - shift.1) / 4.0);
                let (x0, y0) = (x.floor(), y.floor());
                let (fx, fy) = (x - x0, y - y0);
                let (x0, y0) = (x0 as i32, y0 as i32);
                let top = lattice(x0, y0) * (1.0 - fx) + lattice(x0 + 1, y0) * fx;
                let bottom = lattice(x0, y0 + 1) * (1.0 - fx) + lattice(x0 + 1, y0 + 1) * fx;
                top * (1.0 - fy) + bottom * fy
            })
            .collect()
    }

    #[test]
    fn forward_matching_finds_a_translation_with_subpixel_precision() {
        let (w, h) = (160, 96);
        let a = Pyramid::new(&texture(w, h, (0.0, 0.0)), w, h, 3);
        let b = Pyramid::new(&texture(w, h, (7.4, -3.0)), w, h, 3);
        let f = match_blocks(&a, &b, 8, 4, Matching::Forward);
        let inner: Vec<_> = (0..f.vectors.len())
            .filter(|i| (2..f.cols - 2).contains(&(i % f.cols)) && (2..f.rows - 2).contains(&(i / f.cols)))
            .map(|i| f.vectors[i])
            .collect();
        let mx = inner.iter().map(|v| v.0).sum::<f32>() / inner.len() as f32;
        let my = inner.iter().map(|v| v.1).sum::<f32>() / inner.len() as f32;
        assert!((mx - 7.4).abs() < 0.3, "dx {mx}");
        assert!((my + 3.0).abs() < 0.3, "dy {my}");
    }

    #[test]
    fn bilateral_matching_finds_half_the_motion() {
        let (w, h) = (160, 96);
        let a = Pyramid::new(&texture(w, h, (0.0, 0.0)), w, h, 3);
        let b = Pyramid::new(&texture(w, h, (6.0, 2.0)), w, h, 3);
        let f = match_blocks(&a, &b, 16, 4, Matching::Bilateral);
        let i = f.cols + 2;
        assert!((f.vectors[i].0 - 3.0).abs() < 0.3 && (f.vectors[i].1 - 1.0).abs() < 0.3, "{:?}", f.vectors[i]);
    }

    #[test]
    fn identical_frames_have_no_motion() {
        let (w, h) = (96, 64);
        let t = texture(w, h, (0.0, 0.0));
        let a = Pyramid::new(&t, w, h, 3);
        let f = match_blocks(&a, &a, 8, 4, Matching::Forward);
        assert!(f.vectors.iter().all(|v| *v == (0.0, 0.0)));
    }
}
