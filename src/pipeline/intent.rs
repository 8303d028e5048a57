//! What the user meant: one parser for the interactive CLI and the TUI. Rule-based for
//! the common answers; free text becomes feedback.

use std::sync::Arc;

use crate::domain::{scene_at, CameraMove, Command, ReferenceKind, ScenePatch, SessionState, Slot, Transition, MAX_CANDIDATES};

use super::{Decision, Gate};
use crate::providers::{IntentReader, IntentReading};

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Approve,
    Regenerate,
    /// Feedback, about one scene (1-based number) or the whole.
    Feedback { scene: Option<u32>, text: String },
    /// A direct edit of scene N (1-based number).
    EditScene { scene: u32, patch: ScenePatch },
    /// Retry the failed clip of scene N, or all failed clips.
    RetryClip { scene: Option<u32> },
    /// Use candidate `index` (0-based) of scene N's keyframe, or of a reference.
    Pick { scene: Option<u32>, reference: Option<ReferenceKind>, index: usize },
}

const APPROVE: [&str; 20] = [
    "approve", "approved", "yes", "y", "ok", "okay", "lgtm", "looks good", "good", "great", "perfect",
    "go", "continue", "next", "ship it", "👍", "sounds good", "love it", "fine", "accept",
];
const REGENERATE: [&str; 9] = ["regenerate", "redo", "again", "another", "try again", "new one", "start over", "reroll", "another one"];

fn normalise(s: &str) -> String {
    s.trim().trim_end_matches(['.', '!']).trim().to_lowercase()
}

/// "scene 3" / "scene #3" anywhere: the number.
fn scene_number(text: &str) -> Option<(u32, usize)> {
    let lower = text.to_lowercase();
    let i = lower.find("scene")?;
    let rest = &lower[i + 5..];
    let digits: String = rest.trim_start_matches([' ', '#']).chars().take_while(|c| c.is_ascii_digit()).collect();
    let n = digits.parse().ok()?;
    let consumed = i + 5 + (rest.len() - rest.trim_start_matches([' ', '#']).len()) + digits.len();
    Some((n, consumed))
}

fn parse_edit(text: &str) -> Option<Result<Intent, String>> {
    let lower = text.to_lowercase();
    let starts = ["edit scene", "change scene", "set scene", "scene"];
    let prefix = starts.iter().find(|p| lower.trim_start().starts_with(*p))?;
    let (n, end) = scene_number(text)?;
    let after = &text[end..];
    let colon = after.find(':')?;
    let field = after[..colon].trim().to_lowercase();
    let value = after[colon + 1..].trim().to_string();
    // Plain "scene 2: …" without "edit" is feedback only when there is no field; "edit" is explicit.
    if *prefix == "scene" && field.is_empty() && !lower.trim_start().starts_with("scene") {
        return None;
    }
    let mut patch = ScenePatch::default();
    match field.as_str() {
        "" | "description" | "desc" => patch.description = Some(value),
        "text" | "on-screen text" | "on screen text" | "caption" | "title" => patch.on_screen_text = Some(value),
        "voiceover" | "vo" | "voice" | "narration" => patch.voiceover = Some(value),
        "duration" | "length" => match value.trim_end_matches(['s', ' ']).parse::<f64>() {
            Ok(d) => patch.duration_s = Some(d),
            Err(_) => return Some(Err(format!("'{value}' is not a duration in seconds"))),
        },
        "camera" | "camera move" | "move" => match value.parse::<CameraMove>() {
            Ok(c) => patch.camera = Some(c),
            Err(e) => return Some(Err(e)),
        },
        "shot" | "shot type" => patch.shot_type = Some(value),
        "transition" | "transition in" | "in" => match value.parse::<Transition>() {
            Ok(t) => patch.transition = Some(t),
            Err(e) => return Some(Err(e)),
        },
        other => return Some(Err(format!("scene {n} has no field '{other}': use description, text, voiceover, duration, camera or transition"))),
    }
    if patch.description.as_ref().is_some_and(|d| d.is_empty()) {
        return Some(Err(format!("say what scene {n} should become after the colon")));
    }
    Some(Ok(Intent::EditScene { scene: n, patch }))
}

