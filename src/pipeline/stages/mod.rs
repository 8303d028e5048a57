//! One function per task kind. Each reads the state, does its work (reusing cached
//! results by content key), and records the outcome as events.

mod animatic;
mod clips;
mod compose;
mod images;
mod look;
mod music;
mod voice;
mod writing;

use std::path::PathBuf;
use std::sync::Arc;

use super::{PipelineError, Pipeline, Recorder, Task};
use crate::domain::{AssetId, CostEntry, Event, JobRecord, SessionState};
use crate::providers::{wait_job, Chain, JobCtx, JobRef, MediaModel, MediaRef, Produced, ProviderError, Submitted};

pub async fn run_task(p: &Pipeline, rec: &Arc<Recorder>, state: &SessionState, task: &Task) -> Result<(), PipelineError> {
    let writing = matches!(task, Task::DraftStory | Task::CritiqueStory | Task::WriteScenes | Task::CritiqueScenes | Task::CohereScenes);
    if let (true, Some(chat)) = (writing, &p.providers.chat) {
        check_budget(state, chat.estimate_usd(&super::typical_writing_call()), &task.label(), &chat.id())?;
    }
    let result = match task {
        Task::DraftStory => writing::draft_story(p, rec, state).await,
        Task::CritiqueStory => writing::critique_story(p, rec, state).await,
        Task::WriteScenes => writing::write_scenes(p, rec, state).await,
        Task::CritiqueScenes => writing::critique_scenes(p, rec, state).await,
        Task::CohereScenes => writing::cohere_scenes(p, rec, state).await,
        Task::Reference(kind) => images::reference(p, rec, state, *kind).await,
        Task::Keyframe(id) => images::keyframe(p, rec, state, *id).await,
        Task::Clip(id) => clips::clip(p, rec, state, *id).await,
        Task::ScoreClip(id) => clips::score_clip(p, rec, state, *id).await,
        Task::Music => music::music(p, rec, state).await,
        Task::FollowLook => look::follow_look(p, rec, state).await,
        Task::Compose => compose::compose(p, rec, state).await,
        Task::ScoreFinal => compose::score_final(p, rec, state).await,
        Task::Animatic => animatic::animatic(p, rec, state).await,
        Task::AwaitStoryApproval | Task::AwaitScenesApproval | Task::AwaitAnimaticApproval => Ok(()),
        Task::Voice(id) => voice::voice(p, rec, state, *id).await,
    };
    // Chat and vision calls are paid whether or not the task succeeded.
    for m in p.providers.meter.drain() {
        record_cost(rec, &task.label(), &m.model, m.actual, m.estimate).await?;
    }
    result
}

/// A job context whose progress goes to the recorder under `task`.
pub(crate) fn job_ctx(p: &Pipeline, rec: &Arc<Recorder>, session: &str, task: Task, key: &str) -> JobCtx {
    let rec2 = rec.clone();
    JobCtx {
        idempotency_key: format!("admint-{}", &key[..key.len().min(32)]),
        progress: Arc::new(move |f| rec2.progress(task, f)),
        cancel: p.cancel.clone(),
        work_dir: p.work_dir(session),
        remote_cancelled: Arc::default(),
    }
}

/// Move a produced file into the blob store (named by its sha256).
pub(crate) async fn ingest(p: &Pipeline, media: MediaRef, default_ext: &str) -> Result<AssetId, ProviderError> {
    let blobs = p.store.blobs.clone();
    let ext = default_ext.to_string();
    tokio::task::spawn_blocking(move || match media {
        MediaRef::Local(path) => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or(&ext).to_string();
            blobs.adopt(&path, &ext).map_err(|e| ProviderError::Io(std::io::Error::other(e.to_string())))
        }
        MediaRef::Bytes { data, ext } => blobs.put_bytes(&data, &ext).map_err(|e| ProviderError::Io(std::io::Error::other(e.to_string()))),
        MediaRef::Url(_) => Err(ProviderError::Protocol("the backend returned a link it did not download".into())),
    })
    .await
    .map_err(|e| ProviderError::Protocol(e.to_string()))?
}

