//! Prompts, ad templates, story frameworks and ComfyUI workflows: embedded defaults, each
//! overridable by a file of the same name in the user's config folder.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// The prompts sent to chat models, each `prompts/<name>.j2`: the writing roles'
/// prompts, the system prompts and the repair request. Each asks for JSON.
pub const PROMPT_NAMES: [&str; 11] = [
    "story_director",
    "story_critic",
    "scene_writer",
    "scene_critic",
    "scene_cohesor",
    "shorten_voiceover",
    "reference_analyst",
    "intent",
    "system",
    "vision_system",
    "repair",
];

/// The prompts sent to image and video models: the picture's prompt and what to avoid.
pub const MEDIA_PROMPT_NAMES: [&str; 2] = ["image", "negative"];

const EMBEDDED_PROMPTS: [(&str, &str); 13] = [
    ("story_director", include_str!("../../prompts/story_director.j2")),
    ("story_critic", include_str!("../../prompts/story_critic.j2")),
    ("scene_writer", include_str!("../../prompts/scene_writer.j2")),
    ("scene_critic", include_str!("../../prompts/scene_critic.j2")),
    ("scene_cohesor", include_str!("../../prompts/scene_cohesor.j2")),
    ("shorten_voiceover", include_str!("../../prompts/shorten_voiceover.j2")),
    ("reference_analyst", include_str!("../../prompts/reference_analyst.j2")),
    ("intent", include_str!("../../prompts/intent.j2")),
    ("system", include_str!("../../prompts/system.j2")),
    ("vision_system", include_str!("../../prompts/vision_system.j2")),
    ("repair", include_str!("../../prompts/repair.j2")),
    ("image", include_str!("../../prompts/image.j2")),
    ("negative", include_str!("../../prompts/negative.j2")),
];

const EMBEDDED_TEMPLATES: [(&str, &str); 4] = [
    ("product_showcase", include_str!("../../templates/product_showcase.toml")),
    ("lifestyle_ad", include_str!("../../templates/lifestyle_ad.toml")),
    ("announcement", include_str!("../../templates/announcement.toml")),
    ("ugc_testimonial", include_str!("../../templates/ugc_testimonial.toml")),
];

const EMBEDDED_FRAMEWORKS: [(&str, &str); 3] = [
    ("aida", include_str!("../../templates/frameworks/aida.toml")),
    ("pas", include_str!("../../templates/frameworks/pas.toml")),
    ("fab", include_str!("../../templates/frameworks/fab.toml")),
];

/// The shipped looks (`looks/*.cube`, made from the formulas in `media::lut`).
const EMBEDDED_LOOKS: [(&str, &str); 8] = [
    ("natural", include_str!("../../looks/natural.cube")),
    ("warm", include_str!("../../looks/warm.cube")),
    ("cool", include_str!("../../looks/cool.cube")),
    ("teal-orange", include_str!("../../looks/teal-orange.cube")),
    ("punchy", include_str!("../../looks/punchy.cube")),
    ("soft", include_str!("../../looks/soft.cube")),
    ("mono", include_str!("../../looks/mono.cube")),
    ("vintage", include_str!("../../looks/vintage.cube")),
];

const EMBEDDED_WORKFLOWS: [(&str, &str); 2] = [
    ("wan-i2v", include_str!("../../templates/comfyui/wan-i2v.json")),
    ("sdxl-t2i", include_str!("../../templates/comfyui/sdxl-t2i.json")),
];

#[derive(Debug, Error)]
pub enum PromptError {
    #[error("no prompt named '{0}'")]
    Unknown(String),
    #[error("prompt '{name}' ({origin}) does not render: {message}")]
    Render { name: String, origin: String, message: String },
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
}

/// Prompts, ad templates and frameworks: the embedded defaults, each overridable by a
/// file of the same name in the user's config dir (`prompts/`, `templates/`).
#[derive(Debug, Clone)]
pub struct Resources {
    config_dir: PathBuf,
}

impl Resources {
    pub fn new(config_dir: &Path) -> Resources {
        Resources { config_dir: config_dir.to_path_buf() }
    }

