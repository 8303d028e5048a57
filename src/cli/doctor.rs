//! `admint doctor`: checks ffmpeg and its filters, the data dir, the config, every prompt
//! and template, and each role's chain (keys, prices, reachability).

use super::args::DoctorArgs;
use super::CliError;
use crate::config::{sample_prompt_vars, Paths, Resources, Settings, MEDIA_PROMPT_NAMES, PROMPT_NAMES};
use crate::media::Ffmpeg;
use crate::providers::ProviderSet;
use crate::store::Store;

fn check(ok: bool, what: &str, detail: &str) -> bool {
    println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    ok
}

pub async fn doctor(a: DoctorArgs) -> Result<(), CliError> {
    if a.install_ffmpeg {
        return Err(CliError::usage(
            "this build of admint does not download ffmpeg; install it from your package manager (Debian/Ubuntu: apt-get install -y ffmpeg; macOS: brew install ffmpeg) or point ADMINT_FFMPEG at a binary",
        ));
    }
    let paths = Paths::from_env();
    let mut all = true;
    match Ffmpeg::locate() {
        Ok(ff) => {
            all &= check(true, "ffmpeg", &format!("{} ({})", ff.ffmpeg.display(), ff.version().unwrap_or_default()));
            all &= check(true, "ffprobe", &ff.ffprobe.display().to_string());
            for f in ["drawtext", "gradients", "concat", "amix", "flite"] {
                let ok = ff.has_filter(f);
                let need = f != "flite";
                all &= check(ok || !need, &format!("filter {f}"), if ok { "present" } else if need { "missing: install a full ffmpeg build" } else { "missing (only needed for the offline voiceover)" });
            }
        }
        Err(e) => all &= check(false, "ffmpeg", &e.to_string()),
    }
    let settings = match Settings::load_for(&paths) {
        Ok(s) => {
            all &= check(true, "config", &format!("{} ({})", paths.config_file.display(), if paths.config_file.exists() { "loaded" } else { "not present: defaults" }));
            s
        }
        Err(e) => {
            all &= check(false, "config", &e.to_string());
            Settings::default()
        }
    };
    match Store::open(&paths.data_dir) {
        Ok(store) if store.damage().is_some() => {
            all &= check(false, "data dir", &format!("the database at {} is damaged ({}): run `admint store check`, then `admint store repair`", store.path().display(), store.damage().unwrap_or("")));
        }
        Ok(store) => {
            let n = store.session_ids().map(|v| v.len()).unwrap_or(0);
            all &= check(true, "data dir", &format!("{} ({n} sessions, {} cached results)", paths.data_dir.display(), store.cache_len()));
        }
        Err(e) => all &= check(false, "data dir", &e.to_string()),
    }
    all &= check(true, "log file", &paths.state_dir.join("admint.log").display().to_string());
    let res = Resources::new(&paths.config_dir);
    let vars = sample_prompt_vars(&res);
    for name in PROMPT_NAMES.iter().chain(&MEDIA_PROMPT_NAMES) {
        let origin = res.prompt_source(name).map(|(_, o)| o).unwrap_or_default();
        match res.render_prompt(name, &vars) {
            Ok(_) => all &= check(true, &format!("prompt {name}"), &origin),
            Err(e) => all &= check(false, &format!("prompt {name}"), &e.to_string()),
        }
    }
    for id in res.template_ids() {
        let r = res.ad_template(&id);
        all &= check(r.is_ok(), &format!("template {id}"), &r.err().map(|e| e.to_string()).unwrap_or_else(|| "ok".into()));
    }
    if let Ok(ff) = Ffmpeg::locate() {
        let r = ProviderSet::with_config_dir(&settings, &ff, &paths.config_dir);
        all &= check(r.is_ok(), "providers", &r.err().map(|e| e.to_string()).unwrap_or_else(|| format!("scoring={}", settings.scoring.backend)));
    }
    all &= check_chains(&settings, &res).await;
    if all {
        println!("\nadmint is ready: `admint generate --prompt \"…\" --auto` {}.", what_a_run_uses(&settings));
        Ok(())
    } else {
        Err(CliError::failed("some checks failed (see above)"))
    }
}

