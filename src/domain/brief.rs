//! The brief: what to advertise, to whom, in which framework, template and aspect.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::AssetId;

/// The advert's story framework: the order of persuasive beats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// Attention, Interest, Desire, Action.
    #[default]
    Aida,
    /// Problem, Agitate, Solution.
    Pas,
    /// Features, Advantages, Benefits.
    Fab,
}

impl Framework {
    pub const ALL: [Framework; 3] = [Framework::Aida, Framework::Pas, Framework::Fab];
    pub fn id(self) -> &'static str {
        match self {
            Framework::Aida => "aida",
            Framework::Pas => "pas",
            Framework::Fab => "fab",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id().to_uppercase())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Framework::ALL
            .into_iter()
            .find(|f| f.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown framework '{s}': choose one of aida, pas, fab"))
    }
}

/// Canvas shape of the final video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Aspect {
    #[default]
    #[serde(rename = "16:9")]
    Landscape,
    #[serde(rename = "9:16")]
    Portrait,
    #[serde(rename = "1:1")]
    Square,
}

impl Aspect {
    pub const ALL: [Aspect; 3] = [Aspect::Landscape, Aspect::Portrait, Aspect::Square];
    pub fn id(self) -> &'static str {
        match self {
            Aspect::Landscape => "16:9",
            Aspect::Portrait => "9:16",
            Aspect::Square => "1:1",
        }
    }
    /// The shape nearest to a `w`×`h` frame.
    pub fn closest(w: u32, h: u32) -> Aspect {
        let r = w as f64 / h.max(1) as f64;
        if r > 1.2 {
            Aspect::Landscape
        } else if r < 0.83 {
            Aspect::Portrait
        } else {
            Aspect::Square
        }
    }
    /// Full-resolution canvas (1080p class).
    pub fn canvas(self) -> (u32, u32) {
        match self {
            Aspect::Landscape => (1920, 1080),
            Aspect::Portrait => (1080, 1920),
            Aspect::Square => (1080, 1080),
        }
    }
    /// Canvas scaled so that its shorter side is `short` pixels (even numbers only).
    pub fn canvas_with_short_side(self, short: u32) -> (u32, u32) {
        let (w, h) = self.canvas();
        let s = short.max(16) as f64 / w.min(h) as f64;
        let even = |v: f64| ((v / 2.0).round() as u32 * 2).max(16);
        (even(w as f64 * s), even(h as f64 * s))
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Aspect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().replace('x', ":");
        Aspect::ALL
            .into_iter()
            .find(|a| a.id() == t)
            .or(match t.to_ascii_lowercase().as_str() {
                "landscape" | "wide" => Some(Aspect::Landscape),
                "portrait" | "vertical" => Some(Aspect::Portrait),
                "square" => Some(Aspect::Square),
                _ => None,
            })
            .ok_or_else(|| format!("unknown aspect ratio '{s}': choose one of 16:9, 9:16, 1:1"))
    }
}

