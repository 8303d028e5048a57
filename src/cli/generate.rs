//! `admint generate` and `admint resume`: a brief from flags or a file, the dry run, and
//! driving a session to its end or a gate with the chosen decider and output format.

use std::io::IsTerminal;
use std::path::Path;

use super::args::{GenerateArgs, ResumeArgs, RunArgs};
use super::interactive::StdinDecider;
use super::report::spawn_reporter;
use super::{AppEnv, CliError, OutputFormat};
use crate::config::{Paths, Resources, Settings};
use crate::domain::{Command, SessionState};
use crate::pipeline::{manifest, AutoDecider, BriefInput, Decider, Gate, Pipeline, RunOutcome};

fn brief_input(a: &GenerateArgs) -> Result<BriefInput, CliError> {
    let flags = BriefInput {
        prompt: a.prompt.clone(),
        product_name: a.product_name.clone(),
        call_to_action: a.cta.clone(),
        audience: a.audience.clone(),
        tone: a.tone.clone(),
        language: a.language.clone(),
        framework: a.framework.clone(),
        template: a.template.clone(),
        aspect: a.aspect.clone(),
        duration_s: a.duration,
        product_images: a.product_images.clone(),
        logo: a.logo.clone(),
        character_images: a.character_images.clone(),
        music: a.music.clone(),
        budget_usd: a.budget,
        seed: a.seed,
        transition: a.transition.clone(),
        look: a.look.clone(),
        voice: a.voice.clone(),
        words_per_second: a.wps,
        captions: a.captions.clone(),
        caption_style: a.caption_style.clone(),
        url: a.url.clone(),
        price: a.price.clone(),
        typeface: a.typeface.clone(),
        animatic: a.no_animatic.then_some(false),
        variants: a.variants.clone(),
        candidates: a.candidates,
    };
    Ok(match &a.brief {
        Some(file) => BriefInput::from_toml_file(file)?.overlay(flags),
        None => flags,
    })
}

