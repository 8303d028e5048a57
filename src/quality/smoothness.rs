//! Motion smoothness, VBench's protocol with a classical interpolator: every odd frame
//! is predicted from its even neighbours and scored (255 − MAE) / 255, the prediction
//! truncated to u8 as VBench does. VBench uses the AMT network; admint matches blocks
//! bilaterally on reduced frames and refines each vector at full resolution.

use super::flow::BlockField;
use super::reduced::sad_u8;

/// Rows sampled per block when refining at full resolution.
const REFINE_ROW_STEP: usize = 8;

/// Full-resolution geometry of one rgb24 frame.
#[derive(Clone, Copy)]
pub struct Geometry {
    pub w: usize,
    pub h: usize,
}

/// Split of a total displacement `d` into the part taken from `prev` (−a) and `next` (+b).
fn split(d: i32) -> (i32, i32) {
    let a = d.div_euclid(2);
    (a, d - a)
}

/// Copy row `y` of an rgb24 frame shifted by `dx`, clamping at the edges, into `out`.
fn shifted_row<'a>(frame: &'a [u8], g: Geometry, y: i32, x0: usize, x1: usize, dx: i32, out: &'a mut Vec<u8>) -> &'a [u8] {
    let y = y.clamp(0, g.h as i32 - 1) as usize;
    let row = &frame[y * g.w * 3..(y + 1) * g.w * 3];
    let (s, e) = (x0 as i32 + dx, x1 as i32 + dx);
    if s >= 0 && e <= g.w as i32 {
        return &row[s as usize * 3..e as usize * 3];
    }
    out.clear();
    for x in s..e {
        let x = x.clamp(0, g.w as i32 - 1) as usize;
        out.extend_from_slice(&row[x * 3..x * 3 + 3]);
    }
    out
}

/// Sum over a block of |prediction − actual| (prediction = (prev + next) / 2, truncated).
fn block_error(prev: &[u8], cur: &[u8], next: &[u8], g: Geometry, xs: (usize, usize), ys: (usize, usize), d: (i32, i32)) -> u64 {
    let ((ax, bx), (ay, by)) = (split(d.0), split(d.1));
    let (mut bp, mut bn) = (Vec::new(), Vec::new());
    let mut total = 0u64;
    for y in ys.0..ys.1 {
        let p = shifted_row(prev, g, y as i32 - ay, xs.0, xs.1, -ax, &mut bp);
        let n = shifted_row(next, g, y as i32 + by, xs.0, xs.1, bx, &mut bn);
        let c = &cur[(y * g.w + xs.0) * 3..(y * g.w + xs.1) * 3];
        total += midpoint_error(p, n, c) as u64;
    }
    total
}

/// Sum of |(p + n) / 2 − c| (the midpoint truncated) over three equal rows, 32 bytes at
/// a time so the compiler keeps every lane of a vector busy.
fn midpoint_error(p: &[u8], n: &[u8], c: &[u8]) -> u32 {
    const LANES: usize = 32;
    let one = |p: u8, n: u8, c: u8| (((p as u16 + n as u16) >> 1) as u8).abs_diff(c);
    let mut total = 0u32;
    let (pc, nc, cc) = (p.chunks_exact(LANES), n.chunks_exact(LANES), c.chunks_exact(LANES));
    let tail: u32 = pc.remainder().iter().zip(nc.remainder()).zip(cc.remainder()).map(|((&p, &n), &c)| one(p, n, c) as u32).sum();
    for ((p, n), c) in pc.zip(nc).zip(cc) {
        let mut d = [0u8; LANES];
        for i in 0..LANES {
            d[i] = one(p[i], n[i], c[i]);
        }
        total += d.iter().map(|&x| x as u32).sum::<u32>();
    }
    total + tail
}

/// How well `prev` shifted by −a matches `next` shifted by +b on sampled rows: the
/// interpolator's own evidence (it never sees the frame it predicts).
fn match_cost(prev: &[u8], next: &[u8], g: Geometry, xs: (usize, usize), ys: (usize, usize), d: (i32, i32)) -> u64 {
    let ((ax, bx), (ay, by)) = (split(d.0), split(d.1));
    let (mut bp, mut bn) = (Vec::new(), Vec::new());
    let mut total = 0;
    let mut y = ys.0 + REFINE_ROW_STEP / 2;
    while y < ys.1 {
        let p = shifted_row(prev, g, y as i32 - ay, xs.0, xs.1, -ax, &mut bp);
        let n = shifted_row(next, g, y as i32 + by, xs.0, xs.1, bx, &mut bn);
        total += sad_u8(p, n);
        y += REFINE_ROW_STEP;
    }
    total
}

