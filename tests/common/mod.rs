#![allow(dead_code)]
//! Shared test harness: a pipeline in a temp dir with the small `test` render profile.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use admint::config::{Paths, Resources, Settings};
use admint::domain::{Event, EventEnvelope};
use admint::media::Ffmpeg;
use admint::domain::{Approver, SessionState};
use admint::pipeline::{BriefInput, Decider, Decision, Gate, Pipeline};
use async_trait::async_trait;
use admint::providers::ProviderSet;
use admint::store::Store;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub paths: Paths,
}

pub fn settings() -> Settings {
    let mut s = Settings::default();
    s.apply_profile("test").unwrap();
    s
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        Harness { dir, paths }
    }

    pub fn store(&self) -> Arc<Store> {
        Arc::new(Store::open(&self.paths.data_dir).unwrap())
    }

    /// A pipeline on `store` with the offline providers, optionally changed by `f`, and no scorer.
    pub fn pipeline_with(&self, store: Arc<Store>, f: impl FnOnce(&mut ProviderSet)) -> Pipeline {
        self.pipeline_scored_with(store, |s| s.scoring.backend = "none".into(), f)
    }

    /// A pipeline with the scorer and scoring settings that `s` configures.
    pub fn pipeline_scored(&self, store: Arc<Store>, f: impl FnOnce(&mut Settings)) -> Pipeline {
        self.pipeline_scored_with(store, f, |_| {})
    }

    /// As `pipeline_scored`, with the providers changed by `g`.
    pub fn pipeline_scored_with(&self, store: Arc<Store>, f: impl FnOnce(&mut Settings), g: impl FnOnce(&mut ProviderSet)) -> Pipeline {
        let mut s = settings();
        f(&mut s);
        let ff = Ffmpeg::locate().expect("ffmpeg is required for the tests");
        let mut providers = ProviderSet::from_settings(&s, &ff).unwrap();
        g(&mut providers);
        let scorer = admint::quality::scorer_from_settings(&s.scoring, &ff).unwrap();
        Pipeline::new(&self.paths, s, store, providers, scorer, ff)
    }

    pub fn pipeline(&self, store: Arc<Store>) -> Pipeline {
        self.pipeline_with(store, |_| {})
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn brief_input(prompt: &str, duration: f64) -> BriefInput {
    BriefInput {
        prompt: Some(prompt.into()),
        product_name: Some("AirRun Pro".into()),
        call_to_action: Some("Shop now: 20% off".into()),
        duration_s: Some(duration),
        ..Default::default()
    }
}

pub async fn new_session(p: &Pipeline, input: BriefInput) -> String {
    let (mut brief, files) = input.validate(&Resources::new(Path::new("/nonexistent"))).unwrap();
    brief.assets = files.import(&p.store.blobs).unwrap();
    p.create_session(brief).await.unwrap()
}

pub fn kinds(events: &[EventEnvelope]) -> Vec<String> {
    events.iter().map(|e| e.event.kind()).collect()
}

pub fn count(events: &[EventEnvelope], pred: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.event)).count()
}

/// Each stage started at most once and completed at most once.
pub fn assert_no_stage_repeated(events: &[EventEnvelope]) {
    use std::collections::HashMap;
    let mut started: HashMap<String, usize> = HashMap::new();
    let mut completed: HashMap<String, usize> = HashMap::new();
    for e in events {
        match &e.event {
            Event::StageStarted { stage } => *started.entry(stage.id().into()).or_default() += 1,
            Event::StageCompleted { stage } => *completed.entry(stage.id().into()).or_default() += 1,
            _ => {}
        }
    }
    assert!(started.values().all(|n| *n == 1), "a stage started twice: {started:?}");
    assert!(completed.values().all(|n| *n == 1), "a stage completed twice: {completed:?}");
}

/// Answers gates from a script, then pauses.
pub struct Scripted(pub Vec<Decision>);

#[async_trait]
impl Decider for Scripted {
    fn approver(&self) -> Approver {
        Approver::User
    }
    async fn decide(&mut self, _s: &SessionState, _g: &Gate) -> Decision {
        if self.0.is_empty() { Decision::Pause } else { self.0.remove(0) }
    }
}


/// The admint binary on a data dir, state dir and config under `root`, the test render
/// profile, and the backend key `key` (an environment variable and its value).
pub fn admint_cmd(root: &Path, key: (&str, &str)) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_admint"));
    c.env("ADMINT_DATA_DIR", root.join("data"))
        .env("ADMINT_STATE_DIR", root.join("state"))
        .env("ADMINT_CONFIG_DIR", root)
        .env("ADMINT_PROFILE", "test")
        .env(key.0, key.1)
        .current_dir(root)
        .stdin(std::process::Stdio::null());
    c
}

/// A temporary root for `admint_cmd` with `toml` as its config file.
pub fn root_with_config(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), toml).unwrap();
    dir
}

/// `admint generate --auto --format jsonl` of a `seconds`-long advert for the test brief
/// in `root`: its events piped (for `jsonl_until`), its log dropped — a run to kill.
pub fn spawn_generate(root: &Path, key: (&str, &str), seconds: &str) -> std::process::Child {
    admint_cmd(root, key)
        .args(["generate", "--prompt", "a cordless vacuum for pet owners", "--auto", "--format", "jsonl", "--duration", seconds])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Read a `--format jsonl` run's lines until the `n`-th event of type `kind`; returns the
/// session id.
pub fn jsonl_until(child: &mut std::process::Child, kind: &str, n: usize) -> String {
    use std::io::{BufRead, BufReader};
    let mut session = String::new();
    let mut seen = 0;
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        session = v["session"].as_str().unwrap_or_default().to_string();
        if v["event"]["type"] == kind {
            seen += 1;
            if seen >= n {
                break;
            }
        }
    }
    session
}