    /// A ComfyUI workflow (API format) by name: `templates/comfyui/NAME.json` in the
    /// config dir, else the shipped one. Returns the workflow and where it came from.
    pub fn comfy_workflow(&self, name: &str) -> Result<(serde_json::Value, String), String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.') {
            return Err(format!("\"{name}\" is not a workflow name (letters, digits, - _ . only)"));
        }
        let (text, origin) = match self.read(&format!("templates/comfyui/{name}.json"), &EMBEDDED_WORKFLOWS, name).map_err(|e| e.to_string())? {
            Some(found) => found,
            None => {
                let known: Vec<&str> = EMBEDDED_WORKFLOWS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "no ComfyUI workflow named \"{name}\": put one in {} (shipped: {})",
                    self.config_dir.join("templates/comfyui").display(),
                    known.join(", ")
                ));
            }
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("workflow {name} ({origin}) is not valid JSON: {e}"))?;
        if !v.as_object().is_some_and(|o| !o.is_empty() && o.values().all(|n| n.get("class_type").is_some())) {
            return Err(format!("workflow {name} ({origin}) is not in ComfyUI's API format (export it with Workflow → Export (API))"));
        }
        Ok((v, origin))
    }

    fn read(&self, rel: &str, embedded: &[(&str, &str)], name: &str) -> Result<Option<(String, String)>, PromptError> {
        let user = self.config_dir.join(rel);
        match std::fs::read_to_string(&user) {
            Ok(text) => return Ok(Some((text, user.display().to_string()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PromptError::Read(user.display().to_string(), e)),
        }
        Ok(embedded
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| (t.to_string(), format!("built-in {rel}"))))
    }

    /// The raw text of a prompt template and where it came from.
    pub fn prompt_source(&self, name: &str) -> Result<(String, String), PromptError> {
        self.read(&format!("prompts/{name}.j2"), &EMBEDDED_PROMPTS, name)?
            .ok_or_else(|| PromptError::Unknown(name.to_string()))
    }

    /// Render a prompt with variables (any serialisable context).
    pub fn render_prompt<S: serde::Serialize>(&self, name: &str, vars: S) -> Result<String, PromptError> {
        let (text, origin) = self.prompt_source(name)?;
        render_template(&text, vars).map_err(|message| PromptError::Render {
            name: name.to_string(),
            origin,
            message,
        })
    }

    pub fn template_source(&self, id: &str) -> Result<Option<(String, String)>, PromptError> {
        self.read(&format!("templates/{id}.toml"), &EMBEDDED_TEMPLATES, id)
    }

    pub fn framework_source(&self, id: &str) -> Result<Option<(String, String)>, PromptError> {
        self.read(&format!("templates/frameworks/{id}.toml"), &EMBEDDED_FRAMEWORKS, id)
    }

    /// A look's `.cube` text by name: `looks/NAME.cube` in the config dir, else the
    /// shipped one. Returns the text and where it came from.
    pub fn look_source(&self, name: &str) -> Result<Option<(String, String)>, PromptError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) || name.starts_with('.') {
            return Ok(None);
        }
        self.read(&format!("looks/{name}.cube"), &EMBEDDED_LOOKS, name)
    }

    /// Every look's name: the shipped ones and the user's own `.cube` files.
    pub fn look_names(&self) -> Vec<String> {
        self.names(&EMBEDDED_LOOKS, "looks", "cube")
    }

    /// Every ad template id: the built-in ones and the user's own files.
    pub fn template_ids(&self) -> Vec<String> {
        self.names(&EMBEDDED_TEMPLATES, "templates", "toml")
    }

    fn names(&self, embedded: &[(&str, &str)], dir: &str, ext: &str) -> Vec<String> {
        let mut ids: Vec<String> = embedded.iter().map(|(n, _)| n.to_string()).collect();
        if let Ok(dir) = std::fs::read_dir(self.config_dir.join(dir)) {
            for e in dir.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == ext) {
                    if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                        if !ids.iter().any(|i| i == stem) {
                            ids.push(stem.to_string());
                        }
                    }
                }
            }
        }
        ids
    }
}

/// Render a minijinja template string with strict undefined variables.
pub fn render_template<S: serde::Serialize>(text: &str, vars: S) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("t", text).map_err(|e| e.to_string())?;
    env.get_template("t")
        .and_then(|t| t.render(vars))
        .map_err(|e| e.to_string())
}

/// Representative variables every built-in prompt renders with: used by `admint doctor`
/// and the tests to catch a prompt that cannot render before a model is called.
pub fn sample_prompt_vars(resources: &Resources) -> serde_json::Value {
    let fw = resources.framework(crate::domain::Framework::Aida).ok();
    let tpl = resources.ad_template("product_showcase").ok();
    serde_json::json!({
        "brief": { "prompt": "p", "product_name": "X", "call_to_action": "Buy", "audience": "", "tone": "",
                   "language": "en", "duration_s": 10.0, "aspect": "16:9" },
        "framework": fw, "template": tpl, "story": { "beats": [] }, "scenes": [],
        "context": { "palette": ["#ffffff"], "product_features": ["laces"], "style": "s" },
        "scene_count": 3, "scenes_s": 7.0, "kind": "product", "product_name": "X", "palette": ["#ffffff"], "stage": "story", "text": "hi",
        "previous": null, "critique": null, "feedback": null, "feedback_scene": null,
        "original": "o", "error": "e", "product": "X", "prompt": "p", "truncated": false, "purpose": "product", "description": "d",
        "style": "s", "character": "c", "environment": "e", "context_palette": ["#ffffff"], "what": "video",
        "wps": 2.6, "line": "Meet X, made for you.", "duration_s": 3.0, "max_words": 4,
    })
}
