//! The media a session makes and spends on: assets, references and their analysis,
//! keyframes, clips, the final video, costs and the render settings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A file in the content-addressed blob store: its sha256 and a file extension.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AssetId {
    pub sha256: String,
    pub ext: String,
}

impl AssetId {
    pub fn short(&self) -> &str {
        &self.sha256[..self.sha256.len().min(12)]
    }
}

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.sha256, self.ext)
    }
}

/// The three reference images that anchor visual consistency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    Product,
    Character,
    Environment,
}

impl ReferenceKind {
    pub const ALL: [ReferenceKind; 3] =
        [ReferenceKind::Product, ReferenceKind::Character, ReferenceKind::Environment];
    pub fn id(self) -> &'static str {
        match self {
            ReferenceKind::Product => "product",
            ReferenceKind::Character => "character",
            ReferenceKind::Environment => "environment",
        }
    }
}

/// What the analyst saw in a reference image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Dominant colours, most common first, as `#rrggbb`.
    pub palette: Vec<String>,
    /// Mean luma, 0..1.
    pub brightness: f32,
    /// Standard deviation of luma, 0..1.
    pub contrast: f32,
    pub features: Vec<String>,
    pub style: String,
    /// Bounding box of the dominant subject `[x, y, w, h]` in pixels, when found.
    #[serde(default)]
    pub subject_box: Option<[u32; 4]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub kind: ReferenceKind,
    pub image: AssetId,
    /// Where it came from: `brand` (the user's file) or the provider that made it.
    pub source: String,
    pub prompt: String,
    pub analysis: Analysis,
    /// The model that analysed it (not the chain it was asked through).
    #[serde(default)]
    pub analysed_by: String,
    /// Content key this reference was made from.
    pub key: String,
}

/// The shared look every later prompt is given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsistencyContext {
    pub palette: Vec<String>,
    pub product_features: Vec<String>,
    pub style: String,
}

impl ConsistencyContext {
    pub fn from_references<'a>(refs: impl IntoIterator<Item = &'a Reference>) -> Self {
        let mut ctx = ConsistencyContext::default();
        // One style, not a join of three: the references are analysed apart and can disagree
        // ("soft contrast" on the product, "high contrast" on the set), and a prompt that asks
        // for both asks for neither. The environment sets the scenes' light; the product's,
        // then the character's, stand in when it has none.
        let mut style: Option<(u8, &str)> = None;
        for r in refs {
            for c in &r.analysis.palette {
                if !ctx.palette.contains(c) && ctx.palette.len() < 6 {
                    ctx.palette.push(c.clone());
                }
            }
            if r.kind == ReferenceKind::Product {
                ctx.product_features.extend(r.analysis.features.iter().cloned());
            }
            let rank = match r.kind {
                ReferenceKind::Environment => 0,
                ReferenceKind::Product => 1,
                ReferenceKind::Character => 2,
            };
            if !r.analysis.style.trim().is_empty() && style.is_none_or(|(best, _)| rank < best) {
                style = Some((rank, r.analysis.style.trim()));
            }
        }
        ctx.style = style.map(|(_, s)| s.to_string()).unwrap_or_default();
        ctx
    }
}

/// A keyframe image for one scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyframe {
    pub scene_id: u32,
    pub image: AssetId,
    pub key: String,
}

/// A rendered video clip for one scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    pub scene_id: u32,
    pub video: AssetId,
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub provider: String,
    pub key: String,
    /// Whether the result came from the content-addressed cache.
    #[serde(default)]
    pub cached: bool,
    /// Whether the clip has its own sound (video models such as Veo 3 make it): kept,
    /// low, on the ambience bus of the mix.
    #[serde(default)]
    pub has_audio: bool,
}

/// The composed advert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalVideo {
    pub video: AssetId,
    pub duration_s: f64,
    pub width: u32,
    pub height: u32,
    pub key: String,
}

/// The music bed made for the session (when the brief brings none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MusicBed {
    pub audio: AssetId,
    pub duration_s: f64,
    /// Beats per minute, when the model says.
    pub bpm: Option<f64>,
    pub mood: String,
    /// The model that made it.
    pub provider: String,
    pub key: String,
}

/// Money spent (or estimated) on one provider call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEntry {
    pub stage: String,
    pub provider: String,
    pub model: String,
    pub usd: f64,
    #[serde(default)]
    pub note: String,
    /// The job it paid for (`task#key`), when booked against one: a job is booked once,
    /// whichever run collects its result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// Render settings fixed when the session is created, so a resume renders exactly alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderSpec {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub intro_s: f64,
    pub outro_s: f64,
    /// The cards are inside the brief's length: a 30 s brief is a 30 s advert, its scenes
    /// filling what the cards leave. Sessions recorded before this had the cards on top
    /// (`false`, the default when it is missing) and keep them there.
    #[serde(default)]
    pub cards_in_spot: bool,
}

/// The most of a spot its title and end cards may take: a 6 s bumper keeps 1.5 s of card.
pub const CARDS_MAX_SHARE: f64 = 0.25;