/// Make sure the output folder can be written before any work starts.
fn check_output_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::usage(format!("output dir {}: {e}", dir.display())))?;
    let probe = dir.join(format!(".admint-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| CliError::usage(format!("output dir {} is not writable: {e}", dir.display())))
}

fn dry_run(brief: &crate::domain::Brief, settings: &Settings, format: OutputFormat) -> Result<(), CliError> {
    let render = crate::pipeline::render_spec(&settings.render, brief);
    let scenes = crate::pipeline::expected_scenes(render.scenes_s(brief.duration_s));
    let (w, h) = (render.width, render.height);
    let ff = crate::media::Ffmpeg::locate().map_err(|e| CliError::usage(e.to_string()))?;
    let providers = crate::providers::ProviderSet::from_settings(settings, &ff).map_err(|e| CliError::usage(e.to_string()))?;
    let est = crate::pipeline::estimate(&providers, settings, brief, None);
    let cost = est.total();
    let chains: serde_json::Map<String, serde_json::Value> = crate::config::ROLES.iter().map(|r| (r.to_string(), serde_json::json!(settings.chain(r)))).collect();
    let over = brief.budget_usd.is_some_and(|b| cost > b + 1e-9);
    let plan = serde_json::json!({
        "dry_run": true,
        "brief": brief,
        "stages": ["story (director + critic)", "references (3)", "scenes (writer + critic + cohesion)",
                   format!("keyframes (~{scenes}), voice lines and the music bed"),
                   if brief.animatic.unwrap_or(settings.pipeline.animatic) { "animatic (the keyframes moving with text, voice and music at 480p, $0; approved before the clips)".to_string() } else { "no animatic".to_string() },
                   format!("clips (~{scenes}, {} at a time)", settings.pipeline.clip_concurrency),
                   "compose (transitions, look, mix at the loudness target)".to_string(), "scoring".to_string(),
                   match brief.variants.as_deref().map(crate::domain::VariantAxes::parse) {
                       Some(Ok(axes)) => format!("variants: {} (each a session sharing the advert's story and every clip it can)", axes.len(1)),
                       _ => "no variants".to_string(),
                   }],
        "render": { "width": w, "height": h, "fps": settings.render.fps,
                    "length_s": render.total_s(render.scenes_s(brief.duration_s)),
                    "intro_s": render.intro_s, "outro_s": render.outro_s },
        "roles": chains,
        "scoring": settings.scoring.backend,
        "estimate": est.lines,
        "estimated_cost_usd": cost,
        "unpriced_models": est.unpriced(),
        "budget_usd": brief.budget_usd,
        "within_budget": !over,
    });
    match format {
        OutputFormat::Text => {
            println!("Dry run — nothing is generated or written.");
            println!("  {} ({}, {}, {:.0} s with its cards, {}x{} @ {} fps)", brief.product_name, brief.framework, brief.template, brief.duration_s, w, h, settings.render.fps);
            for s in plan["stages"].as_array().into_iter().flatten() {
                println!("  - {}", s.as_str().unwrap_or_default());
            }
            for r in crate::config::ROLES {
                let c = settings.chain(r);
                println!("  {r}: {}", if c.is_empty() { "none".to_string() } else { c.join(" → ") });
            }
            for l in &est.lines {
                let usd = l.usd.map(|u| format!("${u:.2}")).unwrap_or_else(|| "price unknown".into());
                println!("  cost: {} × {} on {}: {usd}", l.calls, l.what, l.model);
            }
            println!("  estimated cost: ${cost:.2}{}", brief.budget_usd.map(|b| format!(" of ${b:.2} budget")).unwrap_or_default());
            if over {
                println!("  over budget: a run would stop before submitting anything");
            }
        }
        _ => println!("{}", serde_json::to_string_pretty(&plan).unwrap_or_default()),
    }
    Ok(())
}

pub async fn generate(a: GenerateArgs) -> Result<(), CliError> {
    let input = brief_input(&a)?;
    let paths = Paths::from_env();
    let settings = Settings::load_for(&paths).map_err(|e| CliError::usage(e.to_string()))?;
    let (mut brief, files) = input.validate(&Resources::new(&paths.config_dir))?;
    if files.music.is_some() {
        let ffmpeg = crate::media::Ffmpeg::locate().map_err(|e| CliError::usage(e.to_string()))?;
        files.probe(&ffmpeg)?;
    }
    if a.dry_run {
        return dry_run(&brief, &settings, a.run.format);
    }
    if let Some(dir) = &a.run.output {
        check_output_dir(dir)?;
    }
    let env = AppEnv::open()?;
    let pipeline = env.pipeline()?;
    brief.assets = files.import(&env.store.blobs)?;
    let session = pipeline.create_session(brief).await?;
    drive(&pipeline, &session, &a.run).await
}

pub async fn resume(a: ResumeArgs) -> Result<(), CliError> {
    if let Some(dir) = &a.run.output {
        check_output_dir(dir)?;
    }
    let env = AppEnv::open()?;
    let pipeline = env.pipeline()?;
    let state = pipeline.load(&a.id).await?;
    if a.retry_failed {
        for id in state.clip_failures.keys() {
            pipeline.command(&a.id, &Command::RetryClip { scene_id: *id }).await?;
        }
    }
    if let Some(usd) = a.budget {
        if !usd.is_finite() || usd < 0.0 {
            return Err(CliError::usage(format!("budget {usd} is not a positive amount of US dollars (0 removes the limit)")));
        }
        pipeline.command(&a.id, &Command::SetBudget { usd: (usd > 0.0).then_some(usd) }).await?;
    }
    drive(&pipeline, &a.id, &a.run).await
}

fn report_variant(format: OutputFormat, r: &crate::pipeline::VariantRow) {
    match format {
        OutputFormat::Text => eprintln!("{}", r.describe()),
        OutputFormat::Jsonl => println!("{}", serde_json::json!({ "variant": r })),
        OutputFormat::Json => {}
    }
}

/// Run a session to its end (or a gate) with the chosen decider and output format.
async fn drive(p: &Pipeline, session: &str, run: &RunArgs) -> Result<(), CliError> {
    let mut decider: Box<dyn Decider> = if run.interactive {
        Box::new(StdinDecider { parser: p.intent_parser() })
    } else {
        Box::new(AutoDecider { retry_failed: false })
    };
    let output = run.output.clone().unwrap_or_else(|| Pipeline::default_output(session));
    let initial = p.load(session).await?;
    if run.format == OutputFormat::Text {
        eprintln!("session {session}{}", if initial.last_seq > 1 { " (resuming)" } else { "" });
    }
    let (reporter, stop_reporter) = spawn_reporter(run.format, p.subscribe(), SessionState::default());
    // A new session's first event was broadcast before we subscribed: replay it.
    if run.format != OutputFormat::Json && initial.last_seq <= 1 {
        p.announce(session).map_err(|e| CliError::failed(e.to_string()))?;
    }
    let stopper = p.clone();
    let mut signals = crate::signals::StopSignals::new(true).map_err(|e| CliError::failed(format!("cannot listen for signals: {e}")))?;
    let stop_on_signal = tokio::spawn(async move {
        let sig = signals.recv().await;
        tracing::info!(signal = sig.name(), "stopping on a signal");
        if sig == crate::signals::Stop::Hangup {
            crate::signals::detach_from_terminal();
        } else {
            eprintln!("stopping ({}): waiting for running work to end…", sig.name());
        }
        stopper.stop();
        // Listening goes on, so a second signal cannot kill the stop half-way.
        loop {
            signals.recv().await;
        }
    });
    let result = p.run(session, decider.as_mut(), Some(&output)).await;
    let _ = stop_reporter.send(());
    let _ = reporter.await;
    // The A/B variants the brief asks for, once the advert itself is made.
    let variants = match &result {
        Ok(RunOutcome::Done { .. }) if initial.brief().variants.is_some() => Some(p.make_variants(session, &output, |row| report_variant(run.format, row)).await),
        _ => None,
    };
    stop_on_signal.abort();
    let state = p.load(session).await?;
    let print_json = |status: &str| {
        if run.format == OutputFormat::Json {
            let events = p.store.events(session).unwrap_or_default();
            let mut m = manifest(&state, &events, &p.ffmpeg.version().unwrap_or_default());
            m["status"] = serde_json::Value::String(status.to_string());
            if let RunOutcome::Done { final_path, .. } = result.as_ref().unwrap_or(&RunOutcome::Paused { session: String::new(), gate: Gate::Story }) {
                m["final_path"] = serde_json::Value::String(final_path.display().to_string());
            }
            println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
        }
    };
    match &result {
        Ok(RunOutcome::Done { final_path, .. }) => {
            if run.stems {
                let (p2, st, dir) = (p.clone(), state.clone(), output.clone());
                let stems = tokio::task::spawn_blocking(move || crate::pipeline::write_stems(&p2, &st, &dir))
                    .await
                    .map_err(|e| CliError::failed(e.to_string()))??;
                if run.format == OutputFormat::Text {
                    for s in stems {
                        eprintln!("stem: {}", s.display());
                    }
                }
            }
            print_json("done");
            if run.format == OutputFormat::Text {
                let tty = std::io::stdout().is_terminal();
                println!("{}{}", if tty { "✓ advert ready: " } else { "" }, final_path.display());
            }
            match variants.transpose()? {
                Some(rows) if rows.iter().any(|r| r.status != "done") => {
                    let not: Vec<&str> = rows.iter().filter(|r| r.status != "done").map(|r| r.variant.as_str()).collect();
                    Err(CliError::failed(format!("variant(s) {} not made; continue with `admint resume {session}`", not.join(", "))))
                }
                Some(rows) if run.format == OutputFormat::Text => {
                    eprintln!("{} variant(s): {}", rows.len(), output.join("variants.csv").display());
                    Ok(())
                }
                _ => Ok(()),
            }
        }
        Ok(RunOutcome::Paused { gate, .. }) => {
            print_json("paused");
            // Nothing was made for the output folder yet: leave no empty folder behind.
            if std::fs::read_dir(&output).is_ok_and(|mut d| d.next().is_none()) {
                let _ = std::fs::remove_dir(&output);
            }
            let why = match gate {
                Gate::FailedClips(f) => format!("{} clip(s) failed; retry with `admint resume {session} --retry-failed` or edit their scenes", f.len()),
                Gate::Budget(why) => format!("{why}; raise the budget and go on with `admint resume {session} --budget USD`"),
                Gate::Animatic(path) => format!(
                    "the animatic is ready to watch ({}); approve it and render the clips with `admint resume {session} --interactive` (or --auto)",
                    path.display()
                ),
                _ => format!("waiting for your answer; continue with `admint resume {session} --interactive` (or --auto)"),
            };
            Err(CliError::failed(format!("session {session} paused: {why}")))
        }
        Err(e) => {
            print_json("failed");
            Err(CliError { code: crate::app_env::exit_code(e), message: format!("session {session}: {e}") })
        }
    }
}
