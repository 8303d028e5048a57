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

/// Sum of |a-b| over two u8 slices (up to the shorter one's length). On x86-64 it runs
/// 32 bytes a step on SSE2's `psadbw`, which every x86-64 processor has: the compiler's own
/// vectorisation of the plain loop loads 4 bytes a step, and this sum runs over every
/// byte of every full frame the scorer sees (flicker, the frozen gate).
pub fn sad_u8(a: &[u8], b: &[u8]) -> u64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_add_epi64, _mm_loadu_si128, _mm_sad_epu8, _mm_setzero_si128, _mm_storeu_si128};
        let steps = n / 32;
        let mut lanes = [0u64; 4];
        // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes at
        // offsets below `steps * 32 <= n` of slices of length `n`, unaligned loads allowed.
        unsafe {
            let (mut s0, mut s1) = (_mm_setzero_si128(), _mm_setzero_si128());
            let (pa, pb) = (a.as_ptr() as *const __m128i, b.as_ptr() as *const __m128i);
            for i in 0..steps {
                s0 = _mm_add_epi64(s0, _mm_sad_epu8(_mm_loadu_si128(pa.add(2 * i)), _mm_loadu_si128(pb.add(2 * i))));
                s1 = _mm_add_epi64(s1, _mm_sad_epu8(_mm_loadu_si128(pa.add(2 * i + 1)), _mm_loadu_si128(pb.add(2 * i + 1))));
            }
            _mm_storeu_si128(lanes.as_mut_ptr() as *mut __m128i, s0);
            _mm_storeu_si128(lanes.as_mut_ptr().add(2) as *mut __m128i, s1);
        }
        lanes.iter().sum::<u64>() + sad_u8_plain(&a[steps * 32..], &b[steps * 32..])
    }
    #[cfg(not(target_arch = "x86_64"))]
    sad_u8_plain(a, b)
}

fn sad_u8_plain(a: &[u8], b: &[u8]) -> u64 {
    a.iter().zip(b).map(|(&x, &y)| x.abs_diff(y) as u64).sum()
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
    fn sad_matches_the_plain_sum_at_every_length_and_offset() {
        let a: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let b: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(40_503) >> 5) as u8).collect();
        for start in 0..17 {
            for len in [0, 1, 15, 16, 31, 32, 33, 64, 100, 283 - start] {
                let (x, y) = (&a[start..start + len], &b[..len + 5]);
                let plain: u64 = x.iter().zip(y).map(|(p, q)| p.abs_diff(*q) as u64).sum();
                assert_eq!(sad_u8(x, y), plain, "start {start} len {len}");
            }
        }
        assert_eq!(sad_u8(&vec![255; 1 << 20], &vec![0; 1 << 20]), 255 << 20);
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