impl RenderSpec {
    /// The render for a spot of `spot_s` seconds with cards of `intro_s` and `outro_s`
    /// asked for. Cards longer than `CARDS_MAX_SHARE` of the spot are shortened, the
    /// title card first (a short spot opens on its first scene and keeps its call to
    /// action), so the scenes always have most of the time. The share is taken in whole
    /// half seconds, the steps scenes are timed in, so a 7 s spot's scenes can fill it.
    pub fn for_spot(width: u32, height: u32, fps: u32, (intro_s, outro_s): (f64, f64), spot_s: f64) -> RenderSpec {
        let budget = ((spot_s * CARDS_MAX_SHARE * 2.0).floor() / 2.0).max(0.0);
        let outro = outro_s.min(budget);
        let intro = intro_s.min(budget - outro);
        // Whole frames, so the cut lands where the plan says.
        let frames = |s: f64| (s * fps.max(1) as f64).floor() / fps.max(1) as f64;
        RenderSpec { width, height, fps, intro_s: frames(intro), outro_s: frames(outro), cards_in_spot: true }
    }

    /// The seconds the scenes fill in a spot of `spot_s`.
    pub fn scenes_s(&self, spot_s: f64) -> f64 {
        if self.cards_in_spot {
            spot_s - self.intro_s - self.outro_s
        } else {
            spot_s
        }
    }

    /// The advert's planned length for scenes lasting `scenes_s`.
    pub fn total_s(&self, scenes_s: f64) -> f64 {
        self.intro_s + scenes_s + self.outro_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(kind: ReferenceKind, style: &str, palette: &[&str]) -> Reference {
        Reference {
            kind,
            image: AssetId { sha256: "0".repeat(64), ext: "png".into() },
            source: "test".into(),
            prompt: String::new(),
            analysis: Analysis { palette: palette.iter().map(|c| c.to_string()).collect(), style: style.into(), ..Analysis::default() },
            analysed_by: "test".into(),
            key: String::new(),
        }
    }

    #[test]
    fn a_spot_holds_its_cards_and_short_spots_shorten_the_title_first() {
        let spot = |len: f64| RenderSpec::for_spot(1920, 1080, 30, (1.5, 2.0), len);
        let r = spot(30.0);
        assert_eq!((r.intro_s, r.outro_s), (1.5, 2.0));
        assert_eq!(r.scenes_s(30.0), 26.5);
        assert_eq!(r.total_s(r.scenes_s(30.0)), 30.0);
        // 10 s: a quarter is 2.5 s; the end card keeps its 2 s, the title gets 0.5 s.
        let r = spot(10.0);
        assert_eq!((r.intro_s, r.outro_s, r.scenes_s(10.0)), (0.5, 2.0, 7.5));
        // A 6 s bumper opens on its first scene and ends on 1.5 s of call to action.
        let r = spot(6.0);
        assert_eq!((r.intro_s, r.outro_s, r.scenes_s(6.0)), (0.0, 1.5, 4.5));
        // A 7 s spot: a quarter is 1.75 s, taken as 1.5 so the scenes get 5.5 in half seconds.
        let r = spot(7.0);
        assert_eq!((r.intro_s, r.outro_s, r.scenes_s(7.0)), (0.0, 1.5, 5.5));
        // Cards land on whole frames.
        let r = RenderSpec::for_spot(1920, 1080, 25, (0.55, 2.0), 30.0);
        assert!((r.intro_s * 25.0 - 13.0).abs() < 1e-9 && (r.outro_s * 25.0 - 50.0).abs() < 1e-9, "{r:?}");
        // A session recorded with the cards on top keeps them there.
        let old: RenderSpec = serde_json::from_str(r#"{"width":320,"height":180,"fps":30,"intro_s":0.5,"outro_s":0.5}"#).unwrap();
        assert!(!old.cards_in_spot);
        assert_eq!(old.scenes_s(8.0), 8.0);
    }

    #[test]
    fn the_context_has_one_style_the_environments_and_every_palette() {
        let refs = [
            reference(ReferenceKind::Product, "balanced exposure, soft contrast, natural colour", &["#ff66cc"]),
            reference(ReferenceKind::Character, "bright high-key, high contrast, natural colour", &["#ffffff"]),
            reference(ReferenceKind::Environment, "dark low-key, high contrast, muted colour", &["#202030", "#ff66cc"]),
        ];
        let ctx = ConsistencyContext::from_references(&refs);
        assert_eq!(ctx.style, "dark low-key, high contrast, muted colour");
        assert_eq!(ctx.palette, ["#ff66cc", "#ffffff", "#202030"]);
        // Without an environment's style, the product's; blank styles never count.
        let ctx = ConsistencyContext::from_references(&[refs[1].clone(), reference(ReferenceKind::Environment, "  ", &[]), refs[0].clone()]);
        assert_eq!(ctx.style, "balanced exposure, soft contrast, natural colour");
        assert_eq!(ConsistencyContext::from_references(&[]).style, "");
    }
}
