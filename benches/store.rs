//! Resume stays instant as sessions grow: open the store and fold a session of 10,000
//! events (goal ≤ 50 ms on the 2-core CI machine), measured beside the bare cost of
//! reading the same records back from sled (no decoding, no fold) in the same run.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::time::Duration;

use admint::domain::*;
use admint::store::Store;

const EVENTS: usize = 10_000;

/// A session of `EVENTS` events: the creation, then edits, costs and stage marks, the
/// kinds a long interactive session piles up.
fn fill(dir: &Path) -> String {
    let store = Store::open(dir).unwrap();
    let id = "20261130-000000-bench0".to_string();
    let brief = Brief {
        prompt: "pink running shoes".into(), product_name: "AirRun Pro".into(), call_to_action: "Shop now".into(), audience: String::new(), tone: String::new(),
        language: "en".into(), framework: Framework::Aida, template: "product_showcase".into(), aspect: Aspect::Landscape,
        duration_s: 30.0, assets: BrandAssets::default(), budget_usd: None, seed: 0, transition: None, look: None, look_base: None, voice: None, words_per_second: None, captions: None, caption_style: None, url: None, price: None, typeface: None, animatic: None, batch: None, variants: None, candidates: None, variant_of: None,
    };
    let render = RenderSpec { width: 1920, height: 1080, fps: 30, intro_s: 1.5, outro_s: 2.0, cards_in_spot: true };
    store.append(&id, Event::SessionCreated { id: id.clone(), brief: Box::new(brief), render }).unwrap();
    for i in 1..EVENTS {
        let event = match i % 4 {
            0 => Event::SceneEdited { scene_id: (i % 6) as u32 + 1, patch: ScenePatch { on_screen_text: Some(format!("take {i}: 20% off")), ..Default::default() } },
            1 => Event::CostRecorded { entry: CostEntry { stage: admint::pipeline::Task::Clip((i % 6) as u32).label(), provider: "replicate".into(), model: "replicate:m".into(), usd: 0.01, note: "estimate".into(), job: None } },
            2 => Event::StageStarted { stage: Stage::Clips },
            _ => Event::StoryFeedback { text: format!("more energy, round {i}") },
        };
        store.append(&id, event).unwrap();
    }
    id
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let id = fill(tmp.path());
    let mut g = c.benchmark_group("store");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("open + fold 10k events", |b| {
        b.iter(|| {
            let store = Store::open(tmp.path()).unwrap();
            let state = store.load(&id).unwrap();
            assert_eq!(state.last_seq as usize, EVENTS);
        })
    });
    g.bench_function("baseline: open + read 10k raw records", |b| {
        b.iter(|| {
            let db = sled::open(tmp.path().join("store.sled")).unwrap();
            let n = db.open_tree(format!("log/{id}")).unwrap().iter().values().map(|v| v.unwrap().len()).filter(|len| *len > 0).count();
            assert_eq!(n, EVENTS);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