/// "dissolve into scene 3", "cut to scene 2", "fade 0.8 into scene 4": the transition
/// into a scene, as an editor says it.
fn parse_transition(text: &str) -> Option<Result<Intent, String>> {
    let lower = text.to_lowercase();
    let (head, tail) = [" into scene", " to scene", " in scene"].iter().find_map(|sep| lower.split_once(sep))?;
    let n: u32 = tail.trim().trim_start_matches('#').trim().parse().ok()?;
    let words = head.trim().trim_start_matches("use ").trim_start_matches("a ").trim_end_matches(" transition");
    let transition = words.parse::<Transition>().ok()?;
    Some(Ok(Intent::EditScene { scene: n, patch: ScenePatch { transition: Some(transition), ..Default::default() } }))
}

/// A candidate named as a letter (`b`) or a number from 1 (`2`): its 0-based index.
fn candidate(word: &str) -> Option<usize> {
    let w = word.trim().trim_matches(|c: char| c.is_ascii_punctuation());
    match (w.len(), w.chars().next()) {
        (1, Some(c)) if c.is_ascii_lowercase() && (c as u32 - 'a' as u32) < MAX_CANDIDATES => Some((c as u8 - b'a') as usize),
        _ => w.parse::<usize>().ok().filter(|n| (1..=MAX_CANDIDATES as usize).contains(n)).map(|n| n - 1),
    }
}

/// "keyframe 3: take b", "keyframe 3 candidate 2", "use b for the product", "use 2 for
/// the environment reference": a pick on the mood board.
fn parse_pick(t: &str) -> Option<Result<Intent, String>> {
    if let Some(rest) = t.strip_prefix("keyframe").or_else(|| t.strip_prefix("scene").filter(|r| r.contains("keyframe"))) {
        let digits: String = rest.trim_start_matches([' ', '#']).chars().take_while(|c| c.is_ascii_digit()).collect();
        let scene: u32 = digits.parse().ok()?;
        let word = ["take ", "candidate ", "use ", "pick "].iter().find_map(|k| rest.split_once(k).map(|(_, w)| w.to_string()))?;
        return Some(candidate(&word).map(|index| Intent::Pick { scene: Some(scene), reference: None, index }).ok_or_else(|| format!("'{}' is not a candidate: say a letter (a, b, c…) or a number from 1", word.trim())));
    }
    let rest = t.strip_prefix("use ").or_else(|| t.strip_prefix("pick "))?;
    let (word, what) = rest.split_once(" for ")?;
    let what = what.trim().trim_start_matches("the ").trim_end_matches(" reference").trim();
    let kind = ReferenceKind::ALL.into_iter().find(|k| k.id() == what)?;
    // "use more colour for the product" is feedback, not a pick.
    candidate(word).map(|index| Ok(Intent::Pick { scene: None, reference: Some(kind), index }))
}

/// Parse an answer. Errors are messages for the user.
pub fn parse(text: &str) -> Result<Intent, String> {
    let t = normalise(text);
    if t.is_empty() {
        return Err("say 'approve', 'regenerate', give feedback, or 'edit scene N: …'".into());
    }
    if APPROVE.contains(&t.as_str()) {
        return Ok(Intent::Approve);
    }
    if REGENERATE.contains(&t.as_str()) {
        return Ok(Intent::Regenerate);
    }
    if let Some(rest) = t.strip_prefix("retry") {
        let rest = rest.trim().trim_start_matches("clip").trim();
        if rest.is_empty() || rest == "all" {
            return Ok(Intent::RetryClip { scene: None });
        }
        let rest = rest.trim_start_matches("scene").trim().trim_start_matches('#');
        return rest.parse().map(|n| Intent::RetryClip { scene: Some(n) }).map_err(|_| format!("'{rest}' is not a clip number"));
    }
    if let Some(pick) = parse_pick(&t) {
        return pick;
    }
    if let Some(edit) = parse_transition(text).or_else(|| parse_edit(text)) {
        return edit;
    }
    let scene = scene_number(text).map(|(n, _)| n);
    Ok(Intent::Feedback { scene, text: text.trim().to_string() })
}