/// Files the user brings: stored in the blob store when the session is created.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrandAssets {
    #[serde(default)]
    pub product_images: Vec<AssetId>,
    #[serde(default)]
    pub logo: Option<AssetId>,
    #[serde(default)]
    pub character_images: Vec<AssetId>,
    #[serde(default)]
    pub music: Option<AssetId>,
    /// The look's `.cube` file, copied in when the look was chosen (`None`: natural).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look: Option<AssetId>,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub prompt: String,
    pub product_name: String,
    pub call_to_action: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub framework: Framework,
    /// Ad template id (`product_showcase`, `lifestyle_ad`, `announcement`, `ugc_testimonial`, or a user's own).
    pub template: String,
    #[serde(default)]
    pub aspect: Aspect,
    /// Length of the advert in seconds, cards included (`RenderSpec::scenes_s` is what they
    /// leave the scenes; sessions recorded before that had the cards on top).
    pub duration_s: f64,
    #[serde(default)]
    pub assets: BrandAssets,
    /// Spending limit in US dollars for paid providers; `None` means no limit.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default)]
    pub seed: u64,
    /// One transition between every scene, overriding the template's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<super::Transition>,
    /// The colour look of the clips (a shipped look or the user's `.cube` file by name);
    /// `None` follows the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look: Option<String>,
    /// The template's look when the brief chose none: the look then follows the
    /// references' analysis (`domain::followed_look`). `None` once the user chose a look,
    /// and in sessions made before looks followed the references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub look_base: Option<String>,
    /// The voice that reads the voiceover, as the speech backend names it (an OpenAI
    /// voice, an ElevenLabs voice id, an offline voice). Naming one asks for a voiceover
    /// (the offline voice when no speech backend is configured); `none` turns it off;
    /// `None` follows the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// Captions of the voiceover (`None`: the config's `captions.mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captions: Option<super::CaptionMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption_style: Option<super::CaptionStyle>,
    /// The voiceover's pace, words per second (`None`: the English default, 2.6): it sizes
    /// every scene's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_per_second: Option<f64>,
    /// A web address or social handle for the end card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A price for the end card's badge ("$49", "from 29 €").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// The display face (a fontconfig pattern), from the template unless the brief names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typeface: Option<String>,
    /// Make an animatic (a cheap low-resolution cut of the keyframes, approved before
    /// any clip is rendered); `None`: the config's `pipeline.animatic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animatic: Option<bool>,
    /// The batch row this advert was made for (`admint batch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchTag>,
    /// A matrix of A/B variants to make after the advert (`hooks=2,ctas=2,aspects=16:9,9:16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variants: Option<String>,
    /// Candidates per reference and keyframe (a mood board to pick from); 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates: Option<u32>,
    /// The advert this one is a variant of, and which.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_of: Option<VariantTag>,
}

/// The most candidates a slot of the mood board may ask for.
pub const MAX_CANDIDATES: u32 = 8;

impl Brief {
    /// How many candidates each reference and keyframe gets.
    pub fn candidates(&self) -> u32 {
        self.candidates.unwrap_or(1).clamp(1, MAX_CANDIDATES)
    }
}

/// A place on the mood board: a reference or a scene's keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "slot", content = "id", rename_all = "snake_case")]
pub enum Slot {
    Reference(super::ReferenceKind),
    Keyframe(u32),
}

impl Slot {
    /// `keyframe 3` (scene ids shown as given), `product reference`.
    pub fn label(&self) -> String {
        match self {
            Slot::Reference(k) => format!("{} reference", k.id()),
            Slot::Keyframe(id) => format!("keyframe #{id}"),
        }
    }
}

/// A candidate's letter: 0 → a.
pub fn candidate_letter(i: usize) -> char {
    (b'a' + (i as u8).min(25)) as char
}

/// A variant session's parent and its cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantTag {
    pub parent: String,
    pub variant: super::Variant,
}

/// Which batch and row a session belongs to; `key` is the row's content, by which a batch
/// run again finds the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchTag {
    pub name: String,
    pub row: usize,
    pub key: String,
}

/// The id of the offline voice (flite / espeak-ng), used when a brief names a voice and
/// no speech backend is configured.
pub const OFFLINE_VOICE: &str = "offline/flite";

fn default_language() -> String {
    "en".into()
}

impl Brief {
    /// The speech chain that reads this brief's voiceover, given the configured one
    /// (`none` when none is): `None` when there is no voiceover.
    pub fn speech_chain(&self, configured: &str) -> Option<String> {
        match self.voice.as_deref().map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("off") => None,
            Some(_) if configured == "none" => Some(OFFLINE_VOICE.to_string()),
            _ => (configured != "none").then(|| configured.to_string()),
        }
    }

    /// The voice name to ask the backend for (empty: its default).
    pub fn voice_name(&self) -> String {
        match self.voice.as_deref().map(str::trim) {
            Some(v) if !v.eq_ignore_ascii_case("offline") && !v.eq_ignore_ascii_case("on") => v.to_string(),
            _ => String::new(),
        }
    }

    /// The voiceover's pace in words per second.
    pub fn wps(&self) -> f64 {
        self.words_per_second.filter(|w| w.is_finite() && *w > 0.5).unwrap_or(super::DEFAULT_WPS)
    }

    /// A short title for lists: the product name, else the start of the prompt.
    pub fn title(&self) -> String {
        if !self.product_name.trim().is_empty() {
            return self.product_name.trim().to_string();
        }
        let mut t: String = self.prompt.chars().take(40).collect();
        if self.prompt.chars().count() > 40 {
            t.push('…');
        }
        t
    }
}
