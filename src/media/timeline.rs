//! The advert's one timeline: where each card and clip sits, how long it is on screen,
//! how transitions overlap neighbours, and where voice lines start. `build_graph` and the
//! QC gates both read it, so what is rendered and what is checked cannot disagree.
//!
//! A transition of length D at a boundary between two slots runs from D/2 before it to
//! D/2 after it: each side's stream is extended by half the overlap, so the advert keeps
//! exactly the planned length and every slot still starts where the plan says.

use crate::domain::{Transition, TransitionKind, VOICE_LEAD_S};

use super::ComposeSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    Intro,
    /// The clip of the k-th scene (0-based).
    Clip(usize),
    Outro,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub kind: SegmentKind,
    /// The planned slot on the advert's timeline.
    pub slot_start_s: f64,
    pub slot_s: f64,
    /// How the segment comes in (a cut for the first), its length fitted to the slots.
    pub transition_in: Transition,
    /// The stream rendered for it: from half the incoming overlap before the slot to half
    /// the outgoing overlap after it.
    pub render_start_s: f64,
    pub render_s: f64,
}

impl Segment {
    /// Seconds of the segment's stream before its slot starts (half the incoming overlap).
    pub fn lead_in_s(&self) -> f64 {
        self.slot_start_s - self.render_start_s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub segments: Vec<Segment>,
    pub total_s: f64,
}

/// A transition's length in an even number of frames (each side gives whole frames),
/// never longer than asked.
fn even_frames(s: f64, fps: u32) -> f64 {
    let step = 2.0 / fps as f64;
    (s / step + 1e-9).floor() * step
}

/// Cuts move at most this many frames to land on a beat.
pub const BEAT_SNAP_FRAMES: f64 = 3.0;

/// Cut on the beat: each boundary between two clips moves to the nearest beat of the
/// music (beats at `offset_s + k · period_s` from the advert's start) when one is within `BEAT_SNAP_FRAMES`, on the
/// frame grid. The cards' boundaries stay (the bed's cadence lands on the end card), so
/// the advert keeps its length; no clip shrinks under a second.
fn on_the_beat(slots: &mut [(SegmentKind, f64, Transition)], beat: super::BeatGrid, fps: u32) {
    let frame = 1.0 / fps as f64;
    let mut t = 0.0;
    for i in 0..slots.len().saturating_sub(1) {
        t += slots[i].1;
        if !(matches!(slots[i].0, SegmentKind::Clip(_)) && matches!(slots[i + 1].0, SegmentKind::Clip(_))) {
            continue;
        }
        let on_beat = ((((t - beat.offset_s) / beat.period_s).round() * beat.period_s + beat.offset_s) / frame).round() * frame;
        let shift = on_beat - t;
        if shift.abs() > 1e-9 && shift.abs() <= BEAT_SNAP_FRAMES * frame + 1e-9 && slots[i].1 + shift >= 1.0 && slots[i + 1].1 - shift >= 1.0 {
            slots[i].1 += shift;
            slots[i + 1].1 -= shift;
            t = on_beat;
        }
    }
}

impl Timeline {
    pub fn of(spec: &ComposeSpec) -> Timeline {
        let fps = spec.fps.max(1);
        let mut slots: Vec<(SegmentKind, f64, Transition)> = Vec::new();
        if spec.intro_s > 0.0 {
            slots.push((SegmentKind::Intro, spec.intro_s, Transition::cut()));
        }
        for (k, c) in spec.clips.iter().enumerate() {
            slots.push((SegmentKind::Clip(k), c.duration_s, c.transition));
        }
        if spec.outro_s > 0.0 {
            slots.push((SegmentKind::Outro, spec.outro_s, spec.outro_transition));
        }
        if let Some(beat) = spec.beat.filter(|b| b.period_s > 0.05) {
            on_the_beat(&mut slots, beat, fps);
        }
        // An overlap takes at most half of the shorter neighbour, so at least half of
        // every slot is seen clean and two transitions never meet.
        let fitted: Vec<Transition> = slots
            .iter()
            .enumerate()
            .map(|(i, (_, len, t))| {
                if i == 0 || t.kind == TransitionKind::Cut {
                    return Transition::cut();
                }
                let room = (len.min(slots[i - 1].1) / 2.0).min(Transition::MAX_S);
                let d = even_frames(t.duration_s.clamp(0.0, room), fps);
                if d <= 0.0 {
                    Transition::cut()
                } else {
                    Transition { kind: t.kind, duration_s: d }
                }
            })
            .collect();
        let mut segments = Vec::with_capacity(slots.len());
        let mut t = 0.0;
        for (i, (kind, len, _)) in slots.iter().enumerate() {
            let d_in = fitted[i].duration_s;
            let d_out = fitted.get(i + 1).map_or(0.0, |t| t.duration_s);
            segments.push(Segment {
                kind: *kind,
                slot_start_s: t,
                slot_s: *len,
                transition_in: fitted[i],
                render_start_s: t - d_in / 2.0,
                render_s: len + d_in / 2.0 + d_out / 2.0,
            });
            t += len;
        }
        Timeline { segments, total_s: t }
    }

    /// The slot of scene `k`'s clip: (start, length).
    pub fn clip_slot(&self, k: usize) -> Option<(f64, f64)> {
        self.segments.iter().find(|s| s.kind == SegmentKind::Clip(k)).map(|s| (s.slot_start_s, s.slot_s))
    }

    /// Where scene `k`'s voice line starts.
    pub fn voice_start(&self, k: usize) -> Option<f64> {
        self.clip_slot(k).map(|(start, _)| start + VOICE_LEAD_S)
    }

