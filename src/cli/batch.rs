//! `admint batch FILE`: one advert per row, resumable as a whole, shardable; and
//! `admint batch merge`: the shards' summaries joined.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::json;

use super::args::{BatchArgs, BatchCommand, BatchMergeArgs, OutputFormat};
use super::CliError;
use crate::app_env::AppEnv;
use crate::domain::ScoreTarget;
use crate::pipeline::batch::{merge_summaries, merge_variants, read_rows, row_dir, tag, write_summary, BatchRow, Shard, SummaryRow};
use crate::pipeline::{AutoDecider, Pipeline, PipelineError, RunOutcome};

pub async fn batch(a: BatchArgs) -> Result<(), CliError> {
    if let Some(BatchCommand::Merge(m)) = a.command {
        return merge(m);
    }
    let file = a.file.clone().ok_or_else(|| CliError::usage("name the batch file (CSV or JSONL)"))?;
    let shard = a.shard.as_deref().map(Shard::parse).transpose().map_err(CliError::usage)?.unwrap_or(Shard::ALL);
    if a.jobs == 0 {
        return Err(CliError::usage("--jobs must be at least 1"));
    }
    let name = file.file_stem().and_then(|s| s.to_str()).unwrap_or("batch").to_string();
    let out = a.output.clone().unwrap_or_else(|| PathBuf::from("admint-batch").join(&name));
    let rows: Vec<(usize, Result<BatchRow, PipelineError>)> = read_rows(&file)?.into_iter().enumerate().filter(|(i, _)| shard.takes(*i)).collect();
    std::fs::create_dir_all(&out).map_err(|e| CliError::usage(format!("output dir {}: {e}", out.display())))?;

    let env = AppEnv::open()?;
    let p = env.pipeline()?;
    // Sessions this batch made before (a crash, a kill, an earlier run): by row content.
    let mut made: HashMap<String, String> = HashMap::new();
    for s in p.store.sessions().map_err(PipelineError::from)? {
        if let Some(t) = s.state.ok().and_then(|st| st.brief.and_then(|b| b.batch)) {
            made.entry(t.key).or_insert(s.id);
        }
    }
    let text = a.format == OutputFormat::Text;
    if text {
        let resumed = rows.iter().filter(|(_, r)| r.as_ref().is_ok_and(|r| made.contains_key(&r.key))).count();
        eprintln!(
            "batch {name}: {} row(s){}{} → {}",
            rows.len(),
            if shard.count > 1 { format!(" (shard {}/{})", shard.index, shard.count) } else { String::new() },
            if resumed > 0 { format!(", {resumed} resumed") } else { String::new() },
            out.display()
        );
    }

    let stopping = Arc::new(AtomicBool::new(false));
    let stop_on_signal = listen_for_stop(&p, stopping.clone())?;
    let total = rows.len();
    // A row that repeats an earlier one (the same content) is the same advert: it waits
    // for that one, then takes its session, so no two runs ever share a session.
    let mut seen = std::collections::HashSet::new();
    let (first, repeats): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(_, r)| r.as_ref().map_or(true, |r| seen.insert(r.key.clone())));
    let made = std::sync::Mutex::new(made);
    let one = |row: Result<BatchRow, PipelineError>| {
        let (p, made, out, name, stopping) = (p.clone(), &made, out.clone(), name.clone(), stopping.clone());
        async move {
            let row = match row {
                Err(e) => return Some(invalid_row(&e)),
                Ok(_) if stopping.load(Ordering::Relaxed) => return None,
                Ok(row) => row,
            };
            let session = made.lock().ok().and_then(|m| m.get(&row.key).cloned());
            let line = make_row(&p, &name, &row, session, &out).await;
            if !line.session.is_empty() {
                if let Ok(mut m) = made.lock() {
                    m.insert(row.key.clone(), line.session.clone());
                }
            }
            Some(line)
        }
    };
    let mut results: Vec<SummaryRow> = stream::iter(first)
        .map(|(_, row)| one(row))
        .buffer_unordered(a.jobs)
        .filter_map(|l| async move { l })
        .inspect(|l| report(a.format, &name, l))
        .collect()
        .await;
    for (_, row) in repeats {
        if let Some(l) = one(row).await {
            report(a.format, &name, &l);
            results.push(l);
        }
    }
    stop_on_signal.abort();

    results.sort_by_key(|r| r.row);
    let summary = out.join(shard.summary_name());
    write_summary(&summary, &results)?;
    if text {
        print_table(&results);
        eprintln!("summary: {}", summary.display());
    }
    let done = results.iter().filter(|r| r.done()).count();
    if stopping.load(Ordering::Relaxed) {
        return Err(CliError::failed(format!("stopped after {done} of {total} advert(s); run the same command again to resume the batch")));
    }
    if done < total {
        let not: Vec<String> = results.iter().filter(|r| !r.done()).map(|r| r.row.to_string()).collect();
        return Err(CliError::failed(format!("{done} of {total} advert(s) made; not made: row(s) {} (see {}); run the same command again to resume", not.join(", "), summary.display())));
    }
    Ok(())
}

/// SIGINT / SIGTERM / SIGHUP: running adverts stop as a single run would, no new row starts.
fn listen_for_stop(p: &Pipeline, stopping: Arc<AtomicBool>) -> Result<tokio::task::JoinHandle<()>, CliError> {
    let mut signals = crate::signals::StopSignals::new(true).map_err(|e| CliError::failed(format!("cannot listen for signals: {e}")))?;
    let stopper = p.clone();
    Ok(tokio::spawn(async move {
        let sig = signals.recv().await;
        if sig == crate::signals::Stop::Hangup {
            crate::signals::detach_from_terminal();
        } else {
            eprintln!("stopping ({}): waiting for running work to end…", sig.name());
        }
        stopping.store(true, Ordering::Relaxed);
        stopper.stop();
        loop {
            signals.recv().await;
        }
    }))
}

