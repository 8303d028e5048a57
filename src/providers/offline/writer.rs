//! The offline director and scene writer: stories and scenes from `templates/`, filled
//! from the brief. Deterministic for a given brief, seed and variation.

use async_trait::async_trait;
use serde_json::Value;

use super::critic::{scene_problems, story_problems, ON_SCREEN_MAX};
use super::words::brief_vars;
use crate::domain::palette_words;
use crate::config::{render_template, FrameworkSpec};
use crate::domain::{shorten_line, word_budget, word_count, Beat, Brief, CameraMove, ConsistencyContext, Rng, Scene, Story, TransitionStyle};
use crate::providers::{ProviderError, SceneInput, SceneWriter, StoryDirector, StoryInput};

#[derive(Debug, Default, Clone)]
pub struct TemplateWriter;

fn fill(text: &str, vars: &Value) -> Result<String, ProviderError> {
    render_template(text, vars).map_err(|e| ProviderError::Config(format!("template text '{text}': {e}")))
}

/// Tone words the offline writers understand in feedback.
const TONES: [&str; 14] = [
    "dramatic", "energetic", "calm", "playful", "luxurious", "funny", "bold", "minimal",
    "warm", "emotional", "epic", "premium", "fun", "edgy",
];

fn feedback_tone(feedback: &str) -> Option<&'static str> {
    let l = feedback.to_lowercase();
    TONES.iter().copied().find(|t| l.contains(t))
}

fn seed_of(brief: &Brief, salt: u64) -> Rng {
    Rng::from_text(&format!("{}|{}|{}", brief.prompt, brief.product_name, brief.seed), salt)
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn truncate_words(s: &str, n: usize) -> String {
    let w: Vec<&str> = s.split_whitespace().collect();
    if w.len() <= n {
        return s.to_string();
    }
    format!("{}…", w[..n].join(" ").trim_end_matches([',', '.', ':']))
}

/// Shorten to at most `max` characters on a word boundary.
pub fn clip_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for w in s.split_whitespace() {
        if out.chars().count() + w.chars().count() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        out = s.chars().take(max).collect();
    }
    out
}

impl TemplateWriter {
    fn story_from_templates(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError> {
        let mut brief = input.brief.clone();
        if let Some(t) = input.feedback.and_then(feedback_tone) {
            brief.tone = t.to_string();
        }
        let vars = brief_vars(&brief, &Default::default());
        let mut rng = seed_of(&brief, input.variation * 7919 + input.feedback.map_or(0, |f| f.len() as u64));
        let short = input.feedback.is_some_and(|f| f.to_lowercase().contains("short"));
        let mut beats = Vec::new();
        for stage in &input.framework.stages {
            let text = if short {
                stage.beats.iter().min_by_key(|b| b.len()).cloned().unwrap_or_default()
            } else {
                rng.pick::<String>(&stage.beats).clone()
            };
            beats.push(Beat { stage: stage.name.clone(), text: fill(&text, &vars)? });
        }
        Ok(Story {
            title: format!("{} — {} {}", brief.product_name.trim(), input.framework.name, input.template.name),
            framework: brief.framework,
            template: input.template.id.clone(),
            logline: fill(rng.pick::<String>(&input.template.loglines), &vars)?,
            beats,
            revision: input.revision,
        })
    }
}

/// Apply the story rules the critic checks: product named early, the call to action at
/// the end, beats short enough to speak.
fn fix_story(mut story: Story, brief: &Brief, framework: &FrameworkSpec) -> Story {
    let product = brief.product_name.trim();
    let cta = brief.call_to_action.trim().trim_end_matches('.');
    if story.beats.len() != framework.stages.len() {
        story.beats.truncate(framework.stages.len());
    }
    for b in story.beats.iter_mut() {
        if words(&b.text) > 30 {
            b.text = truncate_words(&b.text, 28);
        }
    }
    if let Some(first) = story.beats.first_mut() {
        if !product.is_empty() && !first.text.to_lowercase().contains(&product.to_lowercase()) {
            first.text = format!("{product}: {}", first.text);
        }
    }
    if let Some(last) = story.beats.last_mut() {
        if !cta.is_empty() && !last.text.to_lowercase().contains(&cta.to_lowercase()) {
            last.text = format!("{} {cta}.", last.text.trim_end());
        }
    }
    story
}

#[async_trait]
impl StoryDirector for TemplateWriter {
    fn id(&self) -> String {
        "offline/template-director".into()
    }

