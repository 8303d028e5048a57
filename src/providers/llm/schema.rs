//! JSON schemas of the answers each prompt asks for, sent as `response_format` to servers
//! that support structured output (and written into the prompt for those that do not).

use serde_json::{json, Value};

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn scene() -> Value {
    json!({
        "type": "object",
        "properties": {
            "description": { "type": "string" },
            "duration_s": { "type": "number" },
            "shot_type": { "type": "string" },
            "camera": { "type": "string", "enum": ["static", "zoom-in", "zoom-out", "pan-left", "pan-right", "dolly"] },
            "motion_intensity": { "type": "number" },
            "on_screen_text": { "type": "string" },
            "voiceover": { "type": "string" },
            "transition": { "type": "string" }
        },
        "required": ["description", "duration_s", "camera", "on_screen_text", "voiceover"]
    })
}

/// The schema for a prompt's answer; `None` for prompts without a fixed shape.
pub fn for_prompt(prompt: &str) -> Option<Value> {
    Some(match prompt {
        "story_director" => json!({
            "type": "object",
            "properties": {
                "title": { "type": "string" },
                "logline": { "type": "string" },
                "beats": { "type": "array", "items": { "type": "object", "properties": { "stage": { "type": "string" }, "text": { "type": "string" } }, "required": ["stage", "text"] } }
            },
            "required": ["title", "logline", "beats"]
        }),
        "story_critic" | "scene_critic" => json!({
            "type": "object",
            "properties": { "score": { "type": "number" }, "reasons": strings(), "suggestions": strings() },
            "required": ["score", "reasons", "suggestions"]
        }),
        "scene_writer" => json!({ "type": "object", "properties": { "scenes": { "type": "array", "items": scene() } }, "required": ["scenes"] }),
        "scene_cohesor" => json!({ "type": "object", "properties": { "notes": strings(), "scenes": { "type": "array", "items": scene() } }, "required": ["notes", "scenes"] }),
        "shorten_voiceover" => json!({ "type": "object", "properties": { "line": { "type": "string" } }, "required": ["line"] }),
        "reference_analyst" => json!({ "type": "object", "properties": { "features": strings(), "style": { "type": "string" } }, "required": ["features", "style"] }),
        "intent" => json!({
            "type": "object",
            "properties": {
                "intent": { "type": "string", "enum": ["approve", "regenerate", "feedback", "edit_scene", "retry_clip"] },
                "text": { "type": "string" }, "scene": { "type": ["number", "null"] }, "field": { "type": "string" }, "value": { "type": "string" }
            },
            "required": ["intent"]
        }),
        _ => return None,
    })
}

/// The most tokens an answer to `prompt` needs, with room to spare: a bound on every call,
/// so a slow server cannot spend many minutes on one runaway answer.
pub fn max_tokens_for(prompt: &str) -> u32 {
    match prompt {
        "scene_writer" | "scene_cohesor" => 3000,
        "story_director" => 1500,
        "story_critic" | "scene_critic" => 800,
        "reference_analyst" => 600,
        "intent" => 400,
        "shorten_voiceover" => 300,
        _ => 1500,
    }
}

/// The bound for the repair of an answer that was cut off: twice the first, within reason.
pub fn max_tokens_after_cut(first: u32) -> u32 {
    first.saturating_mul(2).clamp(first, 8192)
}
