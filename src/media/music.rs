//! The offline composer: a royalty-free music bed made in Rust, sample by sample.
//!
//! A mood (from the brief's tone) sets the tempo, the mode, a chord progression and a
//! groove; the seed picks the key and the variations. The bed is exactly the advert's
//! length: whole bars up to the end card (the tempo bends a little to fit), then the
//! tonic chord lands on the end card and rings out. Instruments are small synthesisers:
//! detuned-saw pads, a filtered saw bass, Karplus–Strong plucks, and a synthesised kit
//! (kick, snare, clap, hats). Deterministic: the same inputs give the same samples.

use std::f64::consts::TAU;
use std::io::Write;
use std::path::Path;

use crate::domain::Rng;

pub const SAMPLE_RATE: u32 = 48_000;

/// What the bed should feel like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Energetic,
    Calm,
    Dramatic,
    Luxury,
    Playful,
}

impl Mood {
    /// The mood a tone asks for (energetic for anything bold or sporty, calm for soft and
    /// gentle words, and so on); playful when the tone says nothing that matches.
    pub fn for_tone(tone: &str) -> Mood {
        let t = tone.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        if has(&["dramatic", "epic", "cinematic", "emotional", "dark", "moody", "serious", "intense"]) {
            Mood::Dramatic
        } else if has(&["luxury", "premium", "elegant", "sophisticated", "exclusive", "refined"]) {
            Mood::Luxury
        } else if has(&["calm", "soft", "gentle", "serene", "relax", "peaceful", "warm", "minimal", "cosy", "cozy"]) {
            Mood::Calm
        } else if has(&["energetic", "bold", "sport", "hype", "upbeat", "powerful", "fast", "loud", "dynamic", "young"]) {
            Mood::Energetic
        } else {
            Mood::Playful
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Mood::Energetic => "energetic",
            Mood::Calm => "calm",
            Mood::Dramatic => "dramatic",
            Mood::Luxury => "luxury",
            Mood::Playful => "playful",
        }
    }
}

/// Everything the bed is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct MusicSpec {
    pub mood: Mood,
    /// Length of the whole advert.
    pub total_s: f64,
    /// Where the end card starts: the final chord lands here.
    pub cadence_s: f64,
    pub seed: u64,
}

/// What was made, for the plan (cut-on-the-beat) and the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Bed {
    /// Interleaved stereo, -1..1.
    pub samples: Vec<f32>,
    pub bpm: f64,
    /// MIDI note of the key's root.
    pub root: u8,
    pub minor: bool,
    pub bars: usize,
}

impl Bed {
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / 2.0 / SAMPLE_RATE as f64
    }
}

const MAJOR: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];

/// The arrangement of a mood.
struct Style {
    bpm: f64,
    minor: bool,
    /// Roots (MIDI) the key is picked from.
    roots: &'static [u8],
    /// Progressions (scale degrees, 0-based), one chord a bar.
    progressions: &'static [[usize; 4]],
    sevenths: bool,
    kick: &'static str,
    snare: &'static str,
    hats: &'static str,
    /// Bass hits in sixteenths (`x` plays the root, `o` the fifth, `.` rests).
    bass: &'static str,
    /// Pluck arpeggio step in sixteenths (0: none).
    arp_step: usize,
    swing: f64,
    pad_level: f64,
}