    async fn draft(&self, input: &StoryInput<'_>) -> Result<Story, ProviderError> {
        let mut story = match (input.previous, input.critique, input.feedback) {
            // Refining against the critic keeps the draft and mends what was criticised.
            (Some(prev), Some(_), None) => Story { revision: input.revision, ..prev.clone() },
            _ => self.story_from_templates(input)?,
        };
        if input.critique.is_some() || !story_problems(input.brief, input.framework, &story).is_empty() {
            story = fix_story(story, input.brief, input.framework);
        }
        Ok(story)
    }
}

/// How many scenes a duration gets: about one per 5 seconds, at least one per stage.
fn scene_count(duration: f64, stages: usize) -> usize {
    let n = (duration / 5.0).round() as usize;
    n.clamp(stages.min((duration / 1.5) as usize).max(1), 12)
}

/// Split `total` seconds over weights in 0.5 s steps, every part at least 1 s, summing exactly.
pub fn allocate_durations(total: f64, weights: &[f64]) -> Vec<f64> {
    let steps = (total * 2.0).round() as i64;
    let n = weights.len() as i64;
    if n == 0 {
        return vec![];
    }
    let min_steps = 2.min(steps / n).max(1);
    let wsum: f64 = weights.iter().sum::<f64>().max(1e-9);
    let mut parts: Vec<i64> = weights.iter().map(|w| ((w / wsum) * steps as f64).floor() as i64).map(|p| p.max(min_steps)).collect();
    let mut diff = steps - parts.iter().sum::<i64>();
    let mut i = 0usize;
    while diff != 0 && i < 10_000 {
        let k = i % parts.len();
        if diff > 0 {
            parts[k] += 1;
            diff -= 1;
        } else if parts[k] > min_steps {
            parts[k] -= 1;
            diff += 1;
        }
        i += 1;
    }
    parts.into_iter().map(|p| p as f64 / 2.0).collect()
}

/// What a piece of scene feedback asks for, as concrete changes.
fn apply_scene_feedback(scene: &mut Scene, feedback: &str, palette: &str) {
    let l = feedback.to_lowercase();
    let mut touched = false;
    if l.contains("dramatic") || l.contains("intense") || l.contains("epic") {
        scene.camera = CameraMove::Dolly;
        scene.motion_intensity = (scene.motion_intensity + 0.3).min(1.0);
        scene.shot_type = "low-angle hero".into();
        scene.description = format!("Dramatic, high-contrast {palette} lighting: {}", scene.description);
        touched = true;
    }
    if l.contains("energ") || l.contains("faster") || l.contains("dynamic") {
        scene.motion_intensity = (scene.motion_intensity + 0.3).min(1.0);
        scene.camera = if scene.camera == CameraMove::PanRight { CameraMove::PanLeft } else { CameraMove::PanRight };
        touched = true;
    }
    if l.contains("calm") || l.contains("slower") || l.contains("gentle") {
        scene.motion_intensity = (scene.motion_intensity - 0.3).max(0.05);
        scene.camera = CameraMove::ZoomIn;
        touched = true;
    }
    if l.contains("close") {
        scene.shot_type = "close-up".into();
        scene.camera = CameraMove::ZoomIn;
        touched = true;
    }
    if l.contains("wide") {
        scene.shot_type = "wide".into();
        scene.camera = CameraMove::ZoomOut;
        touched = true;
    }
    if l.contains("shorter") {
        scene.duration_s = (scene.duration_s - 1.0).max(1.5);
        touched = true;
    }
    if l.contains("longer") {
        scene.duration_s = (scene.duration_s + 1.0).min(10.0);
        touched = true;
    }
    if !touched {
        scene.description = format!("{} — {}", scene.description.trim_end_matches('.'), feedback.trim());
    }
}

/// A new take on one scene: the template's next shot (framing, camera, description);
/// timing and the words on screen stay.
fn new_take(scene: &mut Scene, template: &crate::config::AdTemplate, vars: &Value) -> Result<(), ProviderError> {
    let shots = &template.shots;
    let current = shots.iter().position(|s| s.shot_type == scene.shot_type && s.camera == scene.camera);
    let next = &shots[current.map_or(scene.id as usize, |i| i + 1) % shots.len()];
    scene.shot_type = next.shot_type.clone();
    scene.camera = if next.camera == scene.camera { CameraMove::ALL[(CameraMove::ALL.iter().position(|c| *c == scene.camera).unwrap_or(0) + 1) % CameraMove::ALL.len()] } else { next.camera };
    scene.motion_intensity = next.motion;
    scene.description = fill(&next.description, vars)?;
    Ok(())
}

/// Apply the scene rules the critic checks.
/// The voiceover of the `j`-th scene of a stage: the stage's lines in turn from `first`
/// (none once each was said), the first that fits `budget` words preferred, else cut.
fn voice_line(lines: &[String], j: usize, first: usize, vars: &Value, budget: usize) -> Result<String, ProviderError> {
    if j >= lines.len() {
        return Ok(String::new());
    }
    let filled = (0..lines.len()).map(|k| fill(&lines[(first + j + k) % lines.len()], vars)).collect::<Result<Vec<_>, _>>()?;
    Ok(match filled.iter().find(|l| word_count(l) <= budget) {
        Some(l) if word_count(&filled[0]) > budget => l.clone(),
        _ => shorten_line(&filled[0], budget),
    })
}

fn fix_scenes(mut scenes: Vec<Scene>, brief: &Brief, scenes_s: f64) -> Vec<Scene> {
    for s in scenes.iter_mut() {
        s.duration_s = s.duration_s.clamp(1.5, 8.0);
        if s.on_screen_text.chars().count() > ON_SCREEN_MAX {
            s.on_screen_text = clip_chars(&s.on_screen_text, ON_SCREEN_MAX);
        }
    }
    let target = (scenes_s * 2.0).round() / 2.0;
    let sum: f64 = scenes.iter().map(|s| s.duration_s).sum();
    if (sum - target).abs() > 0.25 && !scenes.is_empty() {
        let weights: Vec<f64> = scenes.iter().map(|s| s.duration_s).collect();
        for (s, d) in scenes.iter_mut().zip(allocate_durations(target, &weights)) {
            s.duration_s = d;
        }
    }
    for i in 2..scenes.len() {
        if scenes[i].camera == scenes[i - 1].camera && scenes[i - 1].camera == scenes[i - 2].camera {
            let alternatives = [CameraMove::ZoomIn, CameraMove::PanRight, CameraMove::Dolly, CameraMove::PanLeft];
            scenes[i].camera = *alternatives.iter().find(|c| **c != scenes[i - 1].camera).unwrap_or(&CameraMove::ZoomOut);
        }
    }
    for s in scenes.iter_mut() {
        s.voiceover = shorten_line(&s.voiceover, word_budget(s.duration_s, brief.wps()));
    }
    let cta = clip_chars(brief.call_to_action.trim(), ON_SCREEN_MAX);
    if let Some(last) = scenes.last_mut() {
        if !cta.is_empty() && !last.on_screen_text.to_lowercase().contains(&cta.to_lowercase()) {
            last.on_screen_text = cta;
        }
    }
    let product = brief.product_name.trim();
    if !product.is_empty() && !scenes.iter().take(2).any(|s| s.description.to_lowercase().contains(&product.to_lowercase())) {
        if let Some(first) = scenes.first_mut() {
            first.description = format!("{product} in frame: {}", first.description);
        }
    }
    scenes
}

#[async_trait]
impl SceneWriter for TemplateWriter {
    fn id(&self) -> String {
        "offline/template-writer".into()
    }

