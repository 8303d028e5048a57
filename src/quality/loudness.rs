//! EBU R128 / ITU-R BS.1770-4 loudness: K-weighting, 400 ms blocks every 100 ms, an
//! absolute gate at −70 LUFS and a relative gate 10 LU below the ungated mean.

/// The sample rate audio is decoded at (the K-weighting coefficients are for 48 kHz).
pub const RATE: u32 = 48_000;
const SUB_BLOCK: usize = (RATE / 10) as usize;

#[derive(Clone, Copy, Default)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a: [f64; 2]) -> Biquad {
        Biquad { b, a, z: [0.0; 2] }
    }
    #[inline]
    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// BS.1770 channel weights by position in ffmpeg's default layouts.
fn weights(channels: usize) -> Vec<f64> {
    match channels {
        6 => vec![1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        n => vec![1.0; n],
    }
}

/// Streams interleaved f32 samples at 48 kHz into 100 ms weighted energies.
pub struct LoudnessMeter {
    channels: usize,
    filters: Vec<(Biquad, Biquad)>,
    weights: Vec<f64>,
    acc: Vec<f64>,
    filled: usize,
    /// Channel-weighted mean square of each 100 ms sub-block.
    sub_blocks: Vec<f64>,
}

/// What the meter found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loudness {
    /// Integrated loudness (LUFS); `None` when every block is below the absolute gate.
    pub integrated: Option<f64>,
    /// Momentary loudness (LUFS) of each 400 ms block, one every 100 ms.
    pub momentary: Vec<f64>,
}

impl LoudnessMeter {
    pub fn new(channels: usize) -> LoudnessMeter {
        let shelf = Biquad::new([1.53512485958697, -2.69169618940638, 1.19839281085285], [-1.69065929318241, 0.73248077421585]);
        let hpf = Biquad::new([1.0, -2.0, 1.0], [-1.99004745483398, 0.99007225036621]);
        LoudnessMeter {
            channels: channels.max(1),
            filters: vec![(shelf, hpf); channels.max(1)],
            weights: weights(channels.max(1)),
            acc: vec![0.0; channels.max(1)],
            filled: 0,
            sub_blocks: Vec::new(),
        }
    }

    pub fn push(&mut self, interleaved: &[f32]) {
        for frame in interleaved.chunks_exact(self.channels) {
            for (c, &x) in frame.iter().enumerate() {
                let (s, h) = &mut self.filters[c];
                let y = h.run(s.run(x as f64));
                self.acc[c] += y * y;
            }
            self.filled += 1;
            if self.filled == SUB_BLOCK {
                let e = self.acc.iter().zip(&self.weights).map(|(a, w)| w * a / SUB_BLOCK as f64).sum();
                self.sub_blocks.push(e);
                self.acc.iter_mut().for_each(|a| *a = 0.0);
                self.filled = 0;
            }
        }
    }

    pub fn finish(self) -> Loudness {
        let blocks: Vec<f64> = self.sub_blocks.windows(4).map(|w| w.iter().sum::<f64>() / 4.0).collect();
        let lufs = |e: f64| -0.691 + 10.0 * e.log10();
        let momentary: Vec<f64> = blocks.iter().map(|e| if *e > 0.0 { lufs(*e) } else { f64::NEG_INFINITY }).collect();
        let gated: Vec<f64> = blocks.iter().zip(&momentary).filter(|(_, l)| **l > -70.0).map(|(e, _)| *e).collect();
        let integrated = (!gated.is_empty()).then(|| {
            let relative = lufs(gated.iter().sum::<f64>() / gated.len() as f64) - 10.0;
            let kept: Vec<f64> = gated.iter().copied().filter(|e| lufs(*e) > relative).collect();
            lufs(kept.iter().sum::<f64>() / kept.len().max(1) as f64)
        });
        Loudness { integrated, momentary }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, amp: f64, secs: f64, channels: usize) -> Vec<f32> {
        let n = (secs * RATE as f64) as usize;
        (0..n).flat_map(|i| std::iter::repeat_n((amp * (2.0 * std::f64::consts::PI * freq * i as f64 / RATE as f64).sin()) as f32, channels)).collect()
    }

    #[test]
    fn a_full_scale_1k_sine_reads_about_minus_3_lufs() {
        // BS.1770: a 0 dBFS 997 Hz sine on one channel reads -3.01 LKFS.
        let mut m = LoudnessMeter::new(1);
        m.push(&sine(997.0, 1.0, 3.0, 1));
        let l = m.finish().integrated.unwrap();
        assert!((l + 3.01).abs() < 0.05, "{l}");
    }

    #[test]
    fn stereo_adds_3_db_and_silence_is_gated_out() {
        let mut m = LoudnessMeter::new(2);
        let mut s = sine(997.0, 0.1, 3.0, 2);
        s.extend(vec![0.0f32; 2 * RATE as usize * 3]);
        m.push(&s);
        let r = m.finish();
        let l = r.integrated.unwrap();
        // -23 LUFS per channel, +3 dB for two; the blocks that straddle the end of the
        // tone pass both gates and pull the figure down a little, as BS.1770 says.
        assert!((l + 20.0).abs() < 0.3, "{l}");
        assert!(r.momentary.last().unwrap().is_infinite());
        let mut quiet = LoudnessMeter::new(2);
        quiet.push(&vec![0.0; 96_000]);
        assert_eq!(quiet.finish().integrated, None);
    }
}