/// Turn an intent into the decision for this gate; scene numbers become stable ids.
pub fn decision(intent: Intent, state: &SessionState, gate: &Gate) -> Result<Decision, String> {
    let id_of = |n: u32| scene_at(state, n).map(|s| s.id).map_err(|e| e.to_string());
    Ok(match (intent, gate) {
        (Intent::Approve, Gate::FailedClips(_)) => return Err("some clips failed: say 'retry', 'retry clip N', or edit their scenes".into()),
        (Intent::Approve, _) => Decision::Approve,
        (Intent::Regenerate, Gate::Story) => Decision::Commands(vec![Command::RegenerateStory]),
        (Intent::Regenerate, Gate::Scenes | Gate::Animatic(_)) => Decision::Commands(vec![Command::RegenerateScenes]),
        (Intent::Regenerate, Gate::FailedClips(f)) => Decision::Commands(f.iter().map(|(id, _)| Command::RetryClip { scene_id: *id }).collect()),
        (Intent::Regenerate, Gate::Budget(_)) => return Err("the budget stopped the run: raise it first (:budget USD)".into()),
        (Intent::Feedback { text, .. }, Gate::Story) => Decision::Commands(vec![Command::RefineStory { feedback: text }]),
        (Intent::Feedback { scene, text }, _) => {
            let scene_id = scene.map(id_of).transpose()?;
            Decision::Commands(vec![Command::RefineScenes { feedback: text, scene_id }])
        }
        (Intent::EditScene { scene, patch }, _) => Decision::Commands(vec![Command::EditScene { scene_id: id_of(scene)?, patch }]),
        (Intent::RetryClip { scene: None }, Gate::FailedClips(f)) => Decision::Commands(f.iter().map(|(id, _)| Command::RetryClip { scene_id: *id }).collect()),
        (Intent::RetryClip { scene: Some(n) }, _) => Decision::Commands(vec![Command::RetryClip { scene_id: id_of(n)? }]),
        (Intent::RetryClip { scene: None }, _) => return Err("no clip has failed".into()),
        (Intent::Pick { scene, reference, index }, _) => {
            let slot = match (scene, reference) {
                (Some(n), _) => Slot::Keyframe(id_of(n)?),
                (None, Some(kind)) => Slot::Reference(kind),
                (None, None) => return Err("say which keyframe or reference".into()),
            };
            Decision::Commands(vec![Command::PickCandidate { slot, index }])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_answers() {
        assert_eq!(parse("Looks good!"), Ok(Intent::Approve));
        assert_eq!(parse("approve"), Ok(Intent::Approve));
        assert_eq!(parse("regenerate"), Ok(Intent::Regenerate));
        assert_eq!(parse("retry clip 3"), Ok(Intent::RetryClip { scene: Some(3) }));
        assert_eq!(parse("retry"), Ok(Intent::RetryClip { scene: None }));
        assert_eq!(
            parse("make scene 2 more dramatic"),
            Ok(Intent::Feedback { scene: Some(2), text: "make scene 2 more dramatic".into() })
        );
        assert_eq!(parse("more energy please"), Ok(Intent::Feedback { scene: None, text: "more energy please".into() }));
        assert!(parse("   ").is_err());
    }

    #[test]
    fn parses_edits_with_fields_and_colons_in_values() {
        let Ok(Intent::EditScene { scene: 3, patch }) = parse("edit scene 3: A runner at dawn: fast") else { panic!() };
        assert_eq!(patch.description.as_deref(), Some("A runner at dawn: fast"));
        let Ok(Intent::EditScene { scene: 2, patch }) = parse("edit scene 2 text: 100% off: today") else { panic!() };
        assert_eq!(patch.on_screen_text.as_deref(), Some("100% off: today"));
        let Ok(Intent::EditScene { patch, .. }) = parse("edit scene 1 duration: 4s") else { panic!() };
        assert_eq!(patch.duration_s, Some(4.0));
        let Ok(Intent::EditScene { patch, .. }) = parse("edit scene 1 camera: pan left") else { panic!() };
        assert_eq!(patch.camera, Some(CameraMove::PanLeft));
        assert!(parse("edit scene 1 camera: sideways").is_err());
        assert!(parse("edit scene 1 colour: red").is_err());
        let Ok(Intent::EditScene { scene: 3, patch }) = parse("dissolve into scene 3") else { panic!() };
        assert_eq!(patch.transition, Some(Transition { kind: crate::domain::TransitionKind::Dissolve, duration_s: 0.6 }));
        let Ok(Intent::EditScene { scene: 2, patch }) = parse("Cut to scene 2") else { panic!() };
        assert_eq!(patch.transition, Some(Transition::cut()));
        let Ok(Intent::EditScene { scene: 4, patch }) = parse("edit scene 4 transition: wipe 0.3s") else { panic!() };
        assert_eq!(patch.transition.map(|t| t.duration_s), Some(0.3));
        assert!(matches!(parse("move to scene 2"), Ok(Intent::Feedback { .. })), "not a transition: feedback");
        assert_eq!(parse("keyframe 3: take b"), Ok(Intent::Pick { scene: Some(3), reference: None, index: 1 }));
        assert_eq!(parse("Keyframe #2 candidate 3"), Ok(Intent::Pick { scene: Some(2), reference: None, index: 2 }));
        assert_eq!(parse("use 2 for the product"), Ok(Intent::Pick { scene: None, reference: Some(ReferenceKind::Product), index: 1 }));
        assert_eq!(parse("use c for the environment reference"), Ok(Intent::Pick { scene: None, reference: Some(ReferenceKind::Environment), index: 2 }));
        assert!(parse("keyframe 1: take zz").is_err());
        assert!(matches!(parse("use more colour for the product"), Ok(Intent::Feedback { .. })), "not a candidate: feedback");
    }
}

/// The intent parser both front ends use: rules for the common answers; when a chat model
/// is configured, free text the rules can only call "feedback" is classified by the model
/// (prompt `intent`), falling back to the rules if the model fails.
#[derive(Clone, Default)]
pub struct IntentParser {
    pub reader: Option<Arc<dyn IntentReader>>,
}

fn from_reading(j: IntentReading, original: &str) -> Option<Intent> {
    Some(match j.intent.as_str() {
        "approve" => Intent::Approve,
        "regenerate" => Intent::Regenerate,
        "feedback" => Intent::Feedback { scene: j.scene, text: j.text.unwrap_or_else(|| original.to_string()) },
        "retry_clip" => Intent::RetryClip { scene: j.scene },
        "edit_scene" => {
            let field = match j.field.as_deref() {
                Some("description") | None => String::new(),
                Some(f) => format!(" {f}"),
            };
            return parse(&format!("edit scene {}{field}: {}", j.scene?, j.value?)).ok();
        }
        _ => return None,
    })
}

impl IntentParser {
    pub async fn parse(&self, text: &str, state: &SessionState, gate: &Gate) -> Result<Intent, String> {
        let rule = parse(text)?;
        let (Intent::Feedback { .. }, Some(reader)) = (&rule, &self.reader) else { return Ok(rule) };
        let stage = match gate {
            Gate::Story => "story",
            Gate::Scenes => "scenes",
            Gate::Animatic(_) => "animatic",
            Gate::FailedClips(_) => "failed clips",
            Gate::Budget(_) => "budget",
        };
        match reader.read(stage, state.scenes.len(), text).await {
            Ok(j) => Ok(from_reading(j, text).unwrap_or(rule)),
            Err(e) => {
                tracing::warn!(error = %e, "intent model failed; using the rule-based reading");
                Ok(rule)
            }
        }
    }
}