    async fn write(&self, input: &SceneInput<'_>) -> Result<Vec<Scene>, ProviderError> {
        let palette = palette_words(&input.context.palette);
        // Feedback on existing scenes changes those scenes; it does not start over.
        if let (Some(prev), Some((target, text))) = (input.previous, input.feedback) {
            let mut scenes = prev.to_vec();
            let regenerate = text.to_lowercase().contains("regenerate");
            let vars = brief_vars(input.brief, input.context);
            for s in scenes.iter_mut().filter(|s| target.is_none_or(|t| t == s.id)) {
                if regenerate {
                    new_take(s, input.template, &vars)?;
                } else {
                    apply_scene_feedback(s, text, &palette);
                }
            }
            return Ok(fix_scenes(scenes, input.brief, input.scenes_s));
        }
        if let (Some(prev), Some(_)) = (input.previous, input.critique) {
            return Ok(fix_scenes(prev.to_vec(), input.brief, input.scenes_s));
        }
        let mut vars = brief_vars(input.brief, input.context);
        vars["style"] = Value::String(if input.context.style.is_empty() {
            input.template.style.clone()
        } else {
            format!("{}, {}", input.template.style, input.context.style)
        });
        let mut rng = seed_of(input.brief, 31 + input.variation * 104_729);
        let fw = input.framework;
        let n = scene_count(input.scenes_s, fw.stages.len());
        // Scenes per stage: one each, then extra ones to the stages with the most time per scene.
        let mut per_stage = vec![1usize; fw.stages.len()];
        while per_stage.iter().sum::<usize>() < n {
            let k = (0..fw.stages.len())
                .max_by(|&a, &b| (fw.stages[a].share / per_stage[a] as f64).total_cmp(&(fw.stages[b].share / per_stage[b] as f64)))
                .unwrap_or(0);
            per_stage[k] += 1;
        }
        let mut plan = Vec::new();
        for (k, stage) in fw.stages.iter().enumerate() {
            for j in 0..per_stage[k] {
                plan.push((k, j, stage.share / per_stage[k] as f64));
            }
        }
        plan.truncate(n.max(1));
        let durations = allocate_durations(input.scenes_s, &plan.iter().map(|p| p.2).collect::<Vec<_>>());
        let offset = rng.below(input.template.shots.len());
        // Each stage says its lines in turn from one place, so no two of its scenes repeat.
        let first_line: Vec<usize> = fw.stages.iter().map(|st| rng.below(st.voiceover.len().max(1))).collect();
        let style = TransitionStyle::for_tone(input.template.tone_for(input.brief));
        let mut scenes = Vec::new();
        for (i, ((k, j, _), d)) in plan.iter().zip(durations).enumerate() {
            let stage = &fw.stages[*k];
            let last = i + 1 == plan.len();
            let shot = if last {
                input.template.shots.last().unwrap_or(&input.template.shots[0])
            } else {
                &input.template.shots[(offset + i) % input.template.shots.len()]
            };
            let on_screen = if *j == 0 || last { fill(rng.pick::<String>(&stage.on_screen), &vars)? } else { String::new() };
            let voiceover = voice_line(&stage.voiceover, *j, first_line[*k], &vars, word_budget(d, input.brief.wps()))?;
            let beat = input.story.beats.get(*k).map(|b| b.text.as_str()).unwrap_or("");
            let description = format!("{} ({})", fill(&shot.description, &vars)?, truncate_words(beat, 14).trim_end_matches('.'));
            scenes.push(Scene {
                id: input.first_id + i as u32,
                description,
                duration_s: d,
                shot_type: shot.shot_type.clone(),
                camera: shot.camera,
                motion_intensity: shot.motion,
                on_screen_text: on_screen,
                voiceover,
                transition: match (i, *j) {
                    (0, _) => style.opening,
                    (_, 0) => style.new_stage,
                    _ => style.within_stage,
                },
            });
        }
        let mut scenes = fix_scenes(scenes, input.brief, input.scenes_s);
        // The template's transitions, paced to the lengths the scenes ended with.
        for i in 0..scenes.len() {
            let before = i.checked_sub(1).map(|p| scenes[p].duration_s);
            scenes[i].transition = scenes[i].transition.paced(before, scenes[i].duration_s);
        }
        debug_assert!(scene_problems(input.brief, input.scenes_s, &scenes).iter().all(|p| p.severity < 2.0));
        Ok(scenes)
    }