fn style(mood: Mood) -> Style {
    match mood {
        Mood::Energetic => Style {
            bpm: 124.0,
            minor: true,
            roots: &[45, 47, 50, 52],
            progressions: &[[0, 5, 2, 6], [0, 3, 5, 4], [5, 3, 0, 4]],
            sevenths: false,
            kick: "x...x...x...x...",
            snare: "....x.......x...",
            hats: "..x...x...x...x.",
            bass: "x.x.x.x.x.x.o.x.",
            arp_step: 2,
            swing: 0.0,
            pad_level: 0.10,
        },
        Mood::Calm => Style {
            bpm: 84.0,
            minor: false,
            roots: &[48, 50, 53, 55],
            progressions: &[[0, 4, 5, 3], [0, 5, 3, 4], [3, 0, 4, 5]],
            sevenths: true,
            kick: "x.......x.......",
            snare: "................",
            hats: "....x.......x...",
            bass: "x.......o.......",
            arp_step: 4,
            swing: 0.0,
            pad_level: 0.16,
        },
        Mood::Dramatic => Style {
            bpm: 90.0,
            minor: true,
            roots: &[43, 45, 48],
            progressions: &[[0, 3, 5, 4], [0, 5, 3, 4], [0, 6, 5, 4]],
            sevenths: false,
            kick: "x.........x.....",
            snare: "........x.......",
            hats: "x...x...x...x...",
            bass: "x...............",
            arp_step: 0,
            swing: 0.0,
            pad_level: 0.2,
        },
        Mood::Luxury => Style {
            bpm: 96.0,
            minor: false,
            roots: &[50, 51, 53, 56],
            progressions: &[[0, 5, 1, 4], [3, 4, 2, 5], [0, 3, 1, 4]],
            sevenths: true,
            kick: "x.......x.x.....",
            snare: "....x.......x...",
            hats: "x.x.x.x.x.x.x.x.",
            bass: "x.....x...o.....",
            arp_step: 0,
            swing: 0.12,
            pad_level: 0.14,
        },
        Mood::Playful => Style {
            bpm: 112.0,
            minor: false,
            roots: &[48, 50, 52, 55],
            progressions: &[[0, 4, 5, 3], [0, 3, 4, 3], [5, 3, 0, 4]],
            sevenths: false,
            kick: "x.....x...x.....",
            snare: "....x.......x...",
            hats: "x.x.x.x.x.x.x.x.",
            bass: "x..x..x.o..o.x..",
            arp_step: 2,
            swing: 0.18,
            pad_level: 0.09,
        },
    }
}

fn midi_hz(n: f64) -> f64 {
    440.0 * 2f64.powf((n - 69.0) / 12.0)
}

/// The notes of the chord on scale degree `d` (0-based), from `root`.
fn chord(root: u8, minor: bool, d: usize, sevenths: bool) -> Vec<f64> {
    let scale = if minor { MINOR } else { MAJOR };
    let note = |k: usize| root as i32 + scale[k % 7] + 12 * (k / 7) as i32;
    let mut n = vec![note(d), note(d + 2), note(d + 4)];
    if sevenths {
        n.push(note(d + 6));
    }
    n.into_iter().map(|m| m as f64).collect()
}

/// A stereo buffer being written.
struct Mix {
    l: Vec<f64>,
    r: Vec<f64>,
}

impl Mix {
    fn add(&mut self, at: usize, sample: f64, pan: f64) {
        if at < self.l.len() {
            let (gl, gr) = (((1.0 - pan) * 0.5).sqrt(), ((1.0 + pan) * 0.5).sqrt());
            self.l[at] += sample * gl;
            self.r[at] += sample * gr;
        }
    }
}

fn sr() -> f64 {
    SAMPLE_RATE as f64
}

/// A kick: a sine swept from 120 Hz down to 48 Hz, fast decay.
fn kick(m: &mut Mix, at: usize, level: f64) {
    let n = (0.35 * sr()) as usize;
    let mut phase = 0.0;
    for i in 0..n {
        let t = i as f64 / sr();
        let f = 48.0 + 72.0 * (-t * 28.0).exp();
        phase += TAU * f / sr();
        let env = (-t * 9.0).exp() * (1.0 - (-t * 800.0).exp());
        m.add(at + i, phase.sin() * env * level, 0.0);
    }
}

/// A noise instrument: hats (short, bright), snares (with a 185 Hz body), claps (three
/// quick bursts), a crash.
#[derive(Debug, Clone, Copy)]
struct Noise {
    decay: f64,
    /// High-pass corner, Hz.
    hp: f64,
    /// A tone under the noise (Hz; 0 for none).
    body: f64,
    level: f64,
    pan: f64,
    bursts: usize,
}

