//! The voiceover's arithmetic: how many words a scene has room for, how a recorded line
//! fits its scene, and what a recorded line is (`VoiceTake`, with its word timings).
//!
//! A line starts `VOICE_LEAD_S` after its scene does and should end `VOICE_TAIL_S`
//! before the next; the room between is the scene's speech budget. Words per second is a
//! property of the language and the voice (English adverts run at about 2.6).

use serde::{Deserialize, Serialize};

use super::AssetId;

/// Words per second of an English advert read at a brisk, clear pace.
pub const DEFAULT_WPS: f64 = 2.6;
/// A voice line starts this long after its scene does.
pub const VOICE_LEAD_S: f64 = 0.15;
/// …and ends at least this long before the scene does.
pub const VOICE_TAIL_S: f64 = 0.2;
/// A line that overruns is sped up by at most this much (beyond it speech sounds rushed).
pub const MAX_TEMPO: f64 = 1.15;

/// Words of a line, as a reader counts them.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
}

/// Seconds a scene of `duration_s` leaves for its voice line.
pub fn speech_room_s(duration_s: f64) -> f64 {
    (duration_s - VOICE_LEAD_S - VOICE_TAIL_S).max(0.0)
}

/// Words a scene of `duration_s` has room for at `wps`.
pub fn word_budget(duration_s: f64, wps: f64) -> usize {
    (speech_room_s(duration_s) * wps + 1e-9).floor() as usize
}

/// Seconds `text` takes at `wps`.
pub fn spoken_s(text: &str, wps: f64) -> f64 {
    word_count(text) as f64 / wps.max(0.1)
}

/// Words a line cut mid-clause does not end on: articles, prepositions, conjunctions,
/// auxiliaries and determiners.
const TRAILING_FILLERS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "so", "as", "than", "of", "to", "in", "on", "at", "for", "with", "by", "from", "into", "onto", "around", "about", "over", "under", "through", "is", "are", "was", "were",
    "be", "been", "being", "am", "have", "has", "had", "do", "does", "did", "will", "would", "can", "could", "should", "may", "might", "must", "this", "that", "these", "those", "every", "each", "all", "some", "any",
    "your", "our", "my", "its", "their", "his", "her", "what", "how", "who", "which", "where", "when", "why", "really", "very", "just", "not",
];

/// The first words of `text` that fit `max_words`, cut at the last sentence or clause
/// end that fits when there is one, and ending in a full stop.
pub fn shorten_line(text: &str, max_words: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    if word_count(text) <= max_words {
        return text.trim().to_string();
    }
    if max_words == 0 {
        return String::new();
    }
    let mut kept = 0;
    let mut cut = 0;
    let mut clause_end = None;
    for (i, w) in words.iter().enumerate() {
        if w.chars().any(char::is_alphanumeric) {
            kept += 1;
        }
        if kept > max_words {
            break;
        }
        cut = i + 1;
        if w.ends_with(['.', '!', '?', ',', ';', ':']) {
            clause_end = Some(i + 1);
        }
    }
    let mut end = clause_end.filter(|e| *e * 2 >= cut).unwrap_or(cut);
    if clause_end != Some(end) {
        // Cut mid-clause: a line does not end on "the", "to" or "is"; and one word left of
        // a longer thought ("Designed around how you live" → "Designed") says nothing.
        while end > 0 && TRAILING_FILLERS.contains(&words[end - 1].to_lowercase().trim_matches(|c: char| !c.is_alphanumeric())) {
            end -= 1;
        }
        if words[..end].iter().filter(|w| w.chars().any(char::is_alphanumeric)).count() < 2 {
            return String::new();
        }
    }
    let mut s = words[..end].join(" ");
    s = s.trim_end_matches([',', ';', ':', '-', '—']).to_string();
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

/// How a recorded line of `measured_s` fits a scene of `duration_s`: the tempo it is
/// played at (1.0 when it fits; up to `MAX_TEMPO`), or `None` when even that overruns.
pub fn fit_tempo(measured_s: f64, duration_s: f64) -> Option<f64> {
    let room = speech_room_s(duration_s);
    if measured_s <= room + 1e-6 {
        return Some(1.0);
    }
    let tempo = measured_s / room.max(1e-6);
    (tempo <= MAX_TEMPO + 1e-9).then_some(tempo)
}

/// The shortest scene (in half seconds) that holds a line of `measured_s` at `MAX_TEMPO`.
pub fn scene_length_for(measured_s: f64) -> f64 {
    let need = measured_s / MAX_TEMPO + VOICE_LEAD_S + VOICE_TAIL_S;
    (need * 2.0).ceil() / 2.0
}

/// A word (or phrase) of a line and when it is heard, in seconds from the line's start
/// (at tempo 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// Where a line's word timings came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CueSource {
    /// The speech backend returned them (ElevenLabs' character timestamps).
    Speech,
    /// A transcription model heard them.
    Transcription,
    /// admint's aligner: syllables across the measured speech, snapped to its pauses.
    #[default]
    Aligned,
}

/// A scene's recorded voiceover line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceTake {
    pub scene_id: u32,
    pub audio: AssetId,
    /// The text it says and the voice that says it.
    pub text: String,
    #[serde(default)]
    pub voice: String,
    /// Its measured length at tempo 1.
    pub duration_s: f64,
    /// Word timings (every word of `text`, in order).
    pub cues: Vec<Cue>,
    #[serde(default)]
    pub cue_source: CueSource,
    pub provider: String,
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_fit() {
        assert_eq!(word_count("Meet Stride 2 — now!"), 4);
        assert_eq!(word_budget(3.0, 2.6), 6, "2.65 s of room");
        assert_eq!(fit_tempo(2.0, 3.0), Some(1.0));
        let t = fit_tempo(2.9, 3.0).unwrap();
        assert!((t - 2.9 / 2.65).abs() < 1e-9 && t <= MAX_TEMPO);
        assert_eq!(fit_tempo(3.2, 3.0), None);
        let longer = scene_length_for(3.2);
        assert!(fit_tempo(3.2, longer).is_some() && (longer * 2.0).fract() == 0.0, "{longer}");
    }

    #[test]
    fn shortening_keeps_whole_clauses_and_ends_in_a_stop() {
        assert_eq!(shorten_line("Meet Stride.", 5), "Meet Stride.");
        assert_eq!(shorten_line("Made for runners, built for the long haul every day", 4), "Made for runners.");
        assert_eq!(shorten_line("one two three four five six", 3), "one two three.");
        assert_eq!(shorten_line("anything", 0), "");
        // A cut mid-clause drops the words a line cannot end on, and a lone word is no line.
        assert_eq!(shorten_line("Say hello to AirRun Pro.", 2), "Say hello.");
        assert_eq!(shorten_line("Feel the difference every day.", 4), "Feel the difference.");
        assert_eq!(shorten_line("Made for all the runners out there.", 4), "");
        assert_eq!(shorten_line("Designed around how you really live.", 2), "");
        assert_eq!(shorten_line("This is what you have been waiting for.", 2), "");
        for n in 0..8 {
            assert!(word_count(&shorten_line("Feel the difference, every single day, with Stride shoes.", n)) <= n);
        }
    }
}
