//! The colour matrix of the clips admint makes: BT.601 at limited range, which is what
//! ffmpeg assumes for untagged H.264 and converts with. Float forms for building tables
//! (`grade.rs`), and a whole-frame converter for frames drawn in Rust.

/// 8-bit Y'CbCr to 0..1 RGB (unclamped).
pub fn to_rgb(y: u8, cb: u8, cr: u8) -> [f64; 3] {
    let (y, pb, pr) = ((f64::from(y) - 16.0) / 219.0, (f64::from(cb) - 128.0) / 224.0, (f64::from(cr) - 128.0) / 224.0);
    [y + 1.402 * pr, y - 0.344_136 * pb - 0.714_136 * pr, y + 1.772 * pb]
}

/// 0..1 RGB to 8-bit Y'CbCr.
pub fn to_yuv(c: [f64; 3]) -> [u8; 3] {
    let y = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    let q = |x: f64| x.round().clamp(0.0, 255.0) as u8;
    [q(16.0 + 219.0 * y), q(128.0 + 224.0 * (c[2] - y) / 1.772), q(128.0 + 224.0 * (c[0] - y) / 1.402)]
}

/// Bytes of a `width` x `height` frame in planar 4:2:0 (chroma planes rounded up).
pub fn yuv420_len(width: usize, height: usize) -> usize {
    width * height + 2 * width.div_ceil(2) * height.div_ceil(2)
}

/// An rgb24 frame to planar 4:2:0 (`yuv420p`): luma per pixel, chroma from the mean of
/// each 2x2 cell. Integer weights (the matrix × 2¹⁶) keep it within half a level of
/// `to_yuv` at a few ns a pixel, which saves ffmpeg converting on the way to x264 and
/// halves the bytes piped to it.
pub fn rgb_to_yuv420(rgb: &[u8], width: usize, height: usize, out: &mut [u8]) {
    // Y = 16 + 219/255 (0.299 R + 0.587 G + 0.114 B); Cb, Cr = 128 + 224/255 (B − Y)/1.772, (R − Y)/1.402.
    const Y: [i32; 3] = [16_829, 33_039, 6_416];
    const CB: [i32; 3] = [-9_714, -19_070, 28_784];
    const CR: [i32; 3] = [28_784, -24_103, -4_681];
    const HALF: i32 = 1 << 15;
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let (luma, chroma) = out[..yuv420_len(width, height)].split_at_mut(width * height);
    let (cb, cr) = chroma.split_at_mut(cw * ch);
    for (src, dst) in rgb.chunks_exact(width * 3).zip(luma.chunks_exact_mut(width)) {
        for (p, y) in src.chunks_exact(3).zip(dst.iter_mut()) {
            let v = Y[0] * p[0] as i32 + Y[1] * p[1] as i32 + Y[2] * p[2] as i32;
            *y = (16 + ((v + HALF) >> 16)) as u8;
        }
    }
    for cy in 0..ch {
        let (r0, r1) = (2 * cy, (2 * cy + 1).min(height - 1));
        for cx in 0..cw {
            let (c0, c1) = (2 * cx, (2 * cx + 1).min(width - 1));
            let mut sum = [0i32; 3];
            for (r, c) in [(r0, c0), (r0, c1), (r1, c0), (r1, c1)] {
                let p = &rgb[(r * width + c) * 3..(r * width + c) * 3 + 3];
                for k in 0..3 {
                    sum[k] += p[k] as i32;
                }
            }
            // The sums are four pixels: weights ÷ 4 fold into the shift.
            let dot = |m: [i32; 3]| m[0] * sum[0] + m[1] * sum[1] + m[2] * sum[2];
            let q = |v: i32| (128 + ((v + (HALF << 2)) >> 18)).clamp(0, 255) as u8;
            cb[cy * cw + cx] = q(dot(CB));
            cr[cy * cw + cx] = q(dot(CR));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_converter_agrees_with_the_matrix_within_a_level() {
        // Every 2x2 cell one flat colour, across the cube (corners and inside).
        let (w, h) = (34, 6);
        let colours: Vec<[u8; 3]> = (0..(w / 2) * (h / 2)).map(|i| [(i * 53 % 256) as u8, (i * 97 % 256) as u8, (255 - i * 31 % 256) as u8]).chain([[0; 3], [255; 3]]).collect();
        let mut rgb = vec![0u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let c = colours[(y / 2) * (w / 2) + x / 2];
                rgb[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&c);
            }
        }
        let mut out = vec![0u8; yuv420_len(w, h)];
        rgb_to_yuv420(&rgb, w, h, &mut out);
        let (cw, _) = (w / 2, h / 2);
        for cy in 0..h / 2 {
            for cx in 0..cw {
                let c = colours[cy * cw + cx];
                let want = to_yuv(c.map(|v| v as f64 / 255.0));
                let got = [out[(2 * cy) * w + 2 * cx], out[w * h + cy * cw + cx], out[w * h + cw * (h / 2) + cy * cw + cx]];
                for k in 0..3 {
                    assert!(got[k].abs_diff(want[k]) <= 1, "{c:?}: {got:?} vs {want:?}");
                }
            }
        }
        // Black and white land on the range's ends.
        let mut px = vec![0u8; yuv420_len(2, 2)];
        rgb_to_yuv420(&[255; 12], 2, 2, &mut px);
        assert_eq!(px, [235, 235, 235, 235, 128, 128]);
        rgb_to_yuv420(&[0; 12], 2, 2, &mut px);
        assert_eq!(px, [16, 16, 16, 16, 128, 128]);
    }

    #[test]
    fn odd_sizes_round_the_chroma_planes_up() {
        assert_eq!(yuv420_len(3, 3), 9 + 2 * 4);
        let mut out = vec![0u8; yuv420_len(3, 3)];
        rgb_to_yuv420(&[200; 27], 3, 3, &mut out);
        assert!(out[9..].iter().all(|&c| c == 128));
    }
}
