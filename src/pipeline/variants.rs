//! A/B variants of a finished advert. Each variant is a child session that starts from
//! its parent's decisions — the story, the scenes and every edit, replayed as events —
//! with its own hook (the first scene's text and line), call to action (the end card and
//! the last scene) and canvas. Everything whose content key did not change (references,
//! keyframes, clips, voice lines, the music bed) comes from the cache, so a hook or CTA
//! variant renders no clip and an aspect variant renders its canvas once.

use std::path::Path;

use serde::Serialize;
use serde_json::json;

use super::{AutoDecider, Pipeline, PipelineError, Recorder, RunOutcome};
use crate::config::render_template;
use crate::domain::{variant_matrix, Event, HookLine, ScenePatch, ScoreTarget, SessionState, Variant, VariantAxes, VariantTag};

/// One made (or attempted) variant: a line of `variants.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantRow {
    pub variant: String,
    pub file: String,
    pub hook: String,
    pub cta: String,
    pub aspect: String,
    pub duration_s: Option<f64>,
    pub cost_usd: f64,
    pub quality: Option<f64>,
    /// `done`, `paused: …`, `stopped`, `failed: …`.
    pub status: String,
    pub session: String,
    /// Clips this variant rendered itself (the rest came from the cache).
    pub clips_rendered: usize,
}

impl VariantRow {
    /// `variant h1-c2-9x16: done → out/final-h1-c2-9x16.mp4 (1 clip(s) rendered, the rest from the cache)`.
    pub fn describe(&self) -> String {
        format!(
            "variant {}: {}{} ({} clip(s) rendered, the rest from the cache)",
            self.variant,
            self.status,
            if self.file.is_empty() { String::new() } else { format!(" → {}", self.file) },
            self.clips_rendered
        )
    }
}

/// The parent's decisions a child replays: what the story and the scenes became, the
/// candidates the user picked, and the look and budget chosen since. Media are not
/// copied: the cache serves them by key.
fn is_decision(e: &Event) -> bool {
    matches!(
        e,
        Event::StoryDrafted { .. }
            | Event::StoryCritiqued { .. }
            | Event::StoryFeedback { .. }
            | Event::StoryRegenerationRequested
            | Event::StoryApproved { .. }
            | Event::ScenesDrafted { .. }
            | Event::ScenesCritiqued { .. }
            | Event::ScenesCohered { .. }
            | Event::ScenesFeedback { .. }
            | Event::ScenesRegenerationRequested
            | Event::ScenesApproved { .. }
            | Event::SceneEdited { .. }
            | Event::SceneAdded { .. }
            | Event::SceneRemoved { .. }
            | Event::SceneMoved { .. }
            | Event::LookSet { .. }
            | Event::BudgetSet { .. }
            | Event::CandidatePicked { by: crate::domain::Approver::User, .. }
    )
}

