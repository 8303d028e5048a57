//! Frame time of the session screen: 50 clips, 200 chat messages, every panel, 200x60.

use criterion::{criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;

use admint::domain::*;
use admint::pipeline::keys::ProviderIds;
use admint::pipeline::PlanRules;
use admint::tui::app::{App, ChatLine, Focus, RunState, Screen, SessionView, Who};
use admint::tui::keymap::Keymap;
use admint::tui::theme::Theme;
use admint::tui::view::{view, Images};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn fixture() -> App {
    let rules = PlanRules {
        story_max_iterations: 3,
        scene_max_iterations: 2,
        critic_threshold: 7.5,
        providers: ProviderIds { image: "i".into(), video: "v".into(), analyst: "a".into(), speech: "none".into(), music: "none".into() },
        finish: Default::default(),
        animatic: true,
    };
    let mut app = App::new(Theme::default_dark(false), Keymap::default(), rules, true);
    app.screen = Screen::Session;
    app.focus = Focus::Scenes;
    app.size = (200, 60);
    let mut v = SessionView::new("bench".into());
    let brief = Brief {
        prompt: "p".into(), product_name: "AirRun Pro".into(), call_to_action: "Shop now".into(), audience: String::new(), tone: String::new(),
        language: "en".into(), framework: Framework::Aida, template: "product_showcase".into(), aspect: Aspect::Landscape,
        duration_s: 150.0, assets: BrandAssets::default(), budget_usd: Some(10.0), seed: 0, transition: None, look: None, look_base: None, voice: None, words_per_second: None, captions: None, caption_style: None, url: None, price: None, typeface: None, animatic: None, batch: None, variants: None, candidates: None, variant_of: None,
    };
    v.state.brief = Some(brief);
    let mut dims = BTreeMap::new();
    dims.insert("temporal_flickering".to_string(), DimensionScore { value: 0.96, method: Method::Exact, fraction: None });
    dims.insert("motion_smoothness".to_string(), DimensionScore { value: 0.71, method: Method::Approximation, fraction: None });
    for id in 1..=50u32 {
        v.state.scenes.push(Scene { id, description: format!("Scene {id}: AirRun Pro on a pink track at dawn, camera gliding"), duration_s: 3.0, shot_type: "wide".into(), camera: CameraMove::ALL[id as usize % 6], motion_intensity: 0.5, on_screen_text: format!("Line {id}"), voiceover: String::new(), transition: Transition::default() });
        let video = AssetId { sha256: format!("{id:064}"), ext: "mp4".into() };
        if id % 3 != 0 {
            v.state.clips.insert(id, Clip { scene_id: id, video: video.clone(), duration_s: 3.0, width: 1920, height: 1080, fps: 30, provider: "o".into(), key: "k".into(), cached: false, has_audio: false });
            v.state.scores.insert(ScoreTarget::Clip(id), ScoreRecord { target: ScoreTarget::Clip(id), video, score: Score::Scored { dimensions: dims.clone(), quality: 50.0 + id as f64, gates: vec![], scorer: "b".into(), version: "b".into() } });
        } else {
            v.live.insert(admint::pipeline::Task::Clip(id), id as f32 / 50.0);
        }
    }
    for i in 0..200 {
        v.chat.push(ChatLine { who: if i % 7 == 0 { Who::User } else { Who::System }, text: format!("message {i}: the pipeline did something worth telling, with enough words to wrap across the chat panel"), badge: (i % 11 == 0).then(|| "★ 8.5".into()), image: None });
    }
    v.run = RunState::Running;
    app.session = Some(v);
    app
}

fn bench(c: &mut Criterion) {
    let app = fixture();
    let images = Images::default();
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("session screen 200x60, 50 clips, 200 messages", |b| {
        b.iter(|| {
            term.draw(|f| view(&app, &images, f)).unwrap();
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