pub(crate) fn blob_path(p: &Pipeline, id: &AssetId) -> Result<PathBuf, PipelineError> {
    Ok(p.store.blobs.existing(id)?)
}

/// Budget guard: refuse a call that would take the session over its budget. A paid model
/// with no known price cannot be capped, so it is refused too when a budget is set.
pub(crate) fn check_budget(state: &SessionState, estimate_usd: Option<f64>, what: &str, model: &str) -> Result<(), PipelineError> {
    let Some(budget) = state.brief().budget_usd else { return Ok(()) };
    let spent = state.total_cost();
    match estimate_usd {
        None => Err(unpriced(what, model, budget)),
        Some(est) if est > 0.0 && spent + est > budget + 1e-9 => Err(PipelineError::Budget(format!(
            "{what} on {model} would cost ${est:.2}; ${spent:.2} of the ${budget:.2} budget is spent, so it was not submitted"
        ))),
        Some(_) => Ok(()),
    }
}

/// Add a paid call to the ledger: the provider's own figure when it gives one, else the
/// estimate. Free calls leave no entry.
pub(crate) async fn record_cost(rec: &Recorder, task: &str, model: &str, actual: Option<f64>, est: Option<f64>) -> Result<(), PipelineError> {
    book(rec, task, model, actual, est, None).await
}

/// Add a job's cost to the ledger once: a job already booked (by a run a crash cut off
/// after it paid) is not booked again.
pub(crate) async fn record_job_cost(rec: &Recorder, task: &str, model: &str, actual: Option<f64>, est: Option<f64>, job: &str) -> Result<(), PipelineError> {
    if rec.state().await.jobs_booked.contains(job) {
        return Ok(());
    }
    book(rec, task, model, actual, est, Some(job.to_string())).await
}

/// A cut-off submission that could not be looked for may have been charged: booked at its
/// estimate, and said so, so the ledger does not under-count.
async fn book_possible_double(rec: &Recorder, task: Task, model: &str, est: Option<f64>) -> Result<(), PipelineError> {
    let Some(usd) = est.filter(|u| *u > 0.0) else { return Ok(()) };
    let provider = model.split(':').next().unwrap_or(model).to_string();
    let entry = CostEntry { stage: task.label(), provider, model: model.to_string(), usd, note: "possible double charge: a submission cut off by a crash may have been charged".into(), job: None };
    rec.record(Event::CostRecorded { entry }).await?;
    Ok(())
}

async fn book(rec: &Recorder, task: &str, model: &str, actual: Option<f64>, est: Option<f64>, job: Option<String>) -> Result<(), PipelineError> {
    let (usd, note) = match (actual, est) {
        (Some(a), _) => (a, "reported by the provider"),
        (None, Some(e)) => (e, "estimate (the provider reports no cost)"),
        (None, None) => (0.0, "price unknown"),
    };
    if usd > 0.0 || est.is_none() {
        let provider = model.split(':').next().unwrap_or(model).to_string();
        let entry = CostEntry { stage: task.to_string(), provider, model: model.to_string(), usd, note: note.into(), job };
        rec.record(Event::CostRecorded { entry }).await?;
    }
    Ok(())
}

/// A paid model with no price cannot be capped by a budget.
pub(crate) fn unpriced(what: &str, model: &str, budget: f64) -> PipelineError {
    PipelineError::Budget(format!("{what}: no price is known for {model}, so the ${budget:.2} budget cannot cap it; add [prices.\"{model}\"] to the config"))
}

/// What `produce` made, and with which model of the chain.
pub(crate) struct Made {
    pub asset: AssetId,
    pub model: String,
}

