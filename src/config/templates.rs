//! Ad templates and story frameworks (AIDA, PAS, FAB) as data, parsed from TOML.

use serde::{Deserialize, Serialize};

use super::resources::Resources;
use super::ConfigError;
use crate::domain::{CameraMove, Framework};

/// One stage of a story framework (e.g. AIDA's "Desire").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkStage {
    pub name: String,
    /// Share of the advert's duration.
    pub share: f64,
    pub purpose: String,
    /// Beat text variants (minijinja, with brief variables).
    pub beats: Vec<String>,
    /// On-screen text variants.
    pub on_screen: Vec<String>,
    /// Voiceover variants.
    pub voiceover: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkSpec {
    pub id: String,
    pub name: String,
    pub stages: Vec<FrameworkStage>,
    /// Other openings for hook variants (minijinja, with `product`, `audience`, `cta`).
    #[serde(default)]
    pub hooks: Vec<crate::domain::HookLine>,
    /// Other calls to action for CTA variants.
    #[serde(default)]
    pub ctas: Vec<String>,
}

/// A shot pattern of an ad template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShotSpec {
    pub shot_type: String,
    pub camera: CameraMove,
    pub motion: f32,
    /// Scene description (minijinja, with brief and context variables).
    pub description: String,
}

/// An ad template: the look and the shot vocabulary of a kind of advert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdTemplate {
    pub id: String,
    pub name: String,
    pub description: String,
    pub style: String,
    pub environment: String,
    pub character: String,
    /// Loglines (minijinja).
    pub loglines: Vec<String>,
    pub shots: Vec<ShotSpec>,
    /// The tone the cut follows when the brief names none (transitions, pace).
    #[serde(default)]
    pub tone: String,
    /// The colour look of the clips when the brief names none (`natural` when empty).
    #[serde(default)]
    pub look: String,
    /// The display face of the cards and the offline designs: a fontconfig pattern
    /// (`DejaVu Serif:bold`); empty or not installed falls back to a bold sans.
    #[serde(default)]
    pub font: String,
}

impl AdTemplate {
    /// The brief's tone, else the template's.
    pub fn tone_for<'a>(&'a self, brief: &'a crate::domain::Brief) -> &'a str {
        if brief.tone.trim().is_empty() {
            &self.tone
        } else {
            &brief.tone
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str, origin: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse { path: origin.to_string(), message: e.to_string() })
}

impl Resources {
    pub fn ad_template(&self, id: &str) -> Result<AdTemplate, ConfigError> {
        let (text, origin) = self
            .template_source(id)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "unknown template '{id}': choose one of {}",
                    self.template_ids().join(", ")
                ))
            })?;
        let t: AdTemplate = parse(&text, &origin)?;
        if t.shots.is_empty() || t.loglines.is_empty() {
            return Err(ConfigError::Invalid(format!("template {origin} needs at least one shot and one logline")));
        }
        Ok(t)
    }

    pub fn framework(&self, f: Framework) -> Result<FrameworkSpec, ConfigError> {
        let (text, origin) = self
            .framework_source(f.id())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?
            .ok_or_else(|| ConfigError::Invalid(format!("framework {} has no definition", f.id())))?;
        let spec: FrameworkSpec = parse(&text, &origin)?;
        if spec.stages.is_empty()
            || spec.stages.iter().any(|s| s.beats.is_empty() || s.on_screen.is_empty() || s.voiceover.is_empty() || s.share <= 0.0)
        {
            return Err(ConfigError::Invalid(format!(
                "framework {origin}: every stage needs a positive share and at least one beat, on_screen and voiceover line"
            )));
        }
        Ok(spec)
    }
}
