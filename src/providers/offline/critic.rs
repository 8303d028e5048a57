//! The offline critic: a rubric with named checks. The score is 10 minus the weight of
//! every failed check, and the reasons say which checks passed and which failed.

use async_trait::async_trait;

use crate::config::FrameworkSpec;
use crate::domain::{word_budget, word_count, Brief, Critique, Scene, Story};
use crate::providers::{Critic, ProviderError};

pub const ON_SCREEN_MAX: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub severity: f64,
    pub reason: String,
    pub suggestion: String,
}

fn problem(severity: f64, reason: String, suggestion: String) -> Problem {
    Problem { severity, reason, suggestion }
}

fn mentions(text: &str, needle: &str) -> bool {
    !needle.trim().is_empty() && text.to_lowercase().contains(&needle.trim().trim_end_matches('.').to_lowercase())
}

pub fn story_problems(brief: &Brief, fw: &FrameworkSpec, story: &Story) -> Vec<Problem> {
    let mut p = Vec::new();
    if story.beats.len() != fw.stages.len() {
        p.push(problem(3.0, format!("{} beats for the {} stages of {}", story.beats.len(), fw.stages.len(), fw.name), format!("tell exactly one beat per {} stage", fw.name)));
    }
    for (b, s) in story.beats.iter().zip(&fw.stages) {
        if !b.stage.eq_ignore_ascii_case(&s.name) {
            p.push(problem(1.0, format!("beat '{}' stands where {} should", b.stage, s.name), format!("follow the {} order", fw.name)));
        }
    }
    match story.beats.first() {
        Some(b) if !mentions(&b.text, &brief.product_name) => p.push(problem(2.0, "the product is not named in the first beat".into(), format!("name {} in the opening", brief.product_name))),
        _ => {}
    }
    match story.beats.last() {
        Some(b) if !mentions(&b.text, &brief.call_to_action) => p.push(problem(2.5, "the story does not end on the call to action".into(), format!("end with \"{}\"", brief.call_to_action))),
        _ => {}
    }
    for (i, b) in story.beats.iter().enumerate() {
        let n = b.text.split_whitespace().count();
        if n > 30 {
            p.push(problem(1.0, format!("beat {} has {n} words, too long to speak in time", i + 1), format!("cut beat {} under 30 words", i + 1)));
        }
        if n < 3 {
            p.push(problem(1.0, format!("beat {} is too thin ({n} words)", i + 1), format!("give beat {} a concrete image", i + 1)));
        }
    }
    if story.logline.trim().is_empty() {
        p.push(problem(0.5, "no logline".into(), "add a one-sentence logline".into()));
    }
    p
}

pub fn scene_problems(brief: &Brief, scenes_s: f64, scenes: &[Scene]) -> Vec<Problem> {
    let mut p = Vec::new();
    if scenes.is_empty() {
        p.push(problem(10.0, "there are no scenes".into(), "write the scenes".into()));
        return p;
    }
    let sum: f64 = scenes.iter().map(|s| s.duration_s).sum();
    if (sum - scenes_s).abs() > 0.5 {
        p.push(problem(2.0, format!("scenes last {sum:.1}s, the cut has {scenes_s:.1}s for them"), "rebalance the durations".into()));
    }
    for (i, s) in scenes.iter().enumerate() {
        if !(1.5..=8.0).contains(&s.duration_s) {
            p.push(problem(1.0, format!("scene {} lasts {:.1}s (keep 1.5–8s)", i + 1, s.duration_s), format!("retime scene {}", i + 1)));
        }
        if s.on_screen_text.chars().count() > ON_SCREEN_MAX {
            p.push(problem(1.0, format!("scene {} text is {} characters, hard to read", i + 1, s.on_screen_text.chars().count()), format!("shorten scene {} text to {ON_SCREEN_MAX} characters", i + 1)));
        }
        let (words, budget) = (word_count(&s.voiceover), word_budget(s.duration_s, brief.wps()));
        if words > budget {
            p.push(problem(
                1.0,
                format!("scene {} voiceover is {words} words; at {:.1} words a second its {:.1}s hold {budget}", i + 1, brief.wps(), s.duration_s),
                format!("shorten scene {} voiceover to {budget} words", i + 1),
            ));
        }
        if s.description.split_whitespace().count() < 4 {
            p.push(problem(0.5, format!("scene {} description is too vague", i + 1), format!("describe scene {} concretely", i + 1)));
        }
    }
    for i in 2..scenes.len() {
        if scenes[i].camera == scenes[i - 1].camera && scenes[i].camera == scenes[i - 2].camera {
            p.push(problem(1.0, format!("scenes {}–{} all use {}", i - 1, i + 1, scenes[i].camera), "vary the camera moves".into()));
        }
    }
    if !scenes.iter().take(2).any(|s| mentions(&s.description, &brief.product_name)) {
        p.push(problem(1.5, "the product does not appear in the first two scenes".into(), "show the product early".into()));
    }
    if let Some(last) = scenes.last() {
        if !mentions(&last.on_screen_text, &brief.call_to_action) && !mentions(&last.voiceover, &brief.call_to_action) {
            p.push(problem(2.0, "the last scene does not carry the call to action".into(), format!("put \"{}\" on the last scene", brief.call_to_action)));
        }
    }
    p
}

fn verdict(problems: Vec<Problem>, praise: &[&str]) -> Critique {
    let score = (10.0 - problems.iter().map(|p| p.severity).sum::<f64>()).clamp(0.0, 10.0);
    let mut reasons: Vec<String> = problems.iter().map(|p| p.reason.clone()).collect();
    if reasons.is_empty() {
        reasons = praise.iter().map(|s| s.to_string()).collect();
    }
    Critique { score: (score * 10.0).round() / 10.0, reasons, suggestions: problems.into_iter().map(|p| p.suggestion).collect() }
}

#[derive(Debug, Default, Clone)]
pub struct RubricCritic;

#[async_trait]
impl Critic for RubricCritic {
    fn id(&self) -> String {
        "offline/rubric-critic".into()
    }

    async fn story(&self, brief: &Brief, fw: &FrameworkSpec, story: &Story) -> Result<Critique, ProviderError> {
        Ok(verdict(
            story_problems(brief, fw, story),
            &["one beat per framework stage, in order", "the product is named in the opening", "ends on the call to action", "every beat is short enough to speak"],
        ))
    }

    async fn scenes(&self, brief: &Brief, scenes_s: f64, scenes: &[Scene]) -> Result<Critique, ProviderError> {
        Ok(verdict(
            scene_problems(brief, scenes_s, scenes),
            &["durations add up to the target", "on-screen text is short and readable", "camera moves are varied", "the product appears early and the call to action closes"],
        ))
    }
}
