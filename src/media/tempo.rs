//! The beat of a music track admint did not compose (the user's file, a remote model's
//! bed): an onset-strength envelope, its autocorrelation over 70–180 BPM with a mild
//! preference for moderate tempos, and the phase that puts the most onsets on the beat.
//! A track with no clear pulse gives no beat (cuts then stay where they were planned).

use std::path::Path;

use super::{Ffmpeg, MediaError};

/// Beats at `offset_s + k · period_s`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BeatGrid {
    pub period_s: f64,
    pub offset_s: f64,
}

impl BeatGrid {
    pub fn bpm(&self) -> f64 {
        60.0 / self.period_s
    }
}

/// Sample rate the track is analysed at, and the envelope's hop (≈ 11.6 ms).
const RATE: u32 = 11_025;
const HOP: usize = 128;
const MIN_BPM: f64 = 70.0;
const MAX_BPM: f64 = 180.0;
/// The autocorrelation peak must stand this far above the lag range's mean.
const MIN_CLARITY: f64 = 1.6;

/// The beat of the track at `path`, or `None` when it has no clear pulse.
pub fn detect_beat(ff: &Ffmpeg, path: &Path) -> Result<Option<BeatGrid>, MediaError> {
    let samples = super::frames::mono_audio(ff, path, RATE)?;
    Ok(estimate(&samples, RATE))
}

/// Onset strength per hop: the rise of the energy of the signal's first difference
/// (which favours the attacks of drums and plucks over sustained tones), relative to its
/// mean, so a loud downbeat counts for more than a soft hat.
fn onset_envelope(samples: &[f32]) -> Vec<f64> {
    let energy: Vec<f64> = samples
        .windows(2)
        .map(|w| f64::from(w[1] - w[0]))
        .collect::<Vec<_>>()
        .chunks(HOP)
        .map(|c| c.iter().map(|x| x * x).sum::<f64>() / c.len() as f64)
        .collect();
    let level = energy.iter().sum::<f64>() / energy.len().max(1) as f64 + 1e-12;
    let mut env: Vec<f64> = energy.windows(2).map(|w| (w[1] - w[0]).max(0.0) / level).collect();
    env.insert(0, 0.0);
    // Remove the slow trend so sections of different loudness weigh alike.
    let mean = env.iter().sum::<f64>() / env.len().max(1) as f64;
    env.iter_mut().for_each(|e| *e = (*e - mean).max(0.0));
    // Spread each attack over its neighbours: a beat period is rarely a whole number of
    // hops, and one-hop spikes would only half meet their neighbours' at integer lags.
    for _ in 0..2 {
        let prev = env.clone();
        for i in 1..env.len().saturating_sub(1) {
            env[i] = 0.25 * prev[i - 1] + 0.5 * prev[i] + 0.25 * prev[i + 1];
        }
    }
    env
}

