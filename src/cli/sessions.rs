//! `admint sessions`: list, show (storyboard or raw events), remove and export sessions.

use std::io::{BufRead, Write};

use super::args::{SessionsArgs, SessionsCommand};
use super::{AppEnv, CliError, OutputFormat};
use crate::domain::{ScoreTarget, SessionState};
use crate::pipeline::narrate::{describe_event, describe_score, format_time, status};
use crate::pipeline::{manifest, storyboard};

pub async fn sessions(a: SessionsArgs) -> Result<(), CliError> {
    let env = AppEnv::open()?;
    match a.command {
        SessionsCommand::List { format } => {
            let pipeline = env.pipeline()?;
            let rows = pipeline.session_summaries().map_err(|e| CliError::failed(e.to_string()))?;
            if format != OutputFormat::Text {
                let list: Vec<_> = rows.iter().map(|r| match &r.error {
                    None => serde_json::json!({ "id": r.id, "title": r.title, "status": r.status,
                        "created_at_ms": r.created_at_ms, "cost_usd": r.cost_usd, "final": r.final_video, "store_damage": r.damage, "group": r.group }),
                    Some(e) => serde_json::json!({ "id": r.id, "error": e }),
                }).collect();
                println!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
                return Ok(());
            }
            if rows.is_empty() {
                println!("no sessions yet — start one with `admint generate --prompt \"…\" --auto`");
            }
            println!("{:<23} {:<24} {:<16} {:>7} {:>6}  status", "id", "title", "created", "cost", "score");
            for r in &rows {
                match &r.error {
                    None => {
                        let score = r.score.map(|q| format!("{q:.1}{}", if r.score_stale { "?" } else { "" })).unwrap_or_else(|| "—".into());
                        println!("{:<23} {:<24} {:<16} {:>7} {:>6}  {}", r.id, crate::text::clip_for_terminal(&r.label(), 24), format_time(r.created_at_ms), format!("${:.2}", r.cost_usd), score, r.status);
                        if let Some(d) = &r.damage {
                            println!("{:<23} ! store: {d}", "");
                        }
                    }
                    Some(e) => println!("{:<23} unreadable: {e}", r.id),
                }
            }
            if let Some(why) = env.store.damage() {
                eprintln!("admint: the database does not open ({why}); these sessions were read from their journals — run `admint store repair`");
            } else if rows.iter().any(|r| r.damage.is_some()) {
                eprintln!("admint: the store is damaged (marked !); every session above was read from its intact copy — run `admint store repair`");
            }
            Ok(())
        }
        SessionsCommand::Show { id, events, format } => {
            let evs = env.store.events(&id).map_err(|e| CliError::usage(e.to_string()))?;
            let state = SessionState::fold(&evs);
            if events {
                // Each event in the words of the session as it was then.
                let mut then = SessionState::default();
                for e in &evs {
                    match format {
                        OutputFormat::Text => println!("#{:<4} {}  {:<22} {}", e.seq, format_time(e.at_ms), e.event.kind(), crate::text::for_terminal(&describe_event(&e.event, &then).unwrap_or_default(), false)),
                        _ => println!("{}", serde_json::to_string(e).unwrap_or_default()),
                    }
                    then.apply(e);
                }
                return Ok(());
            }
            if format != OutputFormat::Text {
                println!("{}", serde_json::to_string_pretty(&manifest(&state, &evs, "")).unwrap_or_default());
                return Ok(());
            }
            let pipeline = env.pipeline()?;
            println!("{}", crate::text::for_terminal(&storyboard(&state), true));
            println!("## Status: {}\n", status(&state, &pipeline.rules()));
            for s in &state.scenes {
                let n = state.scene_number(s.id).unwrap_or(0);
                let clip = match (state.clips.get(&s.id), state.clip_failures.get(&s.id)) {
                    (_, Some(f)) => format!("failed: {}", f.error),
                    (Some(c), _) => format!("{:.1}s {}", c.duration_s, env.store.blobs.path(&c.video).display()),
                    _ => "not rendered".into(),
                };
                let score = state.scores.get(&ScoreTarget::Clip(s.id)).map(|r| describe_score(&r.score)).unwrap_or_default();
                println!("clip {n}: {clip} {score}");
            }
            if let Some(f) = &state.final_video {
                println!("final: {:.2}s {}x{} {}", f.duration_s, f.width, f.height, env.store.blobs.path(&f.video).display());
            }
            Ok(())
        }
        SessionsCommand::Rm { id, yes } => {
            if !env.store.session_exists(&id).map_err(|e| CliError::failed(e.to_string()))? {
                return Err(CliError::usage(format!("session {id} does not exist")));
            }
            if !yes {
                eprint!("delete session {id}? [y/N] ");
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().lock().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    return Err(CliError::usage("not deleted"));
                }
            }
            env.store.remove_session(&id).map_err(|e| CliError::failed(e.to_string()))?;
            println!("deleted {id}");
            Ok(())
        }
        SessionsCommand::Export { id, dir } => {
            let pipeline = env.pipeline()?;
            let x = pipeline.export(&id, &dir).await?;
            println!("exported {id} to {}{}", x.dir.display(), if x.with_final { "" } else { " (no final video yet)" });
            Ok(())
        }
    }
}
