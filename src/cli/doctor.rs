use super::args::DoctorArgs;
use super::CliError;
use crate::config::{sample_prompt_vars, Paths, Resources, Settings, PROMPT_NAMES};
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
    let settings = match Settings::load(&paths.config_file) {
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
        Ok(store) => {
            let n = store.session_ids().map(|v| v.len()).unwrap_or(0);
            all &= check(true, "data dir", &format!("{} ({n} sessions, {} cached results)", paths.data_dir.display(), store.cache_len()));
        }
        Err(e) => all &= check(false, "data dir", &e.to_string()),
    }
    all &= check(true, "log file", &paths.state_dir.join("admint.log").display().to_string());
    let res = Resources::new(&paths.config_dir);
    let vars = sample_prompt_vars(&res);
    for name in PROMPT_NAMES {
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
        let p = &settings.providers;
        let r = ProviderSet::from_settings(&settings, &ff);
        all &= check(r.is_ok(), "providers", &r.err().map(|e| e.to_string()).unwrap_or_else(|| format!("writer={} image={} video={} vision={} speech={} scoring={}", p.writer, p.image, p.video, p.vision, p.speech, settings.scoring.backend)));
    }
    if all {
        println!("\nadmint is ready: `admint generate --prompt \"…\" --auto` makes an advert offline.");
        Ok(())
    } else {
        Err(CliError::failed("some checks failed (see above)"))
    }
}