fn invalid_row(e: &PipelineError) -> SummaryRow {
    let message = e.to_string();
    let row = message.strip_prefix("row ").and_then(|r| r.split(':').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    SummaryRow { row, product: String::new(), status: format!("invalid: {message}"), session: String::new(), file: String::new(), duration_s: None, cost_usd: 0.0, quality: None }
}

/// Make (or resume) one row's advert into its folder.
async fn make_row(p: &Pipeline, batch: &str, row: &BatchRow, session: Option<String>, out: &Path) -> SummaryRow {
    let mut line = SummaryRow { row: row.row, product: String::new(), status: String::new(), session: String::new(), file: String::new(), duration_s: None, cost_usd: 0.0, quality: None };
    let session = match session {
        Some(id) => id,
        None => match new_session(p, batch, row).await {
            Ok(id) => id,
            Err(e) => {
                line.status = format!("invalid: row {}: {e}", row.row);
                return line;
            }
        },
    };
    line.session = session.clone();
    let state = p.load(&session).await.ok();
    line.product = state.as_ref().and_then(|s| s.brief.as_ref()).map(|b| b.product_name.clone()).unwrap_or_default();
    let dir = row_dir(out, row.row, &line.product);
    let result = p.run(&session, &mut AutoDecider { retry_failed: true }, Some(&dir)).await;
    line.status = match &result {
        Ok(RunOutcome::Done { final_path, .. }) => {
            line.file = final_path.display().to_string();
            // The row's A/B variants, when its brief asks for them.
            match p.make_variants(&session, &dir, |_| {}).await {
                Ok(rows) if rows.iter().all(|r| r.status == "done") => "done".into(),
                Ok(rows) => format!("failed: variant(s) {} not made", rows.iter().filter(|r| r.status != "done").map(|r| r.variant.as_str()).collect::<Vec<_>>().join(", ")),
                Err(e) => format!("failed: variants: {e}"),
            }
        }
        Ok(RunOutcome::Paused { gate, .. }) => format!("paused: {gate:?}"),
        Err(PipelineError::Cancelled(_)) => "stopped".into(),
        Err(e) => format!("failed: {e}"),
    };
    if let Ok(s) = p.load(&session).await {
        line.cost_usd = s.total_cost();
        line.duration_s = s.final_video.as_ref().map(|f| (f.duration_s * 100.0).round() / 100.0);
        line.quality = s.scores.get(&ScoreTarget::Final).and_then(|r| r.score.quality()).map(|q| (q * 10.0).round() / 10.0);
    }
    line
}

async fn new_session(p: &Pipeline, batch: &str, row: &BatchRow) -> Result<String, PipelineError> {
    let (mut brief, files) = row.input.clone().validate(&p.resources)?;
    if files.music.is_some() {
        files.probe(&p.ffmpeg)?;
    }
    brief.assets = files.import(&p.store.blobs)?;
    brief.batch = Some(tag(batch, row));
    p.create_session(brief).await
}

fn report(format: OutputFormat, batch: &str, l: &SummaryRow) {
    match format {
        OutputFormat::Text => eprintln!(
            "row {:>3} {}: {}{}",
            l.row,
            if l.product.is_empty() { "?" } else { &l.product },
            l.status,
            if l.file.is_empty() { String::new() } else { format!(" → {}", l.file) }
        ),
        _ => println!("{}", json!({ "batch": batch, "row": l.row, "session": l.session, "status": l.status, "file": l.file, "duration_s": l.duration_s, "cost_usd": l.cost_usd, "quality": l.quality })),
    }
}

fn print_table(rows: &[SummaryRow]) {
    println!("{:>4}  {:<24}  {:<8}  {:>7}  {:>7}  {:>7}  file", "row", "product", "status", "length", "cost", "quality");
    for r in rows {
        let status: String = r.status.split(':').next().unwrap_or_default().chars().take(8).collect();
        let product: String = r.product.chars().take(24).collect();
        println!(
            "{:>4}  {:<24}  {:<8}  {:>7}  {:>7}  {:>7}  {}",
            r.row,
            product,
            status,
            r.duration_s.map(|d| format!("{d:.1} s")).unwrap_or_else(|| "-".into()),
            format!("${:.2}", r.cost_usd),
            r.quality.map(|q| format!("{q:.0}")).unwrap_or_else(|| "-".into()),
            r.file
        );
    }
}

fn merge(m: BatchMergeArgs) -> Result<(), CliError> {
    let rows = merge_summaries(&m.inputs)?;
    let dest = match m.output {
        Some(f) => f,
        None => {
            let first = &m.inputs[0];
            if first.is_dir() { first.join("summary.csv") } else { first.with_file_name("summary.csv") }
        }
    };
    write_summary(&dest, &rows)?;
    let variants = merge_variants(&m.inputs)?.map(|bytes| {
        let f = dest.with_file_name("variants.csv");
        std::fs::write(&f, bytes).map(|_| f)
    });
    let variants = variants.transpose().map_err(|e| CliError::failed(format!("variants.csv: {e}")))?;
    match m.format {
        OutputFormat::Text => {
            print_table(&rows);
            let done = rows.iter().filter(|r| r.done()).count();
            eprintln!("{} row(s), {done} done → {}", rows.len(), dest.display());
            if let Some(v) = &variants {
                eprintln!("variants of every row → {}", v.display());
            }
        }
        _ => println!("{}", json!({ "rows": rows, "summary": dest, "variants": variants })),
    }
    Ok(())
}
