//! How the advert is cut together and finished: the transition into each scene, and the
//! colour look of the clips.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How one shot gives way to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransitionKind {
    /// A straight cut: no overlap.
    Cut,
    /// Through black.
    #[default]
    Fade,
    /// A cross-dissolve: one shot melts into the next.
    Dissolve,
    /// Through white: a flash.
    Flash,
    WipeLeft,
    WipeRight,
    WipeUp,
    SlideLeft,
    SlideRight,
    SlideUp,
    /// The next shot grows from the centre.
    Zoom,
    /// The next shot opens in a circle.
    Circle,
}

impl TransitionKind {
    pub const ALL: [TransitionKind; 12] = [
        TransitionKind::Cut,
        TransitionKind::Fade,
        TransitionKind::Dissolve,
        TransitionKind::Flash,
        TransitionKind::WipeLeft,
        TransitionKind::WipeRight,
        TransitionKind::WipeUp,
        TransitionKind::SlideLeft,
        TransitionKind::SlideRight,
        TransitionKind::SlideUp,
        TransitionKind::Zoom,
        TransitionKind::Circle,
    ];

    pub fn id(self) -> &'static str {
        match self {
            TransitionKind::Cut => "cut",
            TransitionKind::Fade => "fade",
            TransitionKind::Dissolve => "dissolve",
            TransitionKind::Flash => "flash",
            TransitionKind::WipeLeft => "wipe-left",
            TransitionKind::WipeRight => "wipe-right",
            TransitionKind::WipeUp => "wipe-up",
            TransitionKind::SlideLeft => "slide-left",
            TransitionKind::SlideRight => "slide-right",
            TransitionKind::SlideUp => "slide-up",
            TransitionKind::Zoom => "zoom",
            TransitionKind::Circle => "circle",
        }
    }

    /// The duration an editor would give it, in seconds.
    pub fn usual_s(self) -> f64 {
        match self {
            TransitionKind::Cut => 0.0,
            TransitionKind::Flash => 0.3,
            TransitionKind::WipeLeft | TransitionKind::WipeRight | TransitionKind::WipeUp => 0.4,
            TransitionKind::SlideLeft | TransitionKind::SlideRight | TransitionKind::SlideUp | TransitionKind::Zoom => 0.4,
            TransitionKind::Fade | TransitionKind::Circle => 0.5,
            TransitionKind::Dissolve => 0.6,
        }
    }
}

impl fmt::Display for TransitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for TransitionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        TransitionKind::ALL
            .into_iter()
            .find(|k| k.id() == t)
            .or(match t.as_str() {
                "hard-cut" | "none" | "straight-cut" => Some(TransitionKind::Cut),
                "fade-to-black" | "fade-black" | "dip-to-black" | "fadeblack" => Some(TransitionKind::Fade),
                "crossfade" | "cross-dissolve" | "mix" => Some(TransitionKind::Dissolve),
                "fade-to-white" | "dip-to-white" | "white" => Some(TransitionKind::Flash),
                "wipe" => Some(TransitionKind::WipeLeft),
                "slide" | "push" => Some(TransitionKind::SlideLeft),
                "zoom-in" => Some(TransitionKind::Zoom),
                "iris" | "circle-open" => Some(TransitionKind::Circle),
                _ => None,
            })
            .ok_or_else(|| {
                let all: Vec<&str> = TransitionKind::ALL.iter().map(|k| k.id()).collect();
                format!("unknown transition '{s}': choose one of {}", all.join(", "))
            })
    }
}

/// The transition into a scene (from the shot or card before it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub kind: TransitionKind,
    /// Seconds the two shots overlap (0 for a cut). The advert's length does not change:
    /// half the overlap comes from each side of the boundary.
    pub duration_s: f64,
}

impl Transition {
    /// The longest transition admint makes.
    pub const MAX_S: f64 = 2.0;

    /// A transition of `kind` at its usual duration.
    pub fn of(kind: TransitionKind) -> Transition {
        Transition { kind, duration_s: kind.usual_s() }
    }

    pub fn cut() -> Transition {
        Transition::of(TransitionKind::Cut)
    }

    /// This transition as an editor paces it between a shot of `before_s` seconds (`None`
    /// when nothing comes before) and one of `after_s`: shots under `SHORT_SHOT_S` are cut
    /// (a push or a dissolve would take a third of them), and no transition takes more
    /// than `MAX_SHARE` of the shorter shot.
    pub fn paced(self, before_s: Option<f64>, after_s: f64) -> Transition {
        let shorter = before_s.map_or(after_s, |b| b.min(after_s));
        if self.kind == TransitionKind::Cut || shorter < SHORT_SHOT_S {
            return Transition::cut();
        }
        Transition { kind: self.kind, duration_s: self.duration_s.min(shorter * MAX_SHARE) }
    }
}

/// Shots shorter than this are cut into and out of (`Transition::paced`).
pub const SHORT_SHOT_S: f64 = 2.0;
/// The most of the shorter neighbouring shot a planned transition takes (`Transition::paced`).
pub const MAX_SHARE: f64 = 0.25;

/// Sessions written before transitions existed fade through black, as they always did.
impl Default for Transition {
    fn default() -> Self {
        Transition { kind: TransitionKind::Fade, duration_s: 0.4 }
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TransitionKind::Cut => f.write_str("cut"),
            k => write!(f, "{k} {:.1}s", self.duration_s),
        }
    }
}

