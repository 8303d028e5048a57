//! Story and scene tasks: director, critic, writer, cohesion.

use std::future::Future;
use std::sync::Arc;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::json;

use super::super::keys::key_of;
use super::super::{Pipeline, PipelineError, Recorder};
use crate::domain::{ConsistencyContext, Event, Scene, SessionState};
use crate::providers::attribution::attributed;
use crate::providers::{ProviderError, SceneInput, StoryInput};

/// A writing result as cached: the value and the model that really made it.
#[derive(Serialize, Deserialize)]
struct Authored<T> {
    value: T,
    by: String,
}

/// Reuse a writing result by content key, or make and remember it. Returns the value and
/// the model that made it. A result a fallback made (the chain's first choice failed) is
/// said in a note and not cached: the next run asks the first choice again.
async fn cached<T, F>(p: &Pipeline, rec: &Recorder, kind: &str, chain: String, key_input: serde_json::Value, make: F) -> Result<(T, String), PipelineError>
where
    T: Serialize + DeserializeOwned,
    F: Future<Output = Result<T, ProviderError>>,
{
    let key = key_of(kind, &key_input);
    if let Some(a) = p.store.cache_get::<Authored<T>>(&key)? {
        rec.note(format!("{kind}: reused a cached result (by {})", a.by));
        return Ok((a.value, a.by));
    }
    let (v, answered) = attributed(make).await;
    let v = v.map_err(|e| PipelineError::provider(kind, e))?;
    let by = answered.model(|| chain);
    if let Some(note) = answered.fallback_note(kind, "written") {
        tracing::warn!(kind, by, "written by a fallback");
        rec.note(note);
    } else {
        p.store.cache_put(&key, &Authored { value: &v, by: by.clone() })?;
    }
    Ok((v, by))
}

pub async fn draft_story(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let brief = st.brief();
    let fw = p.resources.framework(brief.framework)?;
    let tpl = p.resources.ad_template(&brief.template)?;
    let feedback = st.story_feedback.as_deref();
    let regenerate = st.story_regenerate;
    let prev = st.story.as_ref();
    let refining = prev.is_some() && feedback.is_none() && !regenerate;
    let critique = if refining { prev.and_then(|s| st.story_critiques.get(&s.revision)) } else { None };
    let revision = prev.map_or(1, |s| s.revision + 1);
    let input = StoryInput {
        brief,
        framework: &fw,
        template: &tpl,
        previous: if regenerate { None } else { prev },
        critique,
        feedback,
        revision,
        variation: if regenerate { revision as u64 } else { 0 },
    };
    let director = p.providers.director.clone();
    let (story, by) = cached(
        p,
        rec,
        "story",
        director.id(),
        json!({ "brief": brief, "framework": fw, "template": tpl, "previous": input.previous, "critique": critique,
                "feedback": feedback, "revision": revision, "variation": input.variation, "provider": director.id() }),
        director.draft(&input),
    )
    .await?;
    rec.record(Event::StoryDrafted { story, provider: by }).await?;
    Ok(())
}

pub async fn critique_story(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let brief = st.brief();
    let story = st.story.as_ref().ok_or_else(|| PipelineError::Internal("no story to critique".into()))?;
    let fw = p.resources.framework(brief.framework)?;
    let critic = p.providers.critic.clone();
    let (critique, by) = cached(p, rec, "story-critique", critic.id(), json!({ "brief": brief, "story": story, "provider": critic.id() }), critic.story(brief, &fw, story)).await?;
    rec.record(Event::StoryCritiqued { revision: story.revision, critique, provider: by }).await?;
    Ok(())
}

pub async fn write_scenes(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let brief = st.brief();
    let story = st.story.as_ref().ok_or_else(|| PipelineError::Internal("no story to write scenes from".into()))?;
    let fw = p.resources.framework(brief.framework)?;
    let tpl = p.resources.ad_template(&brief.template)?;
    let context = ConsistencyContext::from_references(st.references.values());
    let fresh = st.scenes.is_empty() || st.scenes_regenerate;
    let feedback = st.scenes_feedback.as_ref().map(|(id, t)| (*id, t.as_str()));
    let critique = if !fresh && feedback.is_none() { st.scenes_critiques.get(&st.scenes_revision) } else { None };
    let revision = st.scenes_revision + 1;
    let input = SceneInput {
        brief,
        framework: &fw,
        template: &tpl,
        story,
        scenes_s: st.scenes_target_s(),
        context: &context,
        previous: if fresh { None } else { Some(&st.scenes) },
        critique,
        feedback,
        variation: if st.scenes_regenerate { revision as u64 } else { 0 },
        first_id: if fresh { st.next_scene_id() } else { 1 },
    };
    let writer = p.providers.scene_writer.clone();
    let (scenes, by) = cached(
        p,
        rec,
        "scenes",
        writer.id(),
        json!({ "brief": brief, "story": story, "scenes_s": input.scenes_s, "context": context, "previous": input.previous, "critique": critique,
                "feedback": feedback, "variation": input.variation, "first_id": input.first_id, "provider": writer.id() }),
        writer.write(&input),
    )
    .await?;
    if scenes.is_empty() {
        return Err(PipelineError::provider("scenes", ProviderError::Protocol("the writer returned no scenes".into())));
    }
    // A transition named in the brief joins every scene, whatever the writer chose.
    let scenes = match brief.transition {
        Some(t) => scenes.into_iter().map(|s| Scene { transition: t, ..s }).collect(),
        None => scenes,
    };
    rec.record(Event::ScenesDrafted { scenes, revision, provider: by }).await?;
    Ok(())
}

pub async fn critique_scenes(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let brief = st.brief();
    let critic = p.providers.critic.clone();
    let (critique, by) = cached(p, rec, "scene-critique", critic.id(), json!({ "brief": brief, "scenes_s": st.scenes_target_s(), "scenes": st.scenes, "provider": critic.id() }), critic.scenes(brief, st.scenes_target_s(), &st.scenes)).await?;
    rec.record(Event::ScenesCritiqued { revision: st.scenes_revision, critique, provider: by }).await?;
    Ok(())
}

pub async fn cohere_scenes(p: &Pipeline, rec: &Arc<Recorder>, st: &SessionState) -> Result<(), PipelineError> {
    let brief = st.brief();
    let context = ConsistencyContext::from_references(st.references.values());
    let writer = p.providers.scene_writer.clone();
    let ((scenes, notes), by) = cached(
        p,
        rec,
        "cohesion",
        writer.id(),
        json!({ "brief": brief, "context": context, "scenes": st.scenes, "provider": writer.id() }),
        writer.cohere(brief, &context, &st.scenes),
    )
    .await?;
    rec.record(Event::ScenesCohered { revision: st.scenes_revision, notes, scenes, provider: by }).await?;
    Ok(())
}
