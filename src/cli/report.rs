//! Live output of a run: progress bars and sentences (text) or JSON lines (jsonl).

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use tokio::sync::broadcast;

use super::OutputFormat;
use crate::domain::SessionState;
use crate::pipeline::narrate::describe_event;
use crate::pipeline::{Gate, Task, Update};

/// Listen to the pipeline and print. Ends when the channel closes or `stop` fires.
pub fn spawn_reporter(
    format: OutputFormat,
    mut rx: broadcast::Receiver<Update>,
    initial: SessionState,
) -> (tokio::task::JoinHandle<()>, tokio::sync::oneshot::Sender<()>) {
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let mut state = initial;
        let mp = MultiProgress::new();
        let mut bars: HashMap<Task, ProgressBar> = HashMap::new();
        let mut last_jsonl: HashMap<Task, u32> = HashMap::new();
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:30.cyan/blue}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        loop {
            let update = tokio::select! {
                u = rx.recv() => u,
                _ = &mut stop_rx => {
                    // Drain what is already queued, then stop.
                    while let Ok(u) = rx.try_recv() { handle_one(format, &u, &mut state, &mp, &mut bars, &mut last_jsonl, &style); }
                    break;
                }
            };
            match update {
                Ok(u) => handle_one(format, &u, &mut state, &mp, &mut bars, &mut last_jsonl, &style),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
        for b in bars.values() {
            b.finish_and_clear();
        }
    });
    (handle, stop_tx)
}

fn line(mp: &MultiProgress, text: &str) {
    let text = &crate::text::for_terminal(text, true);
    if mp.is_hidden() {
        eprintln!("{text}");
    } else {
        let _ = mp.println(text);
    }
}

fn handle_one(
    format: OutputFormat,
    u: &Update,
    state: &mut SessionState,
    mp: &MultiProgress,
    bars: &mut HashMap<Task, ProgressBar>,
    last_jsonl: &mut HashMap<Task, u32>,
    style: &ProgressStyle,
) {
    match (format, u) {
        (OutputFormat::Jsonl, Update::Event { session, envelope }) => {
            let v = json!({ "session": session, "seq": envelope.seq, "at_ms": envelope.at_ms, "event": envelope.event });
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
        (OutputFormat::Jsonl, Update::Progress { session, task, fraction }) => {
            // Whole 10% steps only: scripts want signal, not noise.
            let step = (fraction * 10.0).floor() as u32;
            if last_jsonl.get(task) != Some(&step) {
                last_jsonl.insert(*task, step);
                println!("{}", json!({ "session": session, "progress": { "task": task.label(), "fraction": fraction } }));
            }
        }
        (OutputFormat::Jsonl, Update::Note { session, text }) => println!("{}", json!({ "session": session, "note": text })),
        (OutputFormat::Jsonl, Update::Waiting { session, gate: Gate::Animatic(path) }) => {
            println!("{}", json!({ "session": session, "waiting": "Animatic", "path": path }))
        }
        (OutputFormat::Jsonl, Update::Waiting { session, gate }) => println!("{}", json!({ "session": session, "waiting": format!("{gate:?}") })),
        (_, Update::Waiting { .. } | Update::Finished { .. }) => {}
        (OutputFormat::Text, Update::Event { envelope, .. }) => {
            let said = describe_event(&envelope.event, state);
            state.apply(envelope);
            if let Some(t) = said {
                line(mp, &t);
            }
            if let crate::domain::Event::ClipRendered { clip } = &envelope.event {
                if let Some(b) = bars.remove(&Task::Clip(clip.scene_id)) {
                    b.finish_and_clear();
                }
            }
            if let crate::domain::Event::ClipFailed { scene_id, .. } = &envelope.event {
                if let Some(b) = bars.remove(&Task::Clip(*scene_id)) {
                    b.abandon_with_message("failed");
                }
            }
        }
        (OutputFormat::Text, Update::Progress { task, fraction, .. }) => {
            if *fraction >= 1.0 && !bars.contains_key(task) {
                return;
            }
            let bar = bars.entry(*task).or_insert_with(|| {
                let b = mp.add(ProgressBar::new(1000));
                b.set_style(style.clone());
                b.set_prefix(task.label());
                b
            });
            bar.set_position((fraction * 1000.0) as u64);
            if *fraction >= 1.0 {
                if let Some(b) = bars.remove(task) {
                    b.finish_and_clear();
                }
            }
        }
        (OutputFormat::Text, Update::Note { text, .. }) => line(mp, &format!("  {text}")),
        (OutputFormat::Json, _) => {}
    }
}
