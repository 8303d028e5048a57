//! Dynamic degree, VBench's protocol with classical flow instead of RAFT: frames sampled
//! every round-half-even(fps / 8), per pair the mean of the top 5 % flow magnitudes, a
//! threshold of 6 px on frames whose shorter side is 256 (scaled to the frames used),
//! and "dynamic" once round-half-even(4N / 16) pairs exceed it (N sampled frames).

use super::flow::BlockField;

/// Frames between samples.
pub fn interval(fps: f64) -> usize {
    ((fps / 8.0).round_ties_even() as usize).max(1)
}

/// VBench's threshold for frames whose shorter side is `short_side` pixels.
pub fn threshold(short_side: usize) -> f32 {
    6.0 * short_side as f32 / 256.0
}

/// Mean of the top 5 % of per-pixel flow magnitudes. Every pixel of a block carries the
/// block's vector; flat blocks, where block matching cannot see motion, are left out.
pub fn top_magnitude(field: &BlockField) -> f32 {
    let mut mags: Vec<f32> = field
        .vectors
        .iter()
        .zip(&field.textured)
        .filter(|(_, t)| **t)
        .map(|(v, _)| (v.0 * v.0 + v.1 * v.1).sqrt())
        .collect();
    if mags.is_empty() {
        return 0.0;
    }
    mags.sort_by(|a, b| b.total_cmp(a));
    let cut = ((mags.len() as f32 * 0.05) as usize).max(1);
    mags[..cut].iter().sum::<f32>() / cut as f32
}

/// VBench's `check_move` (returns at the first pair that reaches the count) and the
/// continuous fraction of pairs above the threshold.
pub fn verdict(pair_scores: &[f32], sampled_frames: usize, thres: f32) -> (bool, f64) {
    let count_num = (4.0 * sampled_frames as f64 / 16.0).round_ties_even() as usize;
    let mut count = 0;
    let mut dynamic = false;
    for s in pair_scores {
        if *s > thres {
            count += 1;
        }
        if count >= count_num {
            dynamic = true;
            break;
        }
    }
    let above = pair_scores.iter().filter(|s| **s > thres).count();
    let fraction = if pair_scores.is_empty() { 0.0 } else { above as f64 / pair_scores.len() as f64 };
    (dynamic, fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_interval_rounds_half_to_even_like_python() {
        assert_eq!(interval(30.0), 4); // 3.75
        assert_eq!(interval(24.0), 3);
        assert_eq!(interval(20.0), 2); // 2.5 -> 2
        assert_eq!(interval(60.0), 8); // 7.5 -> 8
        assert_eq!(interval(4.0), 1);
    }

    #[test]
    fn verdict_follows_check_move() {
        // 16 sampled frames -> 4 pairs needed.
        let mut s = vec![0.0f32; 15];
        assert!(!verdict(&s, 16, 6.0).0);
        for v in s.iter_mut().take(4) {
            *v = 7.0;
        }
        let (d, f) = verdict(&s, 16, 6.0);
        assert!(d);
        assert!((f - 4.0 / 15.0).abs() < 1e-9);
        // 2 sampled frames -> round(0.5) = 0 pairs: VBench calls any video dynamic.
        assert!(verdict(&[0.0], 2, 6.0).0);
        assert!(!verdict(&[], 1, 6.0).0);
    }

    #[test]
    fn top_magnitude_ignores_flat_blocks() {
        let mut vectors = vec![(0.0, 0.0); 100];
        vectors[0] = (30.0, 40.0);
        let mut textured = vec![true; 100];
        let f = BlockField { cols: 10, rows: 10, block: 8, vectors: vectors.clone(), textured: textured.clone() };
        assert!((top_magnitude(&f) - 10.0).abs() < 1e-4); // top 5 = {50, 0, 0, 0, 0}
        textured[0] = false;
        let f = BlockField { cols: 10, rows: 10, block: 8, vectors, textured };
        assert_eq!(top_magnitude(&f), 0.0);
    }
}