    /// The title cards' spans (meant to be still: the frozen gate skips them).
    pub fn card_spans(&self) -> Vec<(f64, f64)> {
        self.segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Intro | SegmentKind::Outro))
            .map(|s| (s.slot_start_s, s.slot_start_s + s.slot_s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::BeatGrid;
    use crate::media::{ComposeAudio, ComposeClip};

    fn spec(transitions: &[Transition]) -> ComposeSpec {
        ComposeSpec {
            width: 320,
            height: 180,
            fps: 30,
            intro_s: 1.5,
            outro_s: 2.0,
            product_name: "X".into(),
            call_to_action: "Buy".into(), end_card: Default::default(), typeface: String::new(),
            colors: ["#000000".into(), "#ffffff".into()],
            logo: None,
            clips: transitions.iter().map(|t| ComposeClip { path: "c.mp4".into(), duration_s: 3.0, text: String::new(), transition: *t, voice: None, ambience: false }).collect(),
            outro_transition: Transition::of(TransitionKind::Dissolve),
            audio: ComposeAudio::default(),
            look: None,
            loudness_lufs: -14.0,
            true_peak_db: -1.0,
            font: String::new(),
            x264_preset: "veryfast".into(),
            crf: 20,
            captions: Default::default(),
            caption_style: Default::default(),
            beat: None,
            ambience_db: -18.0,
        }
    }

    #[test]
    fn overlaps_keep_the_planned_length_and_slot_starts() {
        let d = Transition::of(TransitionKind::Dissolve);
        let t = Timeline::of(&spec(&[d, Transition::cut(), Transition { kind: TransitionKind::Fade, duration_s: 9.0 }]));
        assert!((t.total_s - (1.5 + 9.0 + 2.0)).abs() < 1e-9);
        let starts: Vec<f64> = t.segments.iter().map(|s| s.slot_start_s).collect();
        assert_eq!(starts, vec![0.0, 1.5, 4.5, 7.5, 10.5]);
        // Dissolve into scene 1: 0.6 s, half from each side.
        assert!((t.segments[0].render_s - 1.8).abs() < 1e-9 && (t.segments[1].render_start_s - 1.2).abs() < 1e-9);
        // The cut adds nothing; the 9 s fade is fitted to half the shorter neighbour, in
        // whole pairs of frames (22 × 2 frames at 30 fps).
        assert_eq!(t.segments[2].transition_in, Transition::cut());
        assert!((t.segments[3].transition_in.duration_s - 44.0 / 30.0).abs() < 1e-9, "{}", t.segments[3].transition_in.duration_s);
        // Each stream covers exactly its slot plus half of each overlap.
        for w in t.segments.windows(2) {
            let end_prev = w[0].render_start_s + w[0].render_s;
            assert!((end_prev - (w[1].slot_start_s + w[1].transition_in.duration_s / 2.0)).abs() < 1e-9);
        }
        assert_eq!(t.voice_start(1), Some(4.5 + VOICE_LEAD_S));
        assert_eq!(t.card_spans(), vec![(0.0, 1.5), (10.5, 12.5)]);
    }

    #[test]
    fn cuts_between_clips_land_on_beats_within_three_frames_and_the_length_is_kept() {
        let mut s = spec(&[Transition::cut(), Transition::cut(), Transition::cut()]);
        // Clips of 3.0 s after a 1.5 s intro: cuts at 4.5 and 7.5; beats every 0.48 s.
        s.beat = Some(BeatGrid { period_s: 0.48, offset_s: 0.0 });
        let t = Timeline::of(&s);
        let starts: Vec<f64> = t.segments.iter().map(|g| g.slot_start_s).collect();
        assert_eq!(t.total_s, 1.5 + 9.0 + 2.0, "the advert keeps its length");
        assert!((starts[1] - 1.5).abs() < 1e-9 && (starts[4] - 10.5).abs() < 1e-9, "the cards stay: {starts:?}");
        // The nearest beats (4.32, 7.68) are 0.18 s away: more than 3 frames, so no cut moves.
        assert!((starts[2] - 4.5).abs() < 1e-9 && (starts[3] - 7.5).abs() < 1e-9, "{starts:?}");
        // A beat that divides the cuts' times exactly changes nothing.
        s.beat = Some(BeatGrid { period_s: 0.5, offset_s: 0.0 });
        assert_eq!(Timeline::of(&s), Timeline::of(&spec(&[Transition::cut(), Transition::cut(), Transition::cut()])));
        // Beats every 0.44 s: 4.4 is 3 frames before 4.5, 7.48 under one frame from 7.5 —
        // both cuts move onto the frame nearest their beat.
        s.beat = Some(BeatGrid { period_s: 0.44, offset_s: 0.0 });
        let moved = Timeline::of(&s);
        let (b1, b2) = (moved.segments[2].slot_start_s, moved.segments[3].slot_start_s);
        assert!((b1 - 4.4).abs() < 1e-9, "{b1}");
        assert!((b2 - 224.0 / 30.0).abs() < 1e-9, "{b2}");
        assert_eq!(moved.total_s, 12.5);
        assert!((moved.segments[2].slot_s - (b2 - b1)).abs() < 1e-9);
        // A detected beat has a phase: beats every 0.5 s from 0.07 s put the cuts 2 frames
        // later (4.57 → nearest frame 4.5667, 7.57 → 7.5667).
        s.beat = Some(BeatGrid { period_s: 0.5, offset_s: 0.07 });
        let shifted = Timeline::of(&s);
        let (b1, b2) = (shifted.segments[2].slot_start_s, shifted.segments[3].slot_start_s);
        assert!((b1 - 137.0 / 30.0).abs() < 1e-9 && (b2 - 227.0 / 30.0).abs() < 1e-9, "{b1} {b2}");
        assert_eq!(shifted.total_s, 12.5);
    }
}