/// The beat of mono `samples` at `rate` Hz.
pub fn estimate(samples: &[f32], rate: u32) -> Option<BeatGrid> {
    let hop_s = HOP as f64 / f64::from(rate);
    let env = onset_envelope(samples);
    // No attack rises by the track's mean energy: nothing to keep time by.
    if env.iter().copied().fold(0.0, f64::max) < 1.0 {
        return None;
    }
    let (lo, hi) = ((60.0 / MAX_BPM / hop_s).floor() as usize, (60.0 / MIN_BPM / hop_s).ceil() as usize);
    if env.len() < hi * 4 {
        return None;
    }
    let ac = |lag: usize| env.iter().zip(&env[lag..]).map(|(a, b)| a * b).sum::<f64>() / (env.len() - lag) as f64;
    let raw: Vec<f64> = (lo..=hi).map(ac).collect();
    let mean = raw.iter().sum::<f64>() / raw.len() as f64;
    // A log-normal preference centred on 120 BPM, an octave wide: breaks ties between
    // a tempo and its half or double.
    let weight = |lag: usize| {
        let bpm = 60.0 / (lag as f64 * hop_s);
        (-0.5 * ((bpm / 120.0).log2() / 1.0).powi(2)).exp()
    };
    let (best, peak) = (lo..=hi).zip(&raw).map(|(lag, v)| (lag, v * weight(lag))).max_by(|a, b| a.1.total_cmp(&b.1))?;
    if mean <= 0.0 || raw[best - lo] / mean < MIN_CLARITY || peak <= 0.0 {
        return None;
    }
    // Twice as fast, when its pulse is nearly as strong (a beat and its half both
    // line every beat up): the faster is the beat, the slower its bar-half.
    let half = (best as f64 / 2.0).round() as usize;
    let best = if half >= lo && raw[half - lo].max(raw.get(half + 1 - lo).copied().unwrap_or(0.0)) >= 0.85 * raw[best - lo] { half } else { best };
    // Refine the period and find the phase together: the comb (a tooth per beat over the
    // whole track) that collects the most onset strength. A period off by 0.5 % drifts
    // a whole hop every few beats, so the autocorrelation's lag is only the start.
    let comb = |lag: f64, phase: f64| {
        let mut sum = 0.0;
        let mut t = phase;
        while t.round() < env.len() as f64 {
            sum += env[t.round() as usize];
            t += lag;
        }
        sum
    };
    let mut fit = (best as f64, 0.0, f64::MIN);
    for step in -40..=40 {
        let lag = best as f64 + f64::from(step) * 0.025;
        for p in 0..best {
            let score = comb(lag, p as f64);
            if score > fit.2 {
                fit = (lag, p as f64, score);
            }
        }
    }
    let (period_s, phase) = (fit.0 * hop_s, fit.1);
    Some(BeatGrid { period_s, offset_s: phase * hop_s })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// White noise in [-1, 1] (xorshift32), the same for the same seed.
    fn noise(seed: u32) -> impl FnMut() -> f32 {
        let mut rng = seed.wrapping_mul(2_654_435_761) | 1;
        move || {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            (rng as f32 / u32::MAX as f32) * 2.0 - 1.0
        }
    }

    /// A drum-like click (a decaying noise burst) at every beat, quieter off-beat hats,
    /// and a sustained tone under it all.
    fn track(bpm: f64, offset_s: f64, seconds: f64, seed: u32) -> Vec<f32> {
        let n = (seconds * f64::from(RATE)) as usize;
        let mut out = vec![0f32; n];
        let mut noise = noise(seed);
        let period = 60.0 / bpm;
        let mut hit = |at: f64, gain: f32, out: &mut Vec<f32>| {
            let start = (at * f64::from(RATE)) as usize;
            for i in 0..(0.08 * f64::from(RATE)) as usize {
                if let Some(s) = out.get_mut(start + i) {
                    *s += gain * noise() * (-(i as f32) / 180.0).exp();
                }
            }
        };
        let mut t = offset_s;
        while t < seconds {
            hit(t, 0.8, &mut out);
            hit(t + period / 2.0, 0.25, &mut out);
            t += period;
        }
        for (i, s) in out.iter_mut().enumerate() {
            *s += 0.2 * (i as f32 * 2.0 * std::f32::consts::PI * 220.0 / RATE as f32).sin();
        }
        out
    }

    #[test]
    fn finds_the_tempo_and_the_phase_of_a_beat() {
        for (bpm, offset) in [(128.0, 0.23), (96.0, 0.05), (150.0, 0.31), (84.0, 0.6)] {
            let g = estimate(&track(bpm, offset, 20.0, 7), RATE).unwrap_or_else(|| panic!("{bpm} bpm: no beat found"));
            assert!((g.bpm() - bpm).abs() / bpm < 0.01, "{bpm} bpm heard as {:.2}", g.bpm());
            let off = (g.offset_s - offset).rem_euclid(g.period_s);
            assert!(off.min(g.period_s - off) < 0.025, "{bpm} bpm: beat at {:.3}s, expected {offset}", g.offset_s);
        }
    }

    #[test]
    fn a_track_without_a_pulse_has_no_beat() {
        let mut white = noise(99);
        let hiss: Vec<f32> = (0..RATE * 15).map(|_| white()).collect();
        assert_eq!(estimate(&hiss, RATE), None);
        let tone: Vec<f32> = (0..RATE * 15).map(|i| (i as f32 * 0.1).sin()).collect();
        assert_eq!(estimate(&tone, RATE), None);
        assert_eq!(estimate(&[0.0; 1000], RATE), None, "too short to tell");
    }
}