/// What a run would use, in words: "makes an advert offline", or which roles go to
/// which backends first.
fn what_a_run_uses(settings: &Settings) -> String {
    use crate::config::{ChainEntry, ROLES};
    let remote: Vec<String> = ROLES
        .iter()
        .filter_map(|role| {
            let first = settings.chain(role).into_iter().next()?;
            matches!(ChainEntry::parse(&first), Ok(ChainEntry::Remote { .. })).then(|| format!("{role} on {first}"))
        })
        .collect();
    if remote.is_empty() {
        "makes an advert offline".into()
    } else {
        format!("makes an advert with {} (the rest offline)", remote.join(", "))
    }
}

/// Each role's chain; for remote entries, the key, the price and whether the backend
/// answers.
async fn check_chains(settings: &Settings, res: &Resources) -> bool {
    use crate::config::{ChainEntry, ROLES};
    use crate::providers::pricing::PriceBook;
    use crate::providers::remote::{Backend, InputBook};
    use std::sync::Arc;
    let prices = Arc::new(PriceBook::new(&settings.prices));
    let inputs = Arc::new(InputBook::new(settings));
    let mut all = true;
    let mut checked = std::collections::BTreeMap::new();
    // Each ComfyUI box's `/object_info`, read once.
    let mut boxes: std::collections::BTreeMap<String, serde_json::Value> = std::collections::BTreeMap::new();
    for role in ROLES {
        let chain = settings.chain(role);
        all &= check(true, &format!("role {role}"), &if chain.is_empty() { "none".to_string() } else { chain.join(" → ") });
        for entry in chain {
            let Ok(ChainEntry::Remote { backend, model }) = ChainEntry::parse(&entry) else { continue };
            let b = match Backend::open(&backend, settings, prices.clone(), inputs.clone()) {
                Ok(b) => b,
                Err(e) => {
                    all &= check(false, &format!("  {entry}"), &e.to_string());
                    continue;
                }
            };
            if b.paid() {
                let priced = b.price(&model).is_some();
                // An unknown price is only a warning: without a budget the run goes on.
                check(priced, &format!("  {entry} price"), if priced { "known" } else { "unknown: add [prices.\"…\"] so a budget can cap it" });
            }
            if !checked.contains_key(&backend) {
                let r = b.check().await;
                checked.insert(backend.clone(), r.is_ok());
                all &= check(r.is_ok(), &format!("  backend {backend}"), &r.unwrap_or_else(|e| e));
            }
            if checked.get(&backend) == Some(&true) && b.kind == crate::config::BackendKind::ComfyUi {
                use crate::providers::remote::comfyui::{object_info, workflow_problems};
                let info = match boxes.get(&backend) {
                    Some(info) => Ok(info),
                    None => object_info(&b).await.map(|info| &*boxes.entry(backend.clone()).or_insert(info)),
                };
                match (res.comfy_workflow(&model), info) {
                    (Err(e), _) => all &= check(false, &format!("  {entry}"), &e),
                    (Ok(_), Err(e)) => all &= check(false, &format!("  {entry}"), &format!("cannot read the box's nodes and models ({e})")),
                    (Ok((wf, origin)), Ok(info)) => {
                        let problems = workflow_problems(&wf, info);
                        all &= check(problems.is_empty(), &format!("  {entry}"), &if problems.is_empty() { format!("workflow ({origin}): every node and model file is on the box") } else { problems.join("; ") });
                    }
                }
            }
            if checked.get(&backend) == Some(&true) && b.kind == crate::config::BackendKind::OpenAi {
                use crate::providers::remote::openai::{is_served, served_models};
                match served_models(&b).await {
                    Ok(served) if is_served(&model, &served) => all &= check(true, &format!("  {entry}"), "served"),
                    Ok(served) => {
                        let list = if served.is_empty() { "none".to_string() } else { served.join(", ") };
                        all &= check(false, &format!("  {entry}"), &format!("{backend} does not serve a model named {model} (it lists: {list})"));
                    }
                    // Some compatible servers have no model list: not a failure.
                    Err(e) => {
                        check(false, &format!("  {entry}"), &format!("cannot list {backend}'s models ({e}); the name is checked at the first call"));
                    }
                }
            }
        }
    }
    all
}