/// The record key of a task's remote job: the task and the content key, so an edited
/// scene never re-attaches to the job of its old text.
pub(crate) fn job_id(task: Task, key: &str) -> String {
    format!("{task}#{}", &key[..key.len().min(16)])
}

/// Make one image or video through a role's chain: re-attach to a recorded job, else try
/// each model in order (local ones up to `local_attempts` times, paid ones once), with the
/// budget checked and the concurrency limits held before every call. The result is
/// fetched, stored and its cost recorded.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn produce<R: Send + Sync + 'static>(
    p: &Pipeline,
    rec: &Arc<Recorder>,
    task: Task,
    key: &str,
    chain: &Chain<dyn MediaModel<R>>,
    req: &R,
    default_ext: &str,
    local_attempts: u32,
) -> Result<Made, PipelineError> {
    let jid = job_id(task, key);
    let state = rec.state().await;
    let recorded = state.jobs.get(&jid).map(|j| j.provider.clone());
    // The model holding a recorded job goes first, so a resume collects what was paid for.
    let mut order: Vec<&Arc<dyn MediaModel<R>>> = chain.members().iter().collect();
    if let Some(pos) = recorded.as_ref().and_then(|r| order.iter().position(|m| &m.id() == r)) {
        let m = order.remove(pos);
        order.insert(0, m);
    }
    let mut last_err = None;
    for (i, model) in order.iter().enumerate() {
        let id = model.id();
        let mut tries = if model.is_remote() { 1 } else { local_attempts.max(1) };
        let mut attempt = 0;
        while attempt < tries {
            attempt += 1;
            let now = rec.state().await;
            let est = model.estimate_usd(req);
            let reattach = now.jobs.get(&jid).filter(|j| j.provider == id).and_then(|j| j.remote_id.clone());
            if reattach.is_none() {
                check_budget(&now, est, &task.label(), &id)?;
            }
            let mut ctx = job_ctx(p, rec, &now.id, task, key);
            // Backends that take a client-chosen job id (ComfyUI) get one per model and
            // per try, so a retry after a failed job is a new job, and a crash is not.
            let ended = now.jobs_ended.get(&jid).copied().unwrap_or(0);
            ctx.idempotency_key = format!("{}:{id}:{ended}", ctx.idempotency_key);
            let result = async {
                let _global = if model.is_remote() { Some(p.remote_jobs.clone().acquire_owned().await) } else { None };
                let _backend = match model.limiter() {
                    Some(sem) => Some(sem.acquire_owned().await),
                    None => None,
                };
                let produced = run_job(rec, &now, task, &jid, model.as_ref(), &ctx, req).await?;
                let media = model.fetch(produced.media, &ctx).await.map_err(|e| PipelineError::provider(task, e))?;
                let asset = ingest(p, media, default_ext).await.map_err(|e| PipelineError::provider(task, e))?;
                Ok::<_, PipelineError>((asset, produced.cost_usd))
            }
            .await;
            match result {
                Ok((asset, actual)) => {
                    record_cost(rec, &task.label(), &id, actual, est).await?;
                    return Ok(Made { asset, model: id });
                }
                Err(e @ (PipelineError::Cancelled(_) | PipelineError::Budget(_))) => return Err(e),
                // The recorded job was cancelled, interrupted or forgotten by the box: it
                // has ended (recorded), and the task is submitted anew, once.
                Err(PipelineError::Provider { error: ProviderError::JobGone(why), .. }) if reattach.is_some() && tries == attempt => {
                    rec.note(format!("{task}: the job {id} had is gone ({why}); submitting it again"));
                    tries += 1;
                }
                Err(e) => {
                    tracing::warn!(%task, model = %id, attempt, error = %e, "generation failed");
                    last_err = Some(e);
                }
            }
        }
        if let (Some(next), Some(e)) = (order.get(i + 1), &last_err) {
            rec.note(format!("{task}: {id} failed ({e}); falling back to {}", next.id()));
        }
    }
    Err(last_err.unwrap_or_else(|| PipelineError::Internal(format!("{task}: the chain has no models"))))
}

