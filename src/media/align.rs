//! The offline aligner: word timings for a recorded line without a speech recogniser.
//! ffmpeg's `silencedetect` finds where speech starts and ends and where it pauses; words
//! are spread across the speech by their syllables, phrase by phrase, and each phrase
//! boundary (a comma, a full stop) snaps to the pause nearest to where it was predicted.

use std::ffi::OsString;
use std::path::Path;

use super::{Ffmpeg, MediaError};
use crate::domain::Cue;

/// Quieter than this counts as a pause (speech synthesisers leave true silence; recorded
/// voices have room tone well under it).
const PAUSE_DB: i32 = -35;
/// Pauses shorter than this are gaps inside words, not between phrases.
const MIN_PAUSE_S: f64 = 0.12;
/// A boundary snaps to a pause only when the pause is this near the prediction.
const SNAP_S: f64 = 0.45;

/// The silences of an audio file, as `(start, end)` seconds, and its length.
pub fn silences(ff: &Ffmpeg, audio: &Path) -> Result<(Vec<(f64, f64)>, f64), MediaError> {
    let args: Vec<OsString> = vec![
        "-i".into(),
        audio.as_os_str().to_owned(),
        "-af".into(),
        format!("silencedetect=noise={PAUSE_DB}dB:d={MIN_PAUSE_S}").into(),
        "-f".into(),
        "null".into(),
        "-".into(),
    ];
    let log = ff.run_for_log("silence detection", &args)?;
    let duration = ff.probe(audio)?.duration_s;
    Ok((parse_silences(&log, duration), duration))
}

/// `silence_start: X` / `silence_end: Y` pairs from silencedetect's log; a silence still
/// open at the end closes at `duration`.
pub fn parse_silences(log: &str, duration: f64) -> Vec<(f64, f64)> {
    let num = |line: &str, tag: &str| line.split(tag).nth(1).and_then(|r| r.split_whitespace().next()).and_then(|v| v.trim_end_matches('|').parse::<f64>().ok());
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
    for line in log.lines() {
        if let Some(s) = num(line, "silence_start:") {
            open = Some(s.max(0.0));
        }
        if let Some(e) = num(line, "silence_end:") {
            out.push((open.take().unwrap_or(0.0), e));
        }
    }
    if let Some(s) = open {
        out.push((s, duration));
    }
    out
}

/// Syllables of a word, by vowel groups (an estimate good to about one per word); digits
/// are read out, so each counts as one.
pub fn syllables(word: &str) -> usize {
    let w: String = word.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
    if w.is_empty() {
        return 0;
    }
    let vowel = |c: char| "aeiouyàáâäèéêëìíîïòóôöùúûü".contains(c);
    let mut n = 0;
    let mut prev = false;
    for c in w.chars() {
        let v = vowel(c) || c.is_ascii_digit();
        if v && (!prev || c.is_ascii_digit()) {
            n += 1;
        }
        prev = v;
    }
    if w.ends_with('e') && !w.ends_with("le") && n > 1 {
        n -= 1;
    }
    n.max(1)
}

