//! The LLM-backed roles against a scripted chat model: prompts from `prompts/` rendered
//! with the brief, JSON answers parsed, malformed answers repaired or reported.

mod common;

use std::sync::{Arc, Mutex};

use admint::config::Resources;
use admint::domain::*;
use admint::pipeline::intent::{Intent, IntentParser};
use admint::pipeline::*;
use admint::providers::llm::LlmRoles;
use admint::providers::*;
use async_trait::async_trait;
use common::*;

type Script = dyn Fn(&ChatRequest, usize) -> Result<String, ProviderError> + Send + Sync;

struct ScriptedChat {
    script: Box<Script>,
    seen: Mutex<Vec<ChatRequest>>,
}

#[async_trait]
impl ChatModel for ScriptedChat {
    fn id(&self) -> String {
        "scripted/chat".into()
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let n = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(req.clone());
            seen.len()
        };
        Ok(ChatResponse { text: (self.script)(req, n)?, ..Default::default() })
    }
}

/// Good answers for every prompt, recognised by their opening words.
fn good_answer(req: &ChatRequest) -> String {
    let u = &req.user;
    if u.starts_with("You are the creative director") {
        r#"```json
{"title": "Run Pink", "logline": "AirRun Pro turns every run into a parade.",
 "beats": [{"stage": "Attention", "text": "AirRun Pro flashes pink at dawn."},
           {"stage": "Interest", "text": "White laces, featherlight foam."},
           {"stage": "Desire", "text": "Every stride feels like flying."},
           {"stage": "Action", "text": "Shop now: 20% off."}]}
```"#
        .into()
    } else if u.starts_with("You are a strict advertising critic") || u.starts_with("You are a storyboard critic") {
        r#"{"score": 8.5, "reasons": ["clear hook", "ends on the offer"], "suggestions": []}"#.into()
    } else if u.starts_with("You are a storyboard writer") {
        r#"{"scenes": [
          {"description": "AirRun Pro on a pink track", "duration_s": 3, "shot_type": "wide", "camera": "zoom-in", "motion_intensity": 0.5, "on_screen_text": "Meet AirRun Pro", "voiceover": "Meet AirRun Pro."},
          {"description": "Close-up of white laces", "duration_s": 3, "shot_type": "macro", "camera": "pan left", "motion_intensity": 0.4, "on_screen_text": "", "voiceover": ""},
          {"description": "Runner sprinting in AirRun Pro", "duration_s": 2, "shot_type": "medium", "camera": "dolly", "motion_intensity": 0.7, "on_screen_text": "Shop now: 20% off", "voiceover": "Shop now."}]}"#
            .into()
    } else if u.starts_with("You keep an advert's scenes consistent") {
        r#"{"notes": ["unified the product name"], "scenes": [
          {"description": "AirRun Pro on a pink track, brand palette", "duration_s": 99, "camera": "static", "on_screen_text": "Meet AirRun Pro", "voiceover": "Meet AirRun Pro."},
          {"description": "Close-up of white laces, brand palette", "duration_s": 99, "camera": "static", "on_screen_text": "", "voiceover": ""},
          {"description": "Runner sprinting in AirRun Pro, brand palette", "duration_s": 99, "camera": "static", "on_screen_text": "Shop now: 20% off", "voiceover": "Shop now."}]}"#
            .into()
    } else {
        panic!("unexpected prompt: {}", &u[..u.len().min(80)])
    }
}

fn with_llm(h: &Harness, chat: Arc<ScriptedChat>) -> Pipeline {
    let resources = Resources::new(&h.paths.config_dir);
    let roles = LlmRoles { chat: chat.clone(), resources };
    h.pipeline_with(h.store(), move |ps| {
        ps.director = Arc::new(roles.clone());
        ps.critic = Arc::new(roles.clone());
        ps.scene_writer = Arc::new(roles);
        ps.chat = Some(chat);
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_roles_drive_a_whole_run_with_rendered_prompts_and_user_overrides() {
    let h = Harness::new();
    std::fs::create_dir_all(h.paths.config_dir.join("prompts")).unwrap();
    let custom = "You are the creative director. CUSTOM for {{ brief.product_name }} in {{ framework.name }}:{% for s in framework.stages %} {{ s.name }}{% endfor %}";
    std::fs::write(h.paths.config_dir.join("prompts/story_director.j2"), custom).unwrap();
    let chat = Arc::new(ScriptedChat { script: Box::new(|r, _| Ok(good_answer(r))), seen: Mutex::new(vec![]) });
    let p = with_llm(&h, chat.clone());
    let id = new_session(&p, brief_input("pink running shoes with white laces for Gen Z runners", 8.0)).await;
    let r = p.run(&id, &mut AutoDecider { retry_failed: false }, None).await.unwrap();
    assert!(matches!(r, RunOutcome::Done { .. }), "{r:?}");
    let s = p.load(&id).await.unwrap();
    assert_eq!(s.story.as_ref().unwrap().title, "Run Pink");
    assert_eq!(s.scenes.len(), 3);
    assert_eq!(s.scenes[1].camera, CameraMove::PanLeft, "camera aliases are understood");
    // Cohesion may change words, not timing or camera.
    assert_eq!(s.scenes[0].duration_s, 3.0);
    assert_eq!(s.scenes[0].camera, CameraMove::ZoomIn);
    assert!(s.scenes[0].description.ends_with("brand palette"));
    let seen = chat.seen.lock().unwrap();
    assert_eq!(seen[0].user, "You are the creative director. CUSTOM for AirRun Pro in AIDA: Attention Interest Desire Action");
    let writer = seen.iter().find(|r| r.user.starts_with("You are a storyboard writer")).unwrap();
    assert!(writer.user.contains("Run Pink") && writer.user.contains("palette: #"), "story and consistency context reach the writer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_repaired_once_then_reported_and_resumable() {
    let h = Harness::new();
    // The first director answer is broken; the repair request works.
    let chat = Arc::new(ScriptedChat {
        script: Box::new(|r, n| if n == 1 { Ok("{\"title\": \"Run\", \"beats\": [}".into()) } else { Ok(good_answer(r)) }),
        seen: Mutex::new(vec![]),
    });
    let p = with_llm(&h, chat.clone());
    let id = new_session(&p, brief_input("pink running shoes", 8.0)).await;
    let r = p.run(&id, &mut Scripted(vec![]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Story, .. }));
    let seen = chat.seen.lock().unwrap().clone();
    assert!(seen[1].user.contains("could not be used") && seen[1].user.contains("malformed JSON"));

    // Always broken: a clear error naming the prompt, recorded, and the session resumes later.
    let h2 = Harness::new();
    let bad = Arc::new(ScriptedChat { script: Box::new(|_, _| Ok("I'd love to help! Here's a story about shoes.".into())), seen: Mutex::new(vec![]) });
    let p2 = with_llm(&h2, bad);
    let id2 = new_session(&p2, brief_input("pink running shoes", 8.0)).await;
    let err = p2.run(&id2, &mut Scripted(vec![]), None).await.unwrap_err().to_string();
    assert!(err.contains("story_director") && err.contains("unusable JSON twice"), "{err}");
    let s = p2.load(&id2).await.unwrap();
    assert!(matches!(s.failure, Some((Stage::Story, _))));
    drop(p2);
    let good = Arc::new(ScriptedChat { script: Box::new(|r, _| Ok(good_answer(r))), seen: Mutex::new(vec![]) });
    let p3 = with_llm(&h2, good);
    let r = p3.run(&id2, &mut Scripted(vec![]), None).await.unwrap();
    assert!(matches!(r, RunOutcome::Paused { gate: Gate::Story, .. }), "{r:?}");
}

#[tokio::test]
async fn free_text_intent_goes_to_the_model_and_falls_back_to_rules() {
    let chat = Arc::new(ScriptedChat {
        script: Box::new(|r, _| {
            assert!(r.user.contains("\"the second one should say New!\""));
            Ok(r#"{"intent": "edit_scene", "scene": 2, "field": "text", "value": "New!"}"#.into())
        }),
        seen: Mutex::new(vec![]),
    });
    let roles = LlmRoles { chat: chat.clone(), resources: Resources::new(std::path::Path::new("/nonexistent")) };
    let parser = IntentParser { reader: Some(Arc::new(roles)) };
    let state = SessionState::default();
    let i = parser.parse("the second one should say New!", &state, &Gate::Scenes).await.unwrap();
    let Intent::EditScene { scene: 2, patch } = i else { panic!("{i:?}") };
    assert_eq!(patch.on_screen_text.as_deref(), Some("New!"));
    // Simple answers never reach the model.
    assert_eq!(parser.parse("approve", &state, &Gate::Scenes).await.unwrap(), Intent::Approve);
    assert_eq!(chat.seen.lock().unwrap().len(), 1);
    // A failing model falls back to the rule-based reading.
    let down = Arc::new(ScriptedChat { script: Box::new(|_, _| Err(ProviderError::Transient("503".into()))), seen: Mutex::new(vec![]) });
    let parser = IntentParser { reader: Some(Arc::new(LlmRoles { chat: down, resources: Resources::new(std::path::Path::new("/x")) })) };
    assert_eq!(
        parser.parse("more energy", &state, &Gate::Scenes).await.unwrap(),
        Intent::Feedback { scene: None, text: "more energy".into() }
    );
}

#[test]
fn every_built_in_prompt_renders_with_its_variables() {
    let res = Resources::new(std::path::Path::new("/nonexistent"));
    let vars = admint::config::sample_prompt_vars(&res);
    for name in admint::config::PROMPT_NAMES {
        let out = res.render_prompt(name, &vars).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out.contains("JSON"), "{name} asks for JSON");
    }
    // A user override that cannot render is reported with its origin.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("prompts")).unwrap();
    std::fs::write(dir.path().join("prompts/intent.j2"), "{{ nope.missing }}").unwrap();
    let err = Resources::new(dir.path()).render_prompt("intent", &vars).unwrap_err().to_string();
    assert!(err.contains("intent.j2"), "{err}");
}