impl FromStr for Transition {
    type Err = String;
    /// `dissolve`, `dissolve 0.8`, `dissolve 0.8s`, `cut`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.split_whitespace();
        let kind: TransitionKind = words.next().unwrap_or("").parse()?;
        let duration_s = match words.next() {
            None => kind.usual_s(),
            Some(d) => d
                .trim_end_matches('s')
                .parse::<f64>()
                .ok()
                .filter(|d| (0.0..=Transition::MAX_S).contains(d))
                .ok_or_else(|| format!("'{d}' is not a transition length: 0 to {} seconds", Transition::MAX_S))?,
        };
        Ok(Transition { kind, duration_s: if kind == TransitionKind::Cut { 0.0 } else { duration_s } })
    }
}

/// The transitions an editor would use for a tone: into the first scene, between shots
/// of one framework stage, into a new stage, and into the end card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransitionStyle {
    pub opening: Transition,
    pub within_stage: Transition,
    pub new_stage: Transition,
    pub closing: Transition,
}

impl TransitionStyle {
    /// Energetic adverts cut and push; calm and premium ones dissolve; dramatic ones go
    /// through black between acts; anything else cuts within a stage and dissolves
    /// between stages.
    pub fn for_tone(tone: &str) -> TransitionStyle {
        let t = tone.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        let at = |kind: TransitionKind, d: f64| Transition { kind, duration_s: d };
        if has(&["energetic", "bold", "playful", "fun", "sporty", "upbeat", "hype", "young", "loud"]) {
            TransitionStyle {
                opening: at(TransitionKind::Zoom, 0.3),
                within_stage: Transition::cut(),
                new_stage: at(TransitionKind::SlideLeft, 0.35),
                closing: at(TransitionKind::Flash, 0.3),
            }
        } else if has(&["calm", "luxury", "premium", "elegant", "soft", "gentle", "serene", "warm", "minimal"]) {
            TransitionStyle {
                opening: at(TransitionKind::Fade, 0.6),
                within_stage: at(TransitionKind::Dissolve, 0.6),
                new_stage: at(TransitionKind::Dissolve, 0.8),
                closing: at(TransitionKind::Dissolve, 0.8),
            }
        } else if has(&["dramatic", "emotional", "cinematic", "epic", "dark", "moody", "serious"]) {
            TransitionStyle {
                opening: at(TransitionKind::Fade, 0.8),
                within_stage: at(TransitionKind::Dissolve, 0.5),
                new_stage: at(TransitionKind::Fade, 0.6),
                closing: at(TransitionKind::Fade, 0.8),
            }
        } else {
            TransitionStyle {
                opening: at(TransitionKind::Dissolve, 0.4),
                within_stage: Transition::cut(),
                new_stage: at(TransitionKind::Dissolve, 0.5),
                closing: at(TransitionKind::Dissolve, 0.6),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_read_as_an_editor_writes_them() {
        assert_eq!("dissolve".parse::<Transition>(), Ok(Transition { kind: TransitionKind::Dissolve, duration_s: 0.6 }));
        assert_eq!("cross dissolve 0.8s".parse::<TransitionKind>(), Err("unknown transition 'cross dissolve 0.8s': choose one of cut, fade, dissolve, flash, wipe-left, wipe-right, wipe-up, slide-left, slide-right, slide-up, zoom, circle".into()));
        assert_eq!("crossfade 0.8s".parse::<Transition>(), Ok(Transition { kind: TransitionKind::Dissolve, duration_s: 0.8 }));
        assert_eq!("cut 1".parse::<Transition>(), Ok(Transition::cut()));
        assert!("wipe 3".parse::<Transition>().is_err());
        assert_eq!(TransitionStyle::for_tone("Energetic").within_stage, Transition::cut());
        // Paced to the shots: short shots cut, and a long dissolve shrinks to a quarter of
        // the shorter neighbour.
        let dissolve = Transition { kind: TransitionKind::Dissolve, duration_s: 0.8 };
        assert_eq!(dissolve.paced(Some(1.5), 4.0), Transition::cut());
        assert_eq!(dissolve.paced(Some(4.0), 1.5), Transition::cut());
        assert_eq!(dissolve.paced(None, 1.5), Transition::cut());
        assert_eq!(dissolve.paced(Some(2.0), 6.0), Transition { kind: TransitionKind::Dissolve, duration_s: 0.5 });
        assert_eq!(dissolve.paced(Some(5.0), 6.0), dissolve);
        assert_eq!(dissolve.paced(None, 6.0), dissolve);
        assert_eq!(TransitionStyle::for_tone("calm, premium").new_stage.kind, TransitionKind::Dissolve);
        for k in TransitionKind::ALL {
            assert_eq!(k.id().parse::<TransitionKind>(), Ok(k));
        }
    }
}

/// Whether the voiceover's captions are burned into the picture, written beside it as
/// `captions.srt`/`.vtt` only, or left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CaptionMode {
    #[default]
    Burn,
    Sidecar,
    Off,
}

/// How burned captions look: whole phrases, or phrases with each word lit as it is
/// spoken (karaoke, the social-video norm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CaptionStyle {
    #[default]
    Plain,
    Karaoke,
}

impl FromStr for CaptionMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "burn" | "burned" | "on" => Ok(CaptionMode::Burn),
            "sidecar" | "srt" => Ok(CaptionMode::Sidecar),
            "off" | "none" => Ok(CaptionMode::Off),
            _ => Err(format!("unknown captions mode '{s}': use burn, sidecar or off")),
        }
    }
}

impl FromStr for CaptionStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "plain" | "phrase" => Ok(CaptionStyle::Plain),
            "karaoke" | "word" => Ok(CaptionStyle::Karaoke),
            _ => Err(format!("unknown captions style '{s}': use plain or karaoke")),
        }
    }
}