    async fn cohere(&self, brief: &Brief, context: &ConsistencyContext, scenes: &[Scene]) -> Result<(Vec<Scene>, Vec<String>), ProviderError> {
        let mut out = scenes.to_vec();
        let mut notes = Vec::new();
        let product = brief.product_name.trim();
        let palette = palette_words(&context.palette);
        for (i, s) in out.iter_mut().enumerate() {
            // One spelling of the product name everywhere.
            if !product.is_empty() {
                for field in [&mut s.description, &mut s.on_screen_text, &mut s.voiceover] {
                    let lower = field.to_lowercase();
                    let pl = product.to_lowercase();
                    if lower.contains(&pl) && !field.contains(product) {
                        let mut fixed = String::new();
                        let mut rest = field.as_str();
                        while let Some(p) = rest.to_lowercase().find(&pl) {
                            fixed.push_str(&rest[..p]);
                            fixed.push_str(product);
                            rest = &rest[p + pl.len()..];
                        }
                        fixed.push_str(rest);
                        *field = fixed;
                        notes.push(format!("scene {}: product name spelled as '{product}'", i + 1));
                    }
                }
            }
            // Every scene carries the brand palette so keyframes share one look.
            if !context.palette.is_empty() && !s.description.contains(&palette) {
                s.description = format!("{}; {palette} palette", s.description.trim_end_matches('.'));
                notes.push(format!("scene {}: added the {palette} palette", i + 1));
            }
        }
        Ok((out, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn durations_sum_exactly_in_half_seconds() {
        for total in [6.0, 15.0, 30.0, 7.5, 61.0] {
            let d = allocate_durations(total, &[0.2, 0.3, 0.3, 0.2]);
            assert!((d.iter().sum::<f64>() - total).abs() < 1e-9, "{total}: {d:?}");
            assert!(d.iter().all(|x| *x >= 1.0 && (x * 2.0).fract() == 0.0), "{d:?}");
        }
        assert_eq!(scene_count(30.0, 4), 6);
        assert_eq!(scene_count(6.0, 4), 4);
        assert_eq!(scene_count(3.0, 4), 2);
    }
}
