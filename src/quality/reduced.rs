//! Reduced copies of a frame for the dimensions that do not need every pixel: an RGB
//! image about 256 px on its shorter side with its luma (`Small`), the frame pyramid that
//! block matching walks coarse to fine (`Pyramid`), and the sum of absolute differences.

/// An RGB image (u8, row-major) with its luma plane (f32, 0..255).
#[derive(Clone)]
pub struct Small {
    pub w: usize,
    pub h: usize,
    pub rgb: Vec<u8>,
    pub luma: Vec<f32>,
}

/// The integer reduction factor that brings the shorter side near 256 px (never below).
pub fn reduction(width: usize, height: usize) -> usize {
    (width.min(height) / 256).max(1)
}

impl Small {
    /// Reduce a full rgb24 frame by `k`: each output pixel averages the 2x2 pixels at the
    /// centre of its k×k cell (k = 1 copies). Reading a quarter of each cell keeps this
    /// cheap at 1080p while still low-passing the sampling.
    pub fn from_frame(frame: &[u8], width: usize, height: usize, k: usize) -> Small {
        let (w, h) = (width / k, height / k);
        let mut rgb = vec![0u8; w * h * 3];
        if k == 1 {
            rgb.copy_from_slice(&frame[..w * h * 3]);
        } else {
            let off = k / 2 - 1;
            let stride = width * 3;
            for y in 0..h {
                let r0 = (y * k + off) * stride;
                let r1 = r0 + stride;
                let out = &mut rgb[y * w * 3..(y + 1) * w * 3];
                for x in 0..w {
                    let c = (x * k + off) * 3;
                    for ch in 0..3 {
                        let s = frame[r0 + c + ch] as u16
                            + frame[r0 + c + 3 + ch] as u16
                            + frame[r1 + c + ch] as u16
                            + frame[r1 + c + 3 + ch] as u16;
                        out[x * 3 + ch] = ((s + 2) / 4) as u8;
                    }
                }
            }
        }
        let luma = rgb.chunks_exact(3).map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect();
        Small { w, h, rgb, luma }
    }
}

/// Halve a luma plane (2x2 box): one pyramid level.
pub fn halve(src: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
    let (hw, hh) = ((w / 2).max(1), (h / 2).max(1));
    let mut out = vec![0f32; hw * hh];
    for y in 0..hh {
        let (y0, y1) = ((2 * y).min(h - 1), (2 * y + 1).min(h - 1));
        for x in 0..hw {
            let (x0, x1) = ((2 * x).min(w - 1), (2 * x + 1).min(w - 1));
            out[y * hw + x] = 0.25 * (src[y0 * w + x0] + src[y0 * w + x1] + src[y1 * w + x0] + src[y1 * w + x1]);
        }
    }
    (out, hw, hh)
}

/// A luma pyramid: level 0 is the input, each next level half the size.
#[derive(Clone)]
pub struct Pyramid {
    pub levels: Vec<(Vec<f32>, usize, usize)>,
}

impl Pyramid {
    pub fn new(luma: &[f32], w: usize, h: usize, levels: usize) -> Pyramid {
        let mut v = vec![(luma.to_vec(), w, h)];
        for _ in 1..levels {
            let (p, pw, ph) = v.last().expect("one level");
            if *pw < 16 || *ph < 16 {
                break;
            }
            let next = halve(p, *pw, *ph);
            v.push(next);
        }
        Pyramid { levels: v }
    }
}

/// Sum of |a-b| over two equal u8 slices (vectorises well).
pub fn sad_u8(a: &[u8], b: &[u8]) -> u64 {
    let mut total = 0u64;
    for (ca, cb) in a.chunks(1 << 16).zip(b.chunks(1 << 16)) {
        let s: u32 = ca.iter().zip(cb).map(|(&x, &y)| x.abs_diff(y) as u32).sum();
        total += s as u64;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_keeps_the_shorter_side_at_or_above_256() {
        assert_eq!(reduction(1920, 1080), 4);
        assert_eq!(reduction(1080, 1920), 4);
        assert_eq!(reduction(1280, 720), 2);
        assert_eq!(reduction(320, 180), 1);
    }

    #[test]
    fn reducing_averages_the_centre_of_each_cell() {
        // 4x4 frame, k = 2: every output pixel is its 2x2 cell's mean.
        let mut f = vec![0u8; 4 * 4 * 3];
        for (i, p) in f.chunks_exact_mut(3).enumerate() {
            p.fill((i % 4) as u8 * 10 + (i / 4) as u8 * 40);
        }
        let s = Small::from_frame(&f, 4, 4, 2);
        assert_eq!((s.w, s.h), (2, 2));
        // cell (0,0): values 0,10,40,50 -> 25
        assert_eq!(s.rgb[0], 25);
        // cell (1,1): 20+30+... rows 2,3 cols 2,3 -> 100,110,140,150 -> 125
        assert_eq!(s.rgb[9], 125);
        assert!((s.luma[0] - 25.0).abs() < 0.01);
    }

    #[test]
    fn sad_counts_every_byte() {
        let a = vec![10u8; 200_000];
        let mut b = a.clone();
        b[0] = 0;
        b[199_999] = 30;
        assert_eq!(sad_u8(&a, &b), 30);
    }
}
