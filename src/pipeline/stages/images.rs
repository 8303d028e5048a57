//! Reference images (with their analysis) and scene keyframes.

use std::sync::Arc;

use super::super::keys::{key_of, keyframe_board_key, keyframe_key, reference_board_key, reference_key};
use super::super::{Pipeline, PipelineError, Recorder, Task};
use super::{blob_path, produce, Made};
use crate::domain::{Approver, AssetId, ConsistencyContext, Event, Keyframe, Reference, ReferenceKind, SessionState, Slot};
use crate::domain::prompt_palette;
use serde_json::json;
use crate::providers::{ImagePurpose, ImageRequest};

fn even(v: u32) -> u32 {
    (v / 2 * 2).max(16)
}

async fn paint(p: &Pipeline, rec: &Arc<Recorder>, task: Task, key: &str, req: ImageRequest) -> Result<Made, PipelineError> {
    produce(p, rec, task, key, &p.providers.image, &req, "png", 1).await
}

/// A mood-board slot's image: its candidates (made once, seeded apart, or reused by
/// `board_key`) and the one to use — the user's pick, else the candidate that carries
/// `palette` best (`rule` says why, in the event). With one candidate, just the image.
async fn from_board(
    p: &Pipeline,
    rec: &Arc<Recorder>,
    st: &SessionState,
    slot: Slot,
    board_key: &str,
    (palette, rule): (&[String], &str),
    req: ImageRequest,
) -> Result<Made, PipelineError> {
    let task = match slot {
        Slot::Reference(kind) => Task::Reference(kind),
        Slot::Keyframe(id) => Task::Keyframe(id),
    };
    let n = st.brief().candidates() as usize;
    if n <= 1 {
        return paint(p, rec, task, board_key, req).await;
    }
    let whole = |imgs: &[AssetId]| imgs.len() == n && imgs.iter().all(|a| p.store.blobs.contains(a));
    let board_cache = format!("board-{board_key}");
    let images = match st.candidates.get(&slot).filter(|(k, imgs)| k == board_key && whole(imgs)) {
        Some((_, imgs)) => imgs.clone(),
        None => {
            let images = match p.store.cache_get::<Vec<AssetId>>(&board_cache)?.filter(|v| whole(v)) {
                Some(v) => v,
                None => {
                    // Side by side, each under the limits `produce` holds (a job per candidate).
                    let v = futures::future::try_join_all((0..n).map(|k| {
                        let req = ImageRequest { seed: req.seed.wrapping_add(k as u64 * 7919), ..req.clone() };
                        let key = key_of("candidate", &json!({ "board": board_key, "k": k }));
                        async move { paint(p, rec, task, &key, req).await.map(|m| m.asset) }
                    }))
                    .await?;
                    p.store.cache_put(&board_cache, &v)?;
                    v
                }
            };
            rec.record(Event::CandidatesReady { slot, key: board_key.to_string(), images: images.clone() }).await?;
            images
        }
    };
    let index = match st.user_pick(slot).filter(|i| *i < images.len()) {
        Some(i) => i,
        None => {
            let paths = images.iter().map(|a| blob_path(p, a)).collect::<Result<Vec<_>, _>>()?;
            let palette = palette.to_vec();
            let (i, fit) = tokio::task::spawn_blocking(move || {
                let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
                crate::media::best_fit(&refs, &palette)
            })
            .await
            .map_err(|e| PipelineError::Internal(format!("picking a candidate: {e}")))??;
            if st.picks.get(&slot) != Some(&(i, Approver::Auto)) {
                let reason = format!("{rule} ({:.0}% of it)", fit * 100.0);
                rec.record(Event::CandidatePicked { slot, index: i, by: Approver::Auto, reason }).await?;
            }
            i
        }
    };
    Ok(Made { asset: images[index].clone(), model: p.providers.image.head().id() })
}

