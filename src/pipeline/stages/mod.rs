//! One function per task kind. Each reads the state, does its work (reusing cached
//! results by content key), and records the outcome as events.

mod clips;
mod compose;
mod images;
mod writing;

use std::path::PathBuf;
use std::sync::Arc;

use super::{PipelineError, Pipeline, Recorder, Task};
use crate::domain::{AssetId, SessionState};
use crate::providers::{JobCtx, MediaRef, ProviderError};

pub async fn run_task(p: &Pipeline, rec: &Arc<Recorder>, state: &SessionState, task: &Task) -> Result<(), PipelineError> {
    match task {
        Task::DraftStory => writing::draft_story(p, rec, state).await,
        Task::CritiqueStory => writing::critique_story(p, rec, state).await,
        Task::WriteScenes => writing::write_scenes(p, rec, state).await,
        Task::CritiqueScenes => writing::critique_scenes(p, rec, state).await,
        Task::CohereScenes => writing::cohere_scenes(p, rec, state).await,
        Task::Reference(kind) => images::reference(p, rec, state, *kind).await,
        Task::Keyframe(id) => images::keyframe(p, rec, state, *id).await,
        Task::Clip(id) => clips::clip(p, rec, state, *id).await,
        Task::ScoreClip(id) => clips::score_clip(p, rec, state, *id).await,
        Task::Compose => compose::compose(p, rec, state).await,
        Task::ScoreFinal => compose::score_final(p, rec, state).await,
        Task::AwaitStoryApproval | Task::AwaitScenesApproval => Ok(()),
    }
}

/// A job context whose progress goes to the recorder under `task`.
pub(crate) fn job_ctx(p: &Pipeline, rec: &Arc<Recorder>, session: &str, task: &str, key: &str) -> JobCtx {
    let rec2 = rec.clone();
    let name = task.to_string();
    JobCtx {
        idempotency_key: format!("admint-{}", &key[..key.len().min(32)]),
        progress: Arc::new(move |f| rec2.progress(&name, f)),
        cancel: p.cancel.clone(),
        work_dir: p.work_dir(session),
    }
}

/// Move a produced file into the blob store.
pub(crate) async fn ingest(p: &Pipeline, media: MediaRef, default_ext: &str) -> Result<AssetId, ProviderError> {
    let blobs = p.store.blobs.clone();
    let ext = default_ext.to_string();
    tokio::task::spawn_blocking(move || match media {
        MediaRef::Local(path) => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or(&ext).to_string();
            blobs.adopt(&path, &ext).map_err(|e| ProviderError::Io(std::io::Error::other(e.to_string())))
        }
        MediaRef::Bytes { data, ext } => blobs.put_bytes(&data, &ext).map_err(|e| ProviderError::Io(std::io::Error::other(e.to_string()))),
        MediaRef::Url(url) => Err(ProviderError::Protocol(format!("downloading {url} needs an HTTP provider, none is configured"))),
    })
    .await
    .map_err(|e| ProviderError::Protocol(e.to_string()))?
}

pub(crate) fn blob_path(p: &Pipeline, id: &AssetId) -> Result<PathBuf, PipelineError> {
    Ok(p.store.blobs.existing(id)?)
}

/// Budget guard: refuse work that would take the session over its budget.
pub(crate) fn check_budget(state: &SessionState, estimate_usd: f64, what: &str) -> Result<(), PipelineError> {
    if let Some(budget) = state.brief().budget_usd {
        let spent = state.total_cost();
        if estimate_usd > 0.0 && spent + estimate_usd > budget + 1e-9 {
            return Err(PipelineError::Budget(format!(
                "{what} would cost ${estimate_usd:.2}; ${spent:.2} of the ${budget:.2} budget is spent (raise it with --budget)"
            )));
        }
    }
    Ok(())
}

/// Run a provider job with the crash-safe protocol: `JobSubmitting` before a remote call,
/// `JobSubmitted{remote_id}` after, and on resume re-attach by the recorded remote id
/// instead of submitting again.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_job<SubF, St, StF, Ca, CaF>(
    rec: &Recorder,
    state: &SessionState,
    task: &str,
    provider: &str,
    remote: bool,
    interval: std::time::Duration,
    ctx: &JobCtx,
    submit: SubF,
    status: St,
    cancel: Ca,
) -> Result<MediaRef, PipelineError>
where
    SubF: std::future::Future<Output = Result<crate::providers::Submitted<MediaRef>, ProviderError>>,
    St: FnMut(crate::providers::JobRef) -> StF,
    StF: std::future::Future<Output = Result<crate::providers::JobState<MediaRef>, ProviderError>>,
    Ca: FnOnce(crate::providers::JobRef) -> CaF,
    CaF: std::future::Future<Output = Result<(), ProviderError>>,
{
    use crate::domain::Event;
    use crate::providers::{wait_job, JobRef, Submitted};
    let err = |e: ProviderError| match e {
        ProviderError::Cancelled => PipelineError::Cancelled(state.id.clone()),
        e => PipelineError::provider(task, e),
    };
    let mut status = status;
    if let Some(remote_id) = state.jobs.get(task).filter(|j| j.provider == provider).and_then(|j| j.remote_id.clone()) {
        rec.note(format!("{task}: re-attaching to job {remote_id} on {provider}"));
        let job = JobRef { provider: provider.to_string(), remote_id };
        let j2 = job.clone();
        return wait_job(&job, ctx, interval, || status(j2.clone()), || cancel(job.clone())).await.map_err(err);
    }
    if remote {
        rec.record(Event::JobSubmitting { task: task.to_string(), provider: provider.to_string() }).await?;
    }
    match submit.await.map_err(err)? {
        Submitted::Done(m) => Ok(m),
        Submitted::Pending(job) => {
            rec.record(Event::JobSubmitted { task: task.to_string(), provider: provider.to_string(), remote_id: job.remote_id.clone() }).await?;
            let j2 = job.clone();
            wait_job(&job, ctx, interval, || status(j2.clone()), || cancel(job.clone())).await.map_err(err)
        }
    }
}
