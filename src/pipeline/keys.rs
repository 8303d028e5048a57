//! Content keys: hash(provider, model, canonical request, input asset hashes, seed).
//! A result whose key still matches is reused; a changed input changes the key, which is
//! how an edit re-renders exactly what depends on it.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::domain::{ReferenceKind, Scene, SessionState, Slot};

/// sha256 of the canonical JSON of `value` (struct fields in declaration order, maps sorted).
pub fn key_of<T: Serialize>(kind: &str, value: &T) -> String {
    let canonical = serde_json::to_vec(&json!({ "kind": kind, "v": 1, "input": value })).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}

/// Provider ids that take part in keys.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderIds {
    pub image: String,
    pub video: String,
    pub analyst: String,
    pub speech: String,
    /// The music role's chain (`none` when off).
    pub music: String,
}

pub fn reference_key(state: &SessionState, kind: ReferenceKind, p: &ProviderIds) -> String {
    with_pick(state, Slot::Reference(kind), reference_board_key(state, kind, p))
}

/// A reference's key before any pick: what its candidates are made from.
pub fn reference_board_key(state: &SessionState, kind: ReferenceKind, p: &ProviderIds) -> String {
    let b = state.brief();
    let r = state.render.as_ref();
    let brand = match kind {
        ReferenceKind::Product => b.assets.product_images.first(),
        ReferenceKind::Character => b.assets.character_images.first(),
        ReferenceKind::Environment => None,
    };
    let mut input = json!({
        "kind": kind, "prompt": b.prompt, "product": b.product_name, "template": b.template,
        "tone": b.tone, "brand": brand.map(|a| &a.sha256), "seed": b.seed,
        "size": r.map(|r| (r.width, r.height)), "image": p.image, "analyst": p.analyst,
    });
    // A brand image is used as it is: no candidates.
    if brand.is_none() && b.candidates() > 1 {
        input["candidates"] = json!(b.candidates());
    }
    key_of("reference", &input)
}

/// A slot's key with the user's pick in it (none: the key the board gives).
fn with_pick(state: &SessionState, slot: Slot, key: String) -> String {
    match state.user_pick(slot) {
        Some(i) => key_of("picked", &json!({ "board": key, "pick": i })),
        None => key,
    }
}

/// The consistency palette the references give (fixed order: product, character, environment).
fn context_fingerprint(state: &SessionState) -> Vec<&str> {
    state.references.values().map(|r| r.key.as_str()).collect()
}

pub fn keyframe_key(state: &SessionState, scene: &Scene, p: &ProviderIds) -> String {
    with_pick(state, Slot::Keyframe(scene.id), keyframe_board_key(state, scene, p))
}

/// A keyframe's key before any pick: what its candidates are made from.
pub fn keyframe_board_key(state: &SessionState, scene: &Scene, p: &ProviderIds) -> String {
    let b = state.brief();
    let mut input = json!({
        "description": scene.description, "shot": scene.shot_type, "product": b.product_name,
        "product_image": b.assets.product_images.first().map(|a| &a.sha256),
        "context": context_fingerprint(state), "render": state.render, "seed": b.seed, "image": p.image,
    });
    if b.candidates() > 1 {
        input["candidates"] = json!(b.candidates());
    }
    key_of("keyframe", &input)
}

pub fn clip_key(state: &SessionState, scene: &Scene, p: &ProviderIds) -> Option<String> {
    let kf = state.keyframes.get(&scene.id)?;
    let mut req = json!({
        "keyframe": kf.image.sha256, "camera": scene.camera, "motion": scene.motion_intensity,
        "duration": scene.duration_s, "render": state.render, "seed": state.brief().seed, "video": p.video,
    });
    // Later takes (the quality gate's re-renders) are different requests; take 0 keeps
    // the key it always had.
    let take = state.take(scene.id);
    if take > 0 {
        req["take"] = json!(take);
    }
    Some(key_of("clip", &req))
}

/// Key of the music bed: what the composer is asked for, and by whom; `None` when the
/// brief brings its own music or no music model is configured.
pub fn music_key(state: &SessionState, p: &ProviderIds, finish: &super::cut::FinishRules) -> Option<String> {
    let req = super::cut::music_request(state, finish)?;
    (p.music != "none").then(|| key_of("music", &json!({ "request": req, "model": p.music })))
}

/// Key of a scene's voice line: its text, the voice, and the speech chain that reads the
/// brief (`configured` is the config's, `none` when off); `None` when the scene has no
/// line or the session no voiceover.
pub fn voice_key(state: &SessionState, scene: &Scene, configured: &str) -> Option<String> {
    let text = scene.voiceover.trim();
    let b = state.brief();
    let speech = b.speech_chain(configured)?;
    (!text.is_empty()).then(|| key_of("voice", &json!({ "text": text, "voice": b.voice_name(), "speech": speech })))
}

/// Key of the animatic: everything it reads (see `cut::animatic_identity`).
pub fn animatic_key(state: &SessionState, finish: &super::cut::FinishRules) -> Option<String> {
    super::cut::animatic_identity(state, finish).map(|spec| key_of("animatic", &spec))
}

/// Key of the final cut: everything compose reads (see `cut::spec_identity`).
pub fn compose_key(state: &SessionState, finish: &super::cut::FinishRules) -> Option<String> {
    super::cut::spec_identity(state, finish).map(|spec| key_of("compose", &spec))
}