pub async fn reference(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, kind: ReferenceKind) -> Result<(), PipelineError> {
    let key = reference_key(st, kind, &p.provider_ids());
    if let Some(r) = p.store.cache_get::<Reference>(&key)?.filter(|r| p.store.blobs.contains(&r.image)) {
        rec.note(format!("{} reference: reused from cache", kind.id()));
        rec.record(Event::ReferenceReady { reference: Reference { key, ..r } }).await?;
        return Ok(());
    }
    let brief = st.brief();
    let render = st.render.clone().expect("render spec is set at creation");
    let tpl = p.resources.ad_template(&brief.template)?;
    let task = Task::Reference(kind);
    let brand = match kind {
        ReferenceKind::Product => brief.assets.product_images.first(),
        ReferenceKind::Character => brief.assets.character_images.first(),
        ReferenceKind::Environment => None,
    };
    let palette = prompt_palette(&brief.prompt);
    let prompt = p.resources.render_prompt(
        "image",
        json!({ "purpose": kind.id(), "product": brief.product_name, "prompt": brief.prompt, "style": tpl.style,
                "character": tpl.character, "environment": tpl.environment, "palette": palette }),
    )?;
    let (image, source) = match brand {
        Some(asset) => (asset.clone(), "brand".to_string()),
        None => {
            let req = ImageRequest {
                purpose: ImagePurpose::Reference { reference: kind },
                prompt: prompt.clone(),
                negative_prompt: p.resources.render_prompt("negative", json!({ "what": "image" }))?,
                width: even(render.width),
                height: even(render.height),
                seed: brief.seed ^ ((kind as u64 + 1) * 0x51ED),
                palette,
                title: (kind == ReferenceKind::Product).then(|| brief.product_name.clone()),
                init_images: vec![],
                typeface: brief.typeface.clone(),
            };
            {
                let board = reference_board_key(st, kind, &p.provider_ids());
                let palette = req.palette.clone();
                let made = from_board(p, rec, st, Slot::Reference(kind), &board, (&palette, "closest to the brief's colours"), req).await?;
                (made.asset, made.model)
            }
        }
    };
    let path = blob_path(p, &image)?;
    let (analysis, who) = crate::providers::attribution::attributed(p.providers.analyst.analyse(&path, kind, brief)).await;
    let analysis = analysis.map_err(|e| PipelineError::provider(task, e))?;
    let analysed_by = who.model(|| p.providers.analyst.id());
    if let Some(note) = who.fallback_note(&task.to_string(), "analysed") {
        rec.note(note);
    }
    let reference = Reference { kind, image, source, prompt, analysis, analysed_by, key: key.clone() };
    p.store.cache_put(&key, &reference)?;
    rec.record(Event::ReferenceReady { reference }).await?;
    Ok(())
}

pub async fn keyframe(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState, scene_id: u32) -> Result<(), PipelineError> {
    let scene = st.scene(scene_id).ok_or_else(|| PipelineError::Internal(format!("scene {scene_id} is gone")))?;
    let key = keyframe_key(st, scene, &p.provider_ids());
    if let Some(image) = p.store.cache_get::<crate::domain::AssetId>(&key)?.filter(|a| p.store.blobs.contains(a)) {
        rec.record(Event::KeyframeReady { keyframe: Keyframe { scene_id, image, key } }).await?;
        return Ok(());
    }
    let brief = st.brief();
    let render = st.render.clone().expect("render spec is set at creation");
    let context = ConsistencyContext::from_references(st.references.values());
    let mut palette = context.palette.clone();
    if palette.is_empty() {
        palette = prompt_palette(&brief.prompt);
    }
    let product_image = match brief.assets.product_images.first() {
        Some(a) => vec![blob_path(p, a)?],
        None => vec![],
    };
    let board = keyframe_board_key(st, scene, &p.provider_ids());
    let seed = u64::from_str_radix(&board[..12], 16).unwrap_or(0);
    let req = ImageRequest {
        purpose: ImagePurpose::Keyframe { scene_id },
        prompt: p.resources.render_prompt(
            "image",
            json!({ "purpose": "keyframe", "description": scene.description, "style": context.style, "context_palette": context.palette }),
        )?,
        negative_prompt: p.resources.render_prompt("negative", json!({ "what": "image" }))?,
        // 25% larger than the canvas, so camera moves sample real detail.
        width: even(render.width * 5 / 4),
        height: even(render.height * 5 / 4),
        seed,
        palette,
        title: Some(brief.product_name.clone()),
        init_images: product_image,
        typeface: brief.typeface.clone(),
    };
    let palette = req.palette.clone();
    let rule = if context.palette.is_empty() { "closest to the brief's colours" } else { "closest to the product reference's palette" };
    let image = from_board(p, rec, st, Slot::Keyframe(scene_id), &board, (&palette, rule), req).await?.asset;
    p.store.cache_put(&key, &image)?;
    rec.record(Event::KeyframeReady { keyframe: Keyframe { scene_id, image, key } }).await?;
    Ok(())
}