const HAT: Noise = Noise { decay: 0.018, hp: 7000.0, body: 0.0, level: 0.12, pan: 0.35, bursts: 1 };
const SNARE: Noise = Noise { decay: 0.12, hp: 900.0, body: 185.0, level: 0.35, pan: 0.1, bursts: 1 };
const CLAP: Noise = Noise { decay: 0.09, hp: 900.0, body: 0.0, level: 0.35, pan: 0.1, bursts: 3 };
const FILL: Noise = Noise { decay: 0.06, hp: 1200.0, body: 185.0, level: 0.18, pan: 0.0, bursts: 1 };
const CRASH: Noise = Noise { decay: 0.5, hp: 3000.0, body: 0.0, level: 0.12, pan: 0.0, bursts: 1 };

/// Noise through a one-pole high-pass, with a decay.
fn noise_hit(m: &mut Mix, rng: &mut Rng, at: usize, n: Noise) {
    let Noise { decay, hp, body, level, pan, bursts } = n;
    let n = ((decay * 6.0 + 0.03) * sr()) as usize;
    let a = (-TAU * hp / sr()).exp();
    let (mut prev_in, mut prev_out) = (0.0, 0.0);
    for i in 0..n {
        let t = i as f64 / sr();
        let x = rng.unit() * 2.0 - 1.0;
        let y = a * (prev_out + x - prev_in);
        prev_in = x;
        prev_out = y;
        // Claps: the first bursts are short and quick, the last one rings.
        let burst = (0..bursts.saturating_sub(1)).map(|b| if t >= b as f64 * 0.011 && t < b as f64 * 0.011 + 0.006 { 1.0 } else { 0.0 }).fold(0.0, f64::max);
        let tail_t = (t - bursts.saturating_sub(1) as f64 * 0.011).max(0.0);
        let env = burst.max(if t >= bursts.saturating_sub(1) as f64 * 0.011 { (-tail_t / decay).exp() } else { 0.0 });
        let tone = if body > 0.0 { (TAU * body * t).sin() * (-t * 30.0).exp() * 0.6 } else { 0.0 };
        m.add(at + i, (y * env + tone) * level, pan);
    }
}

/// A bass note: two saws an octave apart through a one-pole low-pass that closes.
fn bass(m: &mut Mix, at: usize, note: f64, len_s: f64, level: f64) {
    let f = midi_hz(note);
    let n = (len_s * sr()) as usize;
    let mut lp = 0.0;
    for i in 0..n {
        let t = i as f64 / sr();
        let saw = |hz: f64| 2.0 * ((hz * t).fract()) - 1.0;
        let x = saw(f) * 0.7 + saw(f * 2.0) * 0.3;
        let cutoff = 180.0 + 900.0 * (-t * 10.0).exp();
        let a = 1.0 - (-TAU * cutoff / sr()).exp();
        lp += a * (x - lp);
        let env = (1.0 - (-t * 300.0).exp()) * (1.0 - (t / len_s).powi(4)).max(0.0);
        m.add(at + i, lp * env * level, 0.0);
    }
}

/// A pad chord: three detuned saws a note, softened by a low-pass, slow attack and
/// release, spread across the stereo field.
fn pad(m: &mut Mix, at: usize, notes: &[f64], len_s: f64, level: f64) {
    let n = ((len_s + 0.6) * sr()) as usize;
    let a = 1.0 - (-TAU * 1400.0 / sr()).exp();
    for (k, note) in notes.iter().enumerate() {
        let f = midi_hz(*note);
        let mut lp = [0.0; 2];
        for i in 0..n {
            let t = i as f64 / sr();
            let saw = |hz: f64| 2.0 * ((hz * t).fract()) - 1.0;
            let v = [saw(f * 0.997) + saw(f), saw(f * 1.003) + saw(f)];
            let env = (t / 0.35).min(1.0) * if t > len_s { (-(t - len_s) / 0.25).exp() } else { 1.0 };
            for c in 0..2 {
                lp[c] += a * (v[c] * 0.5 - lp[c]);
            }
            let spread = 0.5 - 0.25 * (k % 3) as f64;
            m.add(at + i, lp[0] * env * level / notes.len() as f64, -spread);
            m.add(at + i, lp[1] * env * level / notes.len() as f64, spread);
        }
    }
}