/// Word timings for `text` spoken in an audio file `duration_s` long with `pauses`.
pub fn align(text: &str, pauses: &[(f64, f64)], duration_s: f64) -> Vec<Cue> {
    let words: Vec<&str> = text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).collect();
    if words.is_empty() {
        return vec![];
    }
    // Speech runs from the end of a leading silence to the start of a trailing one.
    let lead = pauses.iter().find(|p| p.0 <= 0.02).map_or(0.0, |p| p.1);
    let tail = pauses.iter().rev().find(|p| p.1 >= duration_s - 0.02 && p.0 > lead).map_or(duration_s, |p| p.0);
    let (start, end) = if tail - lead > 0.1 { (lead, tail) } else { (0.0, duration_s) };
    let inner: Vec<(f64, f64)> = pauses.iter().copied().filter(|p| p.0 > start + 0.05 && p.1 < end - 0.05).collect();

    // Phrases end at punctuation; each has its syllables.
    let mut phrases: Vec<Vec<&str>> = vec![vec![]];
    for w in &words {
        phrases.last_mut().expect("one phrase at least").push(w);
        if w.ends_with(['.', ',', '!', '?', ';', ':', '—']) {
            phrases.push(vec![]);
        }
    }
    phrases.retain(|p| !p.is_empty());
    let weight = |p: &[&str]| p.iter().map(|w| syllables(w)).sum::<usize>().max(1) as f64;
    let total: f64 = phrases.iter().map(|p| weight(p)).sum();

    // Predicted phrase boundaries, snapped to the nearest unused pause.
    let mut bounds = vec![(start, start)];
    let mut acc = 0.0;
    let mut used = vec![false; inner.len()];
    for p in &phrases[..phrases.len() - 1] {
        acc += weight(p);
        let t = start + (end - start) * acc / total;
        let near = inner.iter().enumerate().filter(|(i, q)| !used[*i] && ((q.0 + q.1) / 2.0 - t).abs() < SNAP_S).min_by(|a, b| {
            (((a.1).0 + (a.1).1) / 2.0 - t).abs().total_cmp(&((((b.1).0 + (b.1).1) / 2.0) - t).abs())
        });
        let prev = bounds.last().map_or(start, |b| b.1);
        match near {
            Some((i, q)) if q.0 > prev => {
                used[i] = true;
                bounds.push((q.0, q.1));
            }
            _ => bounds.push((t.max(prev), t.max(prev))),
        }
    }
    bounds.push((end, end));

    // Words within a phrase by their syllables.
    let mut cues = Vec::with_capacity(words.len());
    for (k, p) in phrases.iter().enumerate() {
        let (a, b) = (bounds[k].1, bounds[k + 1].0.max(bounds[k].1));
        let w = weight(p);
        let mut t = a;
        for word in p {
            let d = (b - a) * syllables(word).max(1) as f64 / w;
            cues.push(Cue { start_s: t, end_s: t + d, text: word.to_string() });
            t += d;
        }
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_are_near_enough() {
        for (w, n) in [("Meet", 1), ("Stride", 1), ("difference", 3), ("every", 3), ("today!", 2), ("2026", 4), ("the", 1)] {
            assert!((syllables(w) as i32 - n).abs() <= 1, "{w}: {}", syllables(w));
        }
    }

    #[test]
    fn silencedetect_log_is_read() {
        let log = "[silencedetect @ 0x1] silence_start: 0\n[silencedetect @ 0x1] silence_end: 0.21 | silence_duration: 0.21\n\
                   [silencedetect @ 0x1] silence_start: 1.1\n[silencedetect @ 0x1] silence_end: 1.42 | silence_duration: 0.32\n\
                   [silencedetect @ 0x1] silence_start: 2.5\n";
        assert_eq!(parse_silences(log, 2.8), vec![(0.0, 0.21), (1.1, 1.42), (2.5, 2.8)]);
    }

    #[test]
    fn words_cover_the_speech_in_order_and_phrases_snap_to_the_pause() {
        let pauses = [(0.0, 0.2), (1.1, 1.4), (2.5, 2.8)];
        let cues = align("Meet Stride, made for runners.", &pauses, 2.8);
        assert_eq!(cues.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["Meet", "Stride,", "made", "for", "runners."]);
        assert!((cues[0].start_s - 0.2).abs() < 1e-9, "speech starts after the leading silence");
        assert!((cues[1].end_s - 1.1).abs() < 1e-9 && (cues[2].start_s - 1.4).abs() < 1e-9, "{cues:?}");
        assert!((cues[4].end_s - 2.5).abs() < 1e-9);
        assert!(cues.windows(2).all(|w| w[0].end_s <= w[1].start_s + 1e-9 && w[0].start_s < w[0].end_s));
        assert!(align("  ", &pauses, 2.8).is_empty());
        // No pauses at all: the whole file is speech.
        let plain = align("one two", &[], 1.0);
        assert_eq!((plain[0].start_s, plain[1].end_s), (0.0, 1.0));
    }
}