/// The MAE (0..255) between `cur` and its interpolation from `prev` and `next`. With a
/// motion field (from frames reduced by `k`), each block's vector is scaled up and
/// refined by ±1 px at full resolution; without one, the prediction is the plain average.
pub fn interpolation_mae(prev: &[u8], cur: &[u8], next: &[u8], g: Geometry, field: Option<(&BlockField, usize)>) -> f64 {
    let Some((field, k)) = field else {
        return block_error(prev, cur, next, g, (0, g.w), (0, g.h), (0, 0)) as f64 / (g.w * g.h * 3) as f64;
    };
    let bs = field.block * k;
    let rows = |range: std::ops::Range<usize>| {
        let mut total = 0u64;
        for by in range {
            let ys = (by * bs, if by + 1 == field.rows { g.h } else { (by + 1) * bs });
            for bx in 0..field.cols {
                let xs = (bx * bs, if bx + 1 == field.cols { g.w } else { (bx + 1) * bs });
                let v = field.vectors[by * field.cols + bx];
                let d0 = ((2.0 * v.0 * k as f32).round() as i32, (2.0 * v.1 * k as f32).round() as i32);
                let mut best = (u64::MAX, d0);
                if k > 1 {
                    for dy in -1..=1 {
                        for dx in -1..=1 {
                            let d = (d0.0 + dx, d0.1 + dy);
                            let c = match_cost(prev, next, g, xs, ys, d);
                            if c < best.0 {
                                best = (c, d);
                            }
                        }
                    }
                }
                total += block_error(prev, cur, next, g, xs, ys, best.1);
            }
        }
        total
    };
    let total: u64 = super::split::by_rows(field.rows, rows).into_iter().sum();
    total as f64 / (g.w * g.h * 3) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: usize, h: usize, shift: i32) -> Vec<u8> {
        let mut f = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let v = (((x as i32 - shift) * 37 + y as i32 * 11) % 251) as u8;
                f[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[v, v / 2, 255 - v]);
            }
        }
        f
    }

    #[test]
    fn the_midpoint_error_counts_every_byte_of_a_row() {
        // Rows of 70 bytes: two full 32-byte chunks and a tail of 6.
        let p: Vec<u8> = (0..70).map(|i| (i * 7 % 256) as u8).collect();
        let n: Vec<u8> = (0..70).map(|i| (255 - i * 3) as u8).collect();
        let c: Vec<u8> = (0..70).map(|i| (i * 11 % 256) as u8).collect();
        let plain: u32 = (0..70).map(|i| (((p[i] as u16 + n[i] as u16) >> 1) as u8).abs_diff(c[i]) as u32).sum();
        assert_eq!(midpoint_error(&p, &n, &c), plain);
        assert!(plain > 0);
    }

    #[test]
    fn the_right_vector_predicts_the_middle_frame_exactly() {
        let g = Geometry { w: 256, h: 32 };
        let (p, c, n) = (frame(256, 32, 0), frame(256, 32, 2), frame(256, 32, 4));
        let field = BlockField { cols: 16, rows: 2, block: 16, vectors: vec![(2.0, 0.0); 32], textured: vec![true; 32] };
        let exact = interpolation_mae(&p, &c, &n, g, Some((&field, 1)));
        let average = interpolation_mae(&p, &c, &n, g, None);
        // Only the two columns at the left edge (clamped samples) may differ.
        assert!(exact < 1.0, "{exact}");
        assert!(average > 20.0, "{average}");
    }

    #[test]
    fn refinement_at_full_resolution_fixes_a_coarse_vector() {
        let g = Geometry { w: 256, h: 32 };
        let (p, c, n) = (frame(256, 32, 0), frame(256, 32, 3), frame(256, 32, 6));
        // Reduced by 2, the coarse field says 1.25 (-> 5 px total); the truth is 6 px.
        let field = BlockField { cols: 8, rows: 1, block: 16, vectors: vec![(1.25, 0.0); 8], textured: vec![true; 8] };
        let coarse = BlockField { vectors: vec![(1.25, 0.0); 8], textured: vec![true; 8], ..field };
        let mae = interpolation_mae(&p, &c, &n, g, Some((&coarse, 2)));
        assert!(mae < 1.5, "{mae}");
    }
}