/// `text` with every `from` (any case) replaced by `to`.
fn replace_ci(text: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return text.to_string();
    }
    let (lower, needle) = (text.to_lowercase(), from.to_lowercase());
    if lower.len() != text.len() {
        return text.replace(from, to);
    }
    let mut out = String::new();
    let mut rest = 0;
    while let Some(i) = lower[rest..].find(&needle) {
        out.push_str(&text[rest..rest + i]);
        out.push_str(to);
        rest += i + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

impl Pipeline {
    /// The matrix the parent's brief asks for, with the framework's other hooks and CTAs.
    pub fn variant_matrix(&self, parent: &SessionState) -> Result<Vec<Variant>, PipelineError> {
        let b = parent.brief();
        let Some(spec) = &b.variants else { return Ok(vec![]) };
        let axes = VariantAxes::parse(spec).map_err(PipelineError::BadInput)?;
        let fw = self.resources.framework(b.framework).map_err(|e| PipelineError::BadInput(e.to_string()))?;
        let vars = json!({ "product": b.product_name, "audience": b.audience, "cta": b.call_to_action, "tone": b.tone });
        let fill = |t: &str| render_template(t, &vars).map_err(|e| PipelineError::BadInput(format!("framework {} hook \"{t}\": {e}", fw.id)));
        let own = parent.scenes.first().map(|s| s.on_screen_text.to_lowercase()).unwrap_or_default();
        let hooks: Vec<HookLine> = fw
            .hooks
            .iter()
            .map(|h| Ok(HookLine { on_screen: fill(&h.on_screen)?, voiceover: fill(&h.voiceover)? }))
            .collect::<Result<Vec<_>, PipelineError>>()?
            .into_iter()
            .filter(|h| h.on_screen.to_lowercase() != own)
            .collect();
        variant_matrix(&axes, &b.call_to_action, b.aspect, &hooks, &fw.ctas).map_err(PipelineError::BadInput)
    }

    /// A child session for variant `v` of `parent`: its brief (CTA, canvas, no animatic —
    /// the parent's timing was approved), the parent's decisions, then the variant's edits.
    async fn fork_variant(&self, parent: &SessionState, v: &Variant) -> Result<String, PipelineError> {
        let mut brief = parent.brief().clone();
        let old_cta = brief.call_to_action.clone();
        brief.call_to_action = v.cta.clone();
        brief.aspect = v.aspect;
        brief.animatic = Some(false);
        brief.variants = None;
        brief.batch = None;
        brief.variant_of = Some(VariantTag { parent: parent.id.clone(), variant: v.clone() });
        let id = self.create_session(brief).await?;
        let rec = Recorder::new(self.store.clone(), self.load(&id).await?, self.tx.clone());
        for e in self.store.events(&parent.id)? {
            if is_decision(&e.event) {
                rec.record(e.event).await?;
            }
        }
        let child = rec.state().await;
        if let (Some(h), Some(first)) = (&v.hook, child.scenes.first()) {
            let patch = ScenePatch { on_screen_text: Some(h.on_screen.clone()), voiceover: Some(h.voiceover.clone()), ..Default::default() };
            rec.record(Event::SceneEdited { scene_id: first.id, patch }).await?;
        }
        if !v.cta.eq_ignore_ascii_case(&old_cta) {
            if let Some(last) = child.scenes.last() {
                let patch = ScenePatch {
                    on_screen_text: Some(replace_ci(&last.on_screen_text, &old_cta, &v.cta)).filter(|t| *t != last.on_screen_text),
                    voiceover: Some(replace_ci(&last.voiceover, old_cta.trim_end_matches('.'), v.cta.trim_end_matches('.'))).filter(|t| *t != last.voiceover),
                    ..Default::default()
                };
                if patch.on_screen_text.is_some() || patch.voiceover.is_some() {
                    rec.record(Event::SceneEdited { scene_id: last.id, patch }).await?;
                }
            }
        }
        Ok(id)
    }

    /// Make every variant of the finished advert `parent` into `out` (`final-ID.mp4`,
    /// `variants.csv`, `variants.json`): a variant made before is resumed, not made again.
    /// `each` hears every row as it is done.
    pub async fn make_variants(&self, parent: &str, out: &Path, mut each: impl FnMut(&VariantRow)) -> Result<Vec<VariantRow>, PipelineError> {
        let parent_state = self.load(parent).await?;
        let matrix = self.variant_matrix(&parent_state)?;
        if matrix.is_empty() {
            return Ok(vec![]);
        }
        std::fs::create_dir_all(out).map_err(|e| PipelineError::BadInput(format!("output dir {}: {e}", out.display())))?;
        let mut made: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for s in self.store.sessions()? {
            if let Some(t) = s.state.ok().and_then(|st| st.brief.and_then(|b| b.variant_of)).filter(|t| t.parent == parent) {
                made.entry(t.variant.id).or_insert(s.id);
            }
        }
        let mut rows = Vec::new();
        for v in &matrix {
            let session = match made.get(&v.id) {
                Some(id) => id.clone(),
                None => self.fork_variant(&parent_state, v).await?,
            };
            let result = self.run(&session, &mut AutoDecider { retry_failed: true }, None).await;
            let state = self.load(&session).await?;
            let mut row = VariantRow {
                variant: v.id.clone(),
                file: String::new(),
                hook: state.scenes.first().map(|s| s.on_screen_text.clone()).unwrap_or_default(),
                cta: v.cta.clone(),
                aspect: v.aspect.id().to_string(),
                duration_s: state.final_video.as_ref().map(|f| (f.duration_s * 100.0).round() / 100.0),
                cost_usd: state.total_cost(),
                quality: state.scores.get(&ScoreTarget::Final).and_then(|r| r.score.quality()).map(|q| (q * 10.0).round() / 10.0),
                status: String::new(),
                session: session.clone(),
                clips_rendered: self.store.events(&session)?.iter().filter(|e| matches!(&e.event, Event::ClipRendered { clip } if !clip.cached)).count(),
            };
            row.status = match result {
                Ok(RunOutcome::Done { final_path, .. }) => {
                    let dest = out.join(format!("final-{}.mp4", v.id));
                    super::outputs::place_final(&final_path, &dest)?;
                    row.file = dest.display().to_string();
                    "done".into()
                }
                Ok(RunOutcome::Paused { gate, .. }) => format!("paused: {gate:?}"),
                Err(PipelineError::Cancelled(_)) => {
                    row.status = "stopped".into();
                    each(&row);
                    rows.push(row);
                    break;
                }
                Err(e) => format!("failed: {e}"),
            };
            each(&row);
            rows.push(row);
        }
        write_variant_files(&parent_state, &rows, out)?;
        Ok(rows)
    }
}

/// `variants.csv` (for an ad manager: file, hook, CTA, aspect, duration, cost) and
/// `variants.json` (what each variant changed from the advert).
fn write_variant_files(parent: &SessionState, rows: &[VariantRow], out: &Path) -> Result<(), PipelineError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| PipelineError::Internal(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| PipelineError::Internal(e.to_string()))?;
    super::outputs::write_atomic(&out.join("variants.csv"), &bytes)?;
    let b = parent.brief();
    let own_hook = parent.scenes.first().map(|s| s.on_screen_text.clone()).unwrap_or_default();
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut differs = serde_json::Map::new();
            if r.hook != own_hook {
                differs.insert("hook".into(), json!({ "from": own_hook, "to": r.hook }));
            }
            if r.cta != b.call_to_action {
                differs.insert("cta".into(), json!({ "from": b.call_to_action, "to": r.cta }));
            }
            if r.aspect != b.aspect.id() {
                differs.insert("aspect".into(), json!({ "from": b.aspect.id(), "to": r.aspect }));
            }
            json!({ "variant": r.variant, "file": r.file, "session": r.session, "status": r.status, "differs": differs,
                    "clips_rendered": r.clips_rendered, "duration_s": r.duration_s, "cost_usd": r.cost_usd, "quality": r.quality })
        })
        .collect();
    let doc = json!({ "parent": parent.id, "variants": list });
    super::outputs::write_atomic(&out.join("variants.json"), serde_json::to_string_pretty(&doc).unwrap_or_default().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::replace_ci;

    #[test]
    fn the_cta_is_replaced_whatever_its_case() {
        assert_eq!(replace_ci("Shop now: 20% off", "shop now", "Get yours"), "Get yours: 20% off");
        assert_eq!(replace_ci("AirRun. Shop now.", "Shop now", "Order now"), "AirRun. Order now.");
        assert_eq!(replace_ci("nothing here", "Shop now", "x"), "nothing here");
    }
}
