//! Calling a backend the way the pipeline does, for the backend tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use admint::providers::*;

pub struct Ctx {
    pub ctx: JobCtx,
    pub progress: Arc<Mutex<Vec<f32>>>,
    _dir: tempfile::TempDir,
}

pub fn ctx() -> Ctx {
    let dir = tempfile::tempdir().unwrap();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let p2 = progress.clone();
    let ctx = JobCtx {
        idempotency_key: "admint-test".into(),
        progress: Arc::new(move |f| p2.lock().unwrap().push(f)),
        cancel: Arc::new(AtomicBool::new(false)),
        work_dir: dir.path().to_path_buf(),
        remote_cancelled: Arc::default(),
    };
    Ctx { ctx, progress, _dir: dir }
}

pub fn keyframe(dir: &Path) -> PathBuf {
    let p = dir.join("key.png");
    std::fs::write(&p, &super::fixtures().png).unwrap();
    p
}

pub fn video_req(image: PathBuf) -> VideoRequest {
    VideoRequest { image, prompt: "pink running shoes: 100% \"fresh\"".into(), negative_prompt: "blurry".into(), camera: Default::default(), motion_intensity: 0.5, duration_s: 4.0, fps: 24, width: 320, height: 180, seed: 7, take: 0 }
}

pub fn image_req() -> ImageRequest {
    ImageRequest { purpose: ImagePurpose::Keyframe { scene_id: 1 }, prompt: "a pink shoe on wet asphalt".into(), negative_prompt: "blurry".into(), width: 400, height: 240, seed: 3, palette: vec!["#ff6eb4".into()], title: None, init_images: vec![], typeface: None }
}

/// Submit, wait and fetch as the pipeline does.
pub async fn run<R: Send + Sync + 'static>(m: &Arc<dyn MediaModel<R>>, req: &R, c: &Ctx) -> Result<(PathBuf, Option<f64>), ProviderError> {
    let produced = match m.submit(req, &c.ctx).await? {
        Submitted::Done(p) => p,
        Submitted::Pending(job) => wait_job(&job, &c.ctx, m.poll_interval(), || m.status(&job), || m.cancel(&job)).await?,
    };
    match m.fetch(produced.media, &c.ctx).await? {
        MediaRef::Local(p) => Ok((p, produced.cost_usd)),
        MediaRef::Bytes { data, ext } => {
            let p = c.ctx.work_dir.join(format!("answer.{ext}"));
            std::fs::write(&p, data).unwrap();
            Ok((p, produced.cost_usd))
        }
        MediaRef::Url(u) => panic!("not fetched: {u}"),
    }
}

/// Make a clip from the fixture keyframe with the chain's first video model.
pub async fn generate(ps: &ProviderSet, c: &Ctx) -> Result<(PathBuf, Option<f64>), ProviderError> {
    run(ps.video.head(), &video_req(keyframe(&c.ctx.work_dir)), c).await
}

/// No file under `dir` contains `needle`.
pub fn assert_nowhere(dir: &Path, needle: &str) {
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "the key is in {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