/// A plucked string (Karplus–Strong): a burst of noise in a delay line that loses its
/// highs each round trip.
fn pluck(m: &mut Mix, rng: &mut Rng, at: usize, note: f64, level: f64, pan: f64) {
    let period = (sr() / midi_hz(note)).round().max(2.0) as usize;
    let mut line: Vec<f64> = (0..period).map(|_| rng.unit() * 2.0 - 1.0).collect();
    let n = (0.9 * sr()) as usize;
    let mut idx = 0;
    for i in 0..n {
        let next = (idx + 1) % period;
        let y = line[idx];
        line[idx] = 0.996 * 0.5 * (line[idx] + line[next]);
        idx = next;
        m.add(at + i, y * level, pan);
    }
}

/// The bed's tempo and bars: whole bars up to the end card, the mood's tempo bent
/// (within about ±8 %) so they fit.
pub fn bed_tempo(spec: &MusicSpec) -> (f64, usize) {
    let st = style(spec.mood);
    let bar_s = 240.0 / st.bpm;
    let body = spec.cadence_s.max(bar_s);
    let bars = (body / bar_s).round().max(1.0) as usize;
    (240.0 * bars as f64 / body, bars)
}

/// Compose the bed.
pub fn compose_bed(spec: &MusicSpec) -> Bed {
    let st = style(spec.mood);
    let mut rng = Rng::new(spec.seed ^ 0x006D_7573_6963);
    let root = *rng.pick(st.roots);
    let prog = *rng.pick(st.progressions);
    let bar_s = 240.0 / st.bpm;
    let (bpm, bars) = bed_tempo(spec);
    let sixteenth = 15.0 / bpm;
    let total = (spec.total_s * sr()).round() as usize;
    let mut m = Mix { l: vec![0.0; total], r: vec![0.0; total] };
    let at = |t: f64| (t * sr()).round() as usize;
    let hits = |pattern: &str, step: usize| pattern.as_bytes().get(step % 16).copied().unwrap_or(b'.');

    for bar in 0..bars {
        let t0 = bar as f64 * bar_s * st.bpm / bpm;
        let notes = chord(root, st.minor, prog[bar % 4], st.sevenths);
        let last_bar = bar + 1 == bars;
        let intro = bar == 0 && bars > 2;
        pad(&mut m, at(t0), &notes.iter().map(|n| n + 12.0).collect::<Vec<_>>(), 16.0 * sixteenth, st.pad_level);
        for step in 0..16 {
            let swing = if step % 2 == 1 { st.swing * sixteenth } else { 0.0 };
            let t = t0 + step as f64 * sixteenth + swing;
            // The last bar before the end card fills: snare on every other sixteenth, rising.
            if last_bar && step >= 8 && bars > 1 {
                if step % 2 == 0 || spec.mood == Mood::Energetic {
                    noise_hit(&mut m, &mut rng, at(t), Noise { level: FILL.level + 0.04 * (step - 8) as f64, ..FILL });
                }
                continue;
            }
            if !intro && hits(st.kick, step) == b'x' {
                kick(&mut m, at(t), 0.9);
            }
            if !intro && hits(st.snare, step) == b'x' {
                let clap = matches!(spec.mood, Mood::Energetic | Mood::Playful);
                noise_hit(&mut m, &mut rng, at(t), if clap { CLAP } else { SNARE });
            }
            if hits(st.hats, step) == b'x' {
                noise_hit(&mut m, &mut rng, at(t), HAT);
            }
            if !intro {
                match hits(st.bass, step) {
                    b'x' => bass(&mut m, at(t), notes[0] - 12.0, sixteenth * 1.8, 0.45),
                    b'o' => bass(&mut m, at(t), notes[0] - 5.0, sixteenth * 1.8, 0.45),
                    _ => {}
                }
            }
            if st.arp_step > 0 && step % st.arp_step == 0 && !intro {
                let k = (step / st.arp_step + bar) % notes.len();
                let octave = if (step / st.arp_step) % 4 == 3 { 24.0 } else { 12.0 };
                pluck(&mut m, &mut rng, at(t), notes[k] + octave, 0.16, -0.3);
            }
        }
    }
    // The cadence: the tonic lands on the end card and rings out.
    let end = spec.total_s - spec.cadence_s;
    if end > 0.05 {
        let t = bars as f64 * bar_s * st.bpm / bpm;
        let tonic = chord(root, st.minor, 0, st.sevenths);
        kick(&mut m, at(t), 1.0);
        noise_hit(&mut m, &mut rng, at(t), CRASH);
        bass(&mut m, at(t), tonic[0] - 12.0, end, 0.5);
        pad(&mut m, at(t), &tonic.iter().map(|n| n + 12.0).collect::<Vec<_>>(), (end - 0.4).max(0.1), st.pad_level * 1.4);
        for (k, n) in tonic.iter().enumerate() {
            pluck(&mut m, &mut rng, at(t + 0.03 * k as f64), n + 12.0, 0.14, -0.3 + 0.3 * k as f64);
        }
    }
    // Master: a soft saturator, a fade over the last 150 ms, peak at -1 dBFS.
    let fade = at(0.15).min(total);
    let mut samples = Vec::with_capacity(total * 2);
    for i in 0..total {
        let g = if i + fade >= total { (total - i) as f64 / fade.max(1) as f64 } else { 1.0 };
        for x in [m.l[i], m.r[i]] {
            samples.push(((x * 1.3).tanh() * g) as f32);
        }
    }
    let peak = samples.iter().fold(0f32, |a, s| a.max(s.abs())).max(1e-6);
    let gain = 10f32.powf(-1.0 / 20.0) / peak;
    samples.iter_mut().for_each(|s| *s *= gain);
    Bed { samples, bpm, root, minor: st.minor, bars }
}

