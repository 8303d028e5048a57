//! The story and its scenes: beats, critiques, camera moves and scene edits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::{Framework, Transition};

/// One beat of the story: a step of the framework told for this product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Beat {
    /// Framework step (e.g. `Attention`).
    pub stage: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    pub title: String,
    pub framework: Framework,
    pub template: String,
    pub logline: String,
    pub beats: Vec<Beat>,
    /// Revision number within the session, from 1.
    pub revision: u32,
}

/// A critic's verdict: a 0..10 score with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critique {
    pub score: f64,
    pub reasons: Vec<String>,
    /// Concrete changes the critic asks for (empty when satisfied).
    #[serde(default)]
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum CameraMove {
    #[default]
    Static,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    Dolly,
}

impl CameraMove {
    pub const ALL: [CameraMove; 6] = [
        CameraMove::Static,
        CameraMove::ZoomIn,
        CameraMove::ZoomOut,
        CameraMove::PanLeft,
        CameraMove::PanRight,
        CameraMove::Dolly,
    ];
    pub fn id(self) -> &'static str {
        match self {
            CameraMove::Static => "static",
            CameraMove::ZoomIn => "zoom-in",
            CameraMove::ZoomOut => "zoom-out",
            CameraMove::PanLeft => "pan-left",
            CameraMove::PanRight => "pan-right",
            CameraMove::Dolly => "dolly",
        }
    }
}

impl fmt::Display for CameraMove {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for CameraMove {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        CameraMove::ALL
            .into_iter()
            .find(|c| c.id() == t)
            .or(match t.as_str() {
                "push-in" | "dolly-in" => Some(CameraMove::Dolly),
                "zoom" => Some(CameraMove::ZoomIn),
                "pan" => Some(CameraMove::PanRight),
                "still" | "none" => Some(CameraMove::Static),
                _ => None,
            })
            .ok_or_else(|| {
                format!("unknown camera move '{s}': choose one of static, zoom-in, zoom-out, pan-left, pan-right, dolly")
            })
    }
}

/// One timed shot of the advert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Stable id: survives reordering, never reused within a session.
    pub id: u32,
    pub description: String,
    pub duration_s: f64,
    pub shot_type: String,
    pub camera: CameraMove,
    /// 0..1: how much the camera and subject move.
    pub motion_intensity: f32,
    #[serde(default)]
    pub on_screen_text: String,
    #[serde(default)]
    pub voiceover: String,
    /// How this scene comes in (from the intro card or the scene before).
    #[serde(default)]
    pub transition: Transition,
}

/// A partial change to a scene, as the user asked for it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shot_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<CameraMove>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motion_intensity: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_screen_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voiceover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
}

impl ScenePatch {
    /// Every field of `scene`: applied, it puts the scene back as it was.
    pub fn whole(scene: &Scene) -> ScenePatch {
        ScenePatch {
            description: Some(scene.description.clone()),
            duration_s: Some(scene.duration_s),
            shot_type: Some(scene.shot_type.clone()),
            camera: Some(scene.camera),
            motion_intensity: Some(scene.motion_intensity),
            on_screen_text: Some(scene.on_screen_text.clone()),
            voiceover: Some(scene.voiceover.clone()),
            transition: Some(scene.transition),
        }
    }

    /// The patch that takes `before` back from this one: its old value for each field
    /// this patch sets.
    pub fn undoing(&self, before: &Scene) -> ScenePatch {
        let all = ScenePatch::whole(before);
        ScenePatch {
            description: self.description.as_ref().and(all.description),
            duration_s: self.duration_s.and(all.duration_s),
            shot_type: self.shot_type.as_ref().and(all.shot_type),
            camera: self.camera.and(all.camera),
            motion_intensity: self.motion_intensity.and(all.motion_intensity),
            on_screen_text: self.on_screen_text.as_ref().and(all.on_screen_text),
            voiceover: self.voiceover.as_ref().and(all.voiceover),
            transition: self.transition.and(all.transition),
        }
    }

    pub fn apply(&self, s: &mut Scene) {
        if let Some(v) = &self.description {
            s.description = v.clone();
        }
        if let Some(v) = self.duration_s {
            s.duration_s = v;
        }
        if let Some(v) = &self.shot_type {
            s.shot_type = v.clone();
        }
        if let Some(v) = self.camera {
            s.camera = v;
        }
        if let Some(v) = self.motion_intensity {
            s.motion_intensity = v.clamp(0.0, 1.0);
        }
        if let Some(v) = &self.on_screen_text {
            s.on_screen_text = v.clone();
        }
        if let Some(v) = &self.voiceover {
            s.voiceover = v.clone();
        }
        if let Some(v) = self.transition {
            s.transition = v;
        }
    }
    pub fn is_empty(&self) -> bool {
        self == &ScenePatch::default()
    }
}