/// Run a provider job with the crash-safe protocol: `JobSubmitting` before a remote call,
/// `JobSubmitted{remote_id}` after, and on resume re-attach by the recorded remote id
/// instead of submitting again. A remote job that fails is recorded as ended, so a retry
/// submits anew.
async fn run_job<R: Send + Sync>(
    rec: &Recorder,
    state: &SessionState,
    task: Task,
    jid: &str,
    model: &dyn MediaModel<R>,
    ctx: &JobCtx,
    req: &R,
) -> Result<Produced, PipelineError> {
    let provider = model.id();
    let err = |e: ProviderError| match e {
        ProviderError::Cancelled => PipelineError::Cancelled(state.id.clone()),
        e => PipelineError::provider(task, e),
    };
    let wait = |job: JobRef| async move {
        let result = wait_job(&job, ctx, model.poll_interval(), || model.status(&job), || model.cancel(&job)).await;
        let ended = match &result {
            Ok(_) => None,
            // A stop that cancelled the job ended it; one whose cancel failed left it
            // running, and a resume re-attaches.
            Err(ProviderError::Cancelled) if ctx.remote_cancelled.load(std::sync::atomic::Ordering::Relaxed) => Some("cancelled when the run was stopped".to_string()),
            Err(ProviderError::Cancelled) => None,
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = ended {
            rec.record(Event::JobEnded { task: jid.to_string(), provider: job.provider.clone(), remote_id: job.remote_id.clone(), error }).await?;
        }
        result.map_err(err)
    };
    match state.jobs.get(jid).filter(|j| j.provider == provider) {
        Some(JobRecord { remote_id: Some(remote_id), .. }) => {
            rec.note(format!("{task}: re-attaching to job {remote_id} on {provider}"));
            return wait(JobRef { provider: provider.clone(), remote_id: remote_id.clone() }).await;
        }
        Some(JobRecord { remote_id: None, at_ms, .. }) if model.is_remote() => {
            // Look for the job the cut-off request may have created before paying again.
            let taken: Vec<&String> = state.jobs.values().filter_map(|j| j.remote_id.as_ref()).collect();
            if model.can_find() {
                rec.note(format!("{task}: the last submission to {provider} was cut off before it answered; looking for it in {provider}'s list of jobs before paying again"));
            }
            let found = if model.can_find() { model.find(req, *at_ms).await } else { Err(ProviderError::NotFound(format!("{provider} has no list of jobs to look in"))) };
            match found {
                Ok(Some(job)) if !taken.contains(&&job.remote_id) => {
                    rec.note(format!("{task}: the cut-off submission reached {provider} as job {}: re-attaching, not submitting again", job.remote_id));
                    rec.record(Event::JobSubmitted { task: jid.to_string(), provider: provider.clone(), remote_id: job.remote_id.clone() }).await?;
                    return wait(job).await;
                }
                Ok(_) => rec.note(format!("{task}: the last submission to {provider} was cut off before it answered and is not in its list of jobs; submitting again")),
                Err(e) => {
                    rec.note(format!(
                        "{task}: the last submission to {provider} was cut off before it answered and its jobs cannot be listed ({e}); if it reached {provider} it may be charged twice"
                    ));
                    book_possible_double(rec, task, &provider, model.estimate_usd(req)).await?;
                }
            }
        }
        _ => {}
    }
    if model.is_remote() {
        rec.record(Event::JobSubmitting { task: jid.to_string(), provider: provider.clone() }).await?;
    }
    match model.submit(req, ctx).await.map_err(err)? {
        Submitted::Done(m) => Ok(m),
        Submitted::Pending(job) => {
            rec.record(Event::JobSubmitted { task: jid.to_string(), provider: provider.clone(), remote_id: job.remote_id.clone() }).await?;
            wait(job).await
        }
    }
}