/// Write a bed as a 16-bit PCM stereo WAV.
pub fn write_wav(bed: &Bed, path: &Path) -> std::io::Result<()> {
    let data_len = (bed.samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&2u16.to_le_bytes()); // stereo
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 4).to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in &bed.samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes());
    }
    let tmp = path.with_extension("wav.part");
    std::fs::File::create(&tmp)?.write_all(&out)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mood: Mood, seed: u64) -> MusicSpec {
        MusicSpec { mood, total_s: 12.0, cadence_s: 10.0, seed }
    }

    #[test]
    fn the_bed_is_exactly_the_advert_long_and_reproducible() {
        let a = compose_bed(&spec(Mood::Energetic, 3));
        assert_eq!(a.samples.len(), 12 * SAMPLE_RATE as usize * 2);
        assert_eq!(a, compose_bed(&spec(Mood::Energetic, 3)), "same seed, same samples");
        assert_ne!(a.samples, compose_bed(&spec(Mood::Energetic, 4)).samples);
        let calm = compose_bed(&spec(Mood::Calm, 3));
        assert!(calm.bpm < a.bpm - 20.0, "calm is slower: {} vs {}", calm.bpm, a.bpm);
        assert_ne!((calm.root, calm.minor), (a.root, a.minor), "another key");
        // Whole bars up to the cadence.
        assert!(((a.bars as f64) * 240.0 / a.bpm - 10.0).abs() < 1e-9);
        let peak = a.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((peak - 0.891).abs() < 0.01, "peak at -1 dBFS: {peak}");
    }

    #[test]
    fn moods_follow_the_tone() {
        assert_eq!(Mood::for_tone("Energetic"), Mood::Energetic);
        assert_eq!(Mood::for_tone("premium"), Mood::Luxury);
        assert_eq!(Mood::for_tone("calm and warm"), Mood::Calm);
        assert_eq!(Mood::for_tone("epic"), Mood::Dramatic);
        assert_eq!(Mood::for_tone(""), Mood::Playful);
    }
}
