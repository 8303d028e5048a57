//! The `admint` binary: exit codes, bad input, output formats, kill -9 and resume.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn admint(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_admint"));
    c.env("ADMINT_DATA_DIR", root.join("data"))
        .env("ADMINT_STATE_DIR", root.join("state"))
        .env("ADMINT_CONFIG_DIR", root.join("config"))
        .env("ADMINT_PROFILE", "test")
        .current_dir(root)
        .stdin(Stdio::null());
    c
}

fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let o = admint(root).args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

/// One frame of a video at `t` seconds, decoded.
fn frame_at(video: &Path, t: f64, png: &Path) -> image::RgbImage {
    let ff = admint::media::Ffmpeg::locate().unwrap();
    let ok = Command::new(&ff.ffmpeg).args(["-v", "error", "-y", "-ss", &t.to_string(), "-i"]).arg(video).args(["-frames:v", "1"]).arg(png).status().unwrap();
    assert!(ok.success());
    image::open(png).unwrap().to_rgb8()
}

fn sessions_count(root: &Path) -> usize {
    let (code, out, _) = run(root, &["sessions", "list", "--format", "json"]);
    assert_eq!(code, 0);
    serde_json::from_str::<Vec<serde_json::Value>>(&out).unwrap().len()
}

#[test]
fn bad_input_exits_2_with_a_clear_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("notes.png"), b"this is text, not a picture").unwrap();
    std::fs::write(root.join("song.mp3"), b"not music at all\n").unwrap();
    let long = "x".repeat(5001);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--prompt", "   "], "prompt is empty"),
        (vec!["--prompt", &long], "5001 characters"),
        (vec!["--prompt", "shoes", "--product-image", "missing.png"], "missing.png"),
        (vec!["--prompt", "shoes", "--product-image", "notes.png"], "not an image"),
        (vec!["--prompt", "shoes", "--framework", "xyz"], "unknown framework"),
        (vec!["--prompt", "shoes", "--template", "nope"], "unknown template"),
        (vec!["--prompt", "shoes", "--aspect", "4:3"], "unknown aspect"),
        (vec!["--prompt", "shoes", "--duration", "-5"], "out of range"),
        (vec!["--prompt", "shoes", "--duration", "100000"], "out of range"),
        (vec!["--prompt", "shoes", "--budget", "-1"], "budget"),
        (vec!["--prompt", "shoes", "--output", "/proc/admint-cannot-write"], "output dir"),
        (vec!["--prompt", "shoes", "--music", "song.mp3"], "is not audio ffmpeg can read"),
        (vec!["--prompt", "shoes", "--music", "song.mp3", "--dry-run"], "is not audio ffmpeg can read"),
        (vec!["--prompt", "shoes", "--music", "notes.png"], "has no audio stream"),
    ];
    for (args, needle) in cases {
        let mut full = vec!["generate", "--auto"];
        full.extend(args.iter());
        let (code, _, err) = run(root, &full);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: expected '{needle}' in: {err}");
    }
    // Nothing half-written: no session was created by any of them.
    assert_eq!(sessions_count(root), 0);
    let (code, _, _) = run(root, &["generate", "--bogus-flag"]);
    assert_eq!(code, 2);
}

#[test]
fn a_named_config_file_that_is_missing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let o = admint(root).env("ADMINT_CONFIG", root.join("nope.toml")).args(["generate", "--auto", "--prompt", "shoes", "--dry-run"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nope.toml") && err.contains("does not exist"), "{err}");
    // The default config file may be absent: then the defaults apply.
    let (code, _, err) = run(root, &["generate", "--auto", "--prompt", "shoes", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_big_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.png");
    // 16385 x 1: over the side limit, tiny on disk.
    image::RgbImage::new(16385, 1).save(&big).unwrap();
    let (code, _, err) = run(dir.path(), &["generate", "--auto", "--prompt", "shoes", "--logo", big.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("16384"), "{err}");
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(dir.path(), &["generate", "--prompt", "solar lamps", "--dry-run", "--format", "json", "--budget", "5"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["estimated_cost_usd"], 0.0);
    assert!(!dir.path().join("data").exists(), "a dry run must not create the store");
}

#[test]
fn a_locked_store_is_reported_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let _held = admint::store::Store::open(&dir.path().join("data")).unwrap();
    let started = std::time::Instant::now();
    let (code, _, err) = run(dir.path(), &["generate", "--auto", "--prompt", "shoes"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("in use by another admint"), "{err}");
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn generate_json_manifest_aspect_and_a_visible_product_image() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A product photo in a colour nothing else uses: pure green on white.
    let mut img = image::RgbImage::from_pixel(400, 400, image::Rgb([255, 255, 255]));
    for y in 60..340 {
        for x in 100..300 {
            img.put_pixel(x, y, image::Rgb([0, 200, 0]));
        }
    }
    img.save(root.join("product.png")).unwrap();
    let (code, out, err) = run(
        root,
        &["generate", "--prompt", "pink running shoes with white laces for Gen Z runners", "--product-name", "AirRun Pro",
          "--cta", "Shop now: 20% off", "--auto", "--output", "out", "--format", "json", "--aspect", "9:16", "--duration", "6",
          "--product-image", "product.png"],
    );
    assert_eq!(code, 0, "{err}");
    let m: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(m["status"], "done");
    let scenes = m["scenes"].as_array().unwrap();
    assert!(!scenes.is_empty());
    assert_eq!(m["clips"].as_array().unwrap().len(), scenes.len());
    let total: f64 = scenes.iter().map(|s| s["scene"]["duration_s"].as_f64().unwrap()).sum::<f64>() + 0.5 + 0.5;
    let ff = admint::media::Ffmpeg::locate().unwrap();
    let probe = ff.probe(&root.join("out/final.mp4")).unwrap();
    assert_eq!((probe.width, probe.height), (180, 320), "9:16 canvas at the test size");
    assert!((probe.duration_s - total).abs() <= 0.1);
    // The product photo shows in the clips: sample a frame in the middle of scene 1.
    let f = frame_at(&root.join("out/final.mp4"), 1.2, &root.join("f.png"));
    let green = f.pixels().filter(|p| p[1] > 150 && p[0] < 80 && p[2] < 80).count();
    assert!(green * 20 > (f.width() * f.height()) as usize, "product green covers {green} px");

    // `admint show` prints the session's final video frame, a keyframe, or a file.
    let id = m["session_id"].as_str().unwrap();
    for args in [vec!["show", id, "--width", "40"], vec!["show", id, "--scene", "1", "--width", "40"], vec!["show", "product.png", "--width", "20"]] {
        let (code, out, err) = run(root, &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains('▀') || out.contains('▄') || out.contains("\x1b_G") || out.contains("\x1bP"), "{args:?} printed no image");
    }
    let (code, _, err) = run(root, &["show", id, "--scene", "99"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scene 99"), "{err}");
    let (code, _, err) = run(root, &["show", "no-such-thing"]);
    assert_eq!(code, 2);
    assert!(err.contains("neither a file nor a session"), "{err}");
}

#[test]
fn kill_9_during_clips_then_resume_finishes_without_rendering_twice() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/config.toml"), "[pipeline]\nclip_concurrency = 1\n").unwrap();
    let mut child = admint(root)
        .args(["generate", "--prompt", "a cordless vacuum for pet owners", "--auto", "--format", "jsonl", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut session = String::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert!(v["session"].is_string(), "every jsonl line carries the session id");
        session = v["session"].as_str().unwrap().to_string();
        if v["event"]["type"] == "clip_rendered" {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!session.is_empty());

    let (code, _, err) = run(root, &["resume", &session, "--auto", "--output", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(root.join("out/final.mp4").is_file());
    let (_, log, _) = run(root, &["sessions", "show", &session, "--events", "--format", "jsonl"]);
    let events: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut rendered = std::collections::HashMap::new();
    let mut started = std::collections::HashMap::new();
    for e in &events {
        match e["event"]["type"].as_str().unwrap() {
            "clip_rendered" => *rendered.entry(e["event"]["clip"]["scene_id"].as_u64().unwrap()).or_insert(0) += 1,
            "stage_started" => *started.entry(e["event"]["stage"].as_str().unwrap().to_string()).or_insert(0) += 1,
            _ => {}
        }
    }
    assert!(rendered.len() >= 4 && rendered.values().all(|n| *n == 1), "{rendered:?}");
    assert!(started.values().all(|n| *n == 1), "{started:?}");
    assert!(events.iter().any(|e| e["event"]["type"] == "resumed"));
}

/// Processes whose command line mentions `needle` (an ffmpeg left running would).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(cmd);
            }
        }
    }
    found
}

/// Start an advert, send `signal` once the clips are under way, and return the session
/// id, the exit code and what was printed on stderr.
fn signal_during_clips(root: &Path, signal: &str) -> (String, Option<i32>, String) {
    let mut child = admint(root)
        .args(["generate", "--prompt", "a cordless vacuum for pet owners", "--auto", "--format", "jsonl", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut session = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        line.clear();
        session = v["session"].as_str().unwrap().to_string();
        if v["event"]["type"] == "clip_rendered" {
            break;
        }
    }
    let ok = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    // Drain stdout so the child never blocks on a full pipe while it stops.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let out = child.wait_with_output().unwrap();
    (session, out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn sigterm_and_sighup_stop_cleanly_and_the_session_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/config.toml"), "[pipeline]\nclip_concurrency = 1\n").unwrap();
    let data = root.join("data").display().to_string();
    for signal in ["TERM", "HUP"] {
        let (session, code, err) = signal_during_clips(root, signal);
        // A clean stop: an exit code, not death by the signal, and no ffmpeg left behind.
        assert_eq!(code, Some(1), "SIG{signal}: {err}");
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(processes_mentioning(&data), Vec::<String>::new(), "SIG{signal} left processes running");
        if signal == "TERM" {
            assert!(err.contains("stopping (SIGTERM)") && err.contains(&format!("admint resume {session}")), "{err}");
        } else {
            // The terminal is gone after a hangup: nothing is written to it.
            assert!(!err.contains("stopping"), "{err}");
        }
        let (_, log, _) = run(root, &["sessions", "show", &session, "--events", "--format", "jsonl"]);
        assert!(!log.contains("session_failed"), "a stop is not a failure: {log}");
        let (code, _, err) = run(root, &["resume", &session, "--auto", "--output", &format!("out-{signal}")]);
        assert_eq!(code, 0, "{err}");
        assert!(root.join(format!("out-{signal}/final.mp4")).is_file());
    }
}

#[test]
fn interactive_answers_on_stdin_steer_the_run() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut logo = image::RgbaImage::from_pixel(120, 60, image::Rgba([0, 0, 0, 0]));
    for y in 10..50 {
        for x in 10..110 {
            logo.put_pixel(x, y, image::Rgba([255, 220, 0, 255]));
        }
    }
    logo.save(root.join("logo.png")).unwrap();
    let mut child = admint(root)
        .args(["generate", "--prompt", "smart water bottles for hikers", "--product-name", "HydroPeak", "--interactive",
               "--duration", "8", "--output", "out", "--logo", "logo.png"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Story: approve. Scenes: an edit with a colon in the value, a bad edit, then approve.
    // The animatic: a timing change, then approve.
    let answers = "looks good\nedit scene 2 text: Cold: 24 hours\nedit scene 9: nothing\napprove\nedit scene 1 duration: 3\napprove\n";
    child.stdin.take().unwrap().write_all(answers.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Approve the story?") && err.contains("Approve the scenes?"), "{err}");
    assert!(err.contains("scene 9 does not exist"), "a bad answer is explained and asked again: {err}");
    // The animatic is shown (where to play it) before any clip renders, and again after
    // the timing change.
    assert_eq!(err.matches("Approve the animatic before the clips are rendered?").count(), 2, "{err}");
    assert!(err.contains("play it: mpv ") && root.join("out/animatic.mp4").is_file(), "{err}");
    let first_clip = err.find(" rendering\n").expect("clips are narrated");
    assert!(err.rfind("Approve the animatic").unwrap() < first_clip, "the animatic is approved before the clips: {err}");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("out/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenes"][1]["scene"]["on_screen_text"], "Cold: 24 hours");
    assert!(m["brief"]["assets"]["logo"].is_object());
    // The logo sits on the intro card: yellow pixels near the top.
    let f = frame_at(&root.join("out/final.mp4"), 0.25, &root.join("intro.png"));
    let yellow = f.enumerate_pixels().filter(|(_, y, p)| *y < f.height() / 2 && p[0] > 180 && p[1] > 150 && p[2] < 90).count();
    assert!(yellow > 50, "logo visible on the intro card ({yellow} px)");

    // Stdin closed at a gate: the session waits, resumable, exit 1.
    let child = admint(root)
        .args(["generate", "--prompt", "trail socks", "--interactive", "--duration", "6"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("admint resume"), "{err}");
}

#[test]
fn offline_voiceover_is_mixed_in_when_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("config")).unwrap();
    std::fs::write(root.join("config/config.toml"), "[providers]\nspeech = \"offline\"\n").unwrap();
    let (code, _, err) = run(root, &["generate", "--prompt", "noise cancelling headphones", "--auto", "--duration", "6", "--output", "out"]);
    assert_eq!(code, 0, "{err}");
    // The audio track is not silent: measure its peak level.
    let ff = admint::media::Ffmpeg::locate().unwrap();
    let o = Command::new(&ff.ffmpeg)
        .args(["-hide_banner", "-i"])
        .arg(root.join("out/final.mp4"))
        .args(["-map", "0:a", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    let max: f64 = log.lines().find_map(|l| l.split("max_volume:").nth(1)).and_then(|v| v.trim().trim_end_matches(" dB").parse().ok()).expect("volumedetect output");
    assert!(max > -40.0, "voiceover audible, max {max} dB");
}

#[test]
fn escape_sequences_in_a_prompt_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let prompt = "\u{1b}[2J\u{1b}]0;pwned\u{7}pink \u{1b}[31mrunning\u{1b}[0m shoes \u{9b}2J for runners";
    let (code, out, err) = run(root, &["generate", "--prompt", prompt, "--auto", "--duration", "4", "--output", "out"]);
    assert_eq!(code, 0, "{err}");
    let (_, list, list_err) = run(root, &["sessions", "list"]);
    let id = list.lines().nth(1).and_then(|l| l.split_whitespace().next()).unwrap_or_else(|| panic!("no session in {list}")).to_string();
    let (_, show, show_err) = run(root, &["sessions", "show", &id]);
    let (_, events, _) = run(root, &["sessions", "show", &id, "--events"]);
    let log = std::fs::read_to_string(root.join("state/admint.log")).unwrap_or_default();
    for (what, text) in [("generate", &out), ("generate's stderr", &err), ("sessions list", &list), ("its stderr", &list_err), ("sessions show", &show), ("its stderr", &show_err), ("the events", &events), ("the log", &log)] {
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{9b}'), "{what} prints a raw control character: {text:?}");
    }
    // Shown, not obeyed.
    assert!(show.contains("\\e[2J"), "{show}");
}

/// Every session's events in the store under `root` (after the processes ended).
fn all_events(root: &Path) -> Vec<(String, Vec<admint::domain::EventEnvelope>)> {
    let store = admint::store::Store::open(&root.join("data")).unwrap();
    store.session_ids().unwrap().into_iter().map(|id| (id.clone(), store.events(&id).unwrap())).collect()
}

#[test]
fn a_sharded_batch_killed_mid_way_resumes_and_merges_with_no_clip_rendered_twice() {
    use admint::domain::Event;
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let mut csv = String::from("name,prompt,cta,duration,animatic\n");
    for i in 1..=20 {
        // Quotes, commas and colons in cells; half the rows with an animatic.
        csv.push_str(&format!("Lamp {i},\"a desk lamp, model {i}: warm \"\"{i}\"\" light\",Shop now,3,{}\n", if i % 2 == 0 { "yes" } else { "no" }));
    }
    std::fs::write(r.join("lamps.csv"), csv).unwrap();

    // Shard 0 of 2 (rows 1, 3, 5, …), killed (SIGKILL) once three adverts are made.
    let mut child = admint(r).args(["batch", "lamps.csv", "--shard", "0/2", "-o", "out", "--format", "jsonl"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut done = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["status"] == "done" {
            done += 1;
            if done == 3 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(done, 3, "three adverts were made before the kill");
    let sessions_before = all_events(r).len();
    assert!((3..10).contains(&sessions_before), "killed mid-way: {sessions_before} sessions");

    // The same command resumes the shard; then the other shard; then the merge.
    let (code, _, err) = run(r, &["batch", "lamps.csv", "--shard", "0/2", "-o", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resumed"), "{err}");
    let (code, table, err) = run(r, &["batch", "lamps.csv", "--shard", "1/2", "-o", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(table.contains("Lamp 2") && !table.contains("Lamp 1 "), "shard 1 makes the even rows:\n{table}");
    let (code, merged, err) = run(r, &["batch", "merge", "out"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("20 row(s), 20 done"), "{err}\n{merged}");
    let summary = std::fs::read_to_string(r.join("out/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 21, "a header and 20 rows:\n{summary}");
    for i in 1..=20 {
        let dir = r.join(format!("out/{i:03}-lamp-{i}"));
        assert!(dir.join("final.mp4").is_file(), "row {i}: {}", dir.display());
        assert_eq!(dir.join("animatic.mp4").is_file(), i % 2 == 0, "row {i}'s animatic as its row says");
    }

    // One session per row, and no clip content rendered twice across the whole batch.
    let events = all_events(r);
    let mut rows: Vec<usize> = events
        .iter()
        .filter_map(|(_, ev)| match &ev[0].event {
            Event::SessionCreated { brief, .. } => brief.batch.as_ref().map(|b| b.row),
            _ => None,
        })
        .collect();
    rows.sort();
    assert_eq!(rows, (1..=20).collect::<Vec<_>>(), "each row has exactly one session");
    let mut rendered: Vec<String> =
        events.iter().flat_map(|(_, ev)| ev.iter()).filter_map(|e| match &e.event { Event::ClipRendered { clip } if !clip.cached => Some(clip.key.clone()), _ => None }).collect();
    let n = rendered.len();
    rendered.sort();
    rendered.dedup();
    assert_eq!(rendered.len(), n, "a finished clip was rendered again");
    assert!(n >= 20, "every advert has clips: {n}");

    // Run again: everything is done, nothing is rendered.
    let (code, _, err) = run(r, &["batch", "lamps.csv", "-o", "out"]);
    assert_eq!(code, 0, "{err}");
    let again: usize = all_events(r).iter().flat_map(|(_, ev)| ev.iter()).filter(|e| matches!(&e.event, Event::ClipStarted { .. })).count();
    let before: usize = events.iter().flat_map(|(_, ev)| ev.iter()).filter(|e| matches!(&e.event, Event::ClipStarted { .. })).count();
    assert_eq!(again, before, "a finished batch run again renders nothing");

    // A bad row is named, the rest are made; a row that repeats another (two at once)
    // is the same advert, one session.
    std::fs::write(r.join("bad.csv"), "prompt,duration\na desk lamp,3\nsomething,fifteen\na desk lamp,3\n").unwrap();
    let sessions = all_events(r).len();
    let (code, _, err) = run(r, &["batch", "bad.csv", "-o", "bad", "--jobs", "2"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("row 2: duration 'fifteen' is not a number of seconds") && err.contains("2 of 3 advert(s) made"), "{err}");
    assert_eq!(all_events(r).len(), sessions + 1, "the repeated row shares its twin's session");
    assert!(r.join("bad/003-a-desk-lamp/final.mp4").is_file());
    let (code, _, err) = run(r, &["batch", "lamps.csv", "--shard", "2/2"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_mood_board_is_estimated_made_and_shown_as_a_contact_sheet() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    // The estimate counts every candidate.
    let (code, out, err) = run(r, &["generate", "--prompt", "a desk lamp", "--duration", "3", "--candidates", "3", "--dry-run", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let calls = |what: &str| plan["estimate"].as_array().unwrap().iter().find(|l| l["what"] == what).map(|l| l["calls"].as_u64().unwrap()).unwrap();
    assert_eq!(calls("reference images"), 9);
    assert_eq!(calls("keyframes") % 3, 0);
    let (code, _, err) = run(r, &["generate", "--prompt", "a desk lamp", "--duration", "3", "--candidates", "9", "--dry-run"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("candidates 9 is out of range"), "{err}");

    let (code, _, err) = run(r, &["generate", "--prompt", "a desk lamp", "--duration", "3", "--candidates", "2", "--auto", "--no-animatic", "-o", "out"]);
    assert_eq!(code, 0, "{err}");
    let (_, list, _) = run(r, &["sessions", "list", "--format", "json"]);
    let id = serde_json::from_str::<serde_json::Value>(&list).unwrap()[0]["id"].as_str().unwrap().to_string();
    let (code, out, err) = run(r, &["show", &id, "--board", "--save", "board.png", "--width", "40"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("row ")).collect();
    assert!(rows.len() >= 4, "three references and the keyframes: {out}");
    assert!(rows[0].contains("reference — candidates a–b, using") && rows[0].contains("(auto)"), "{}", rows[0]);
    let sheet = image::open(r.join("board.png")).unwrap();
    assert_eq!(sheet.height(), rows.len() as u32 * 186 + 6, "a row of 180-pixel thumbnails per slot");
    // A session without a board says how to make one.
    let (code, _, err) = run(r, &["generate", "--prompt", "a desk lamp", "--duration", "3", "--auto", "--no-animatic", "-o", "out2"]);
    assert_eq!(code, 0, "{err}");
    let (_, list, _) = run(r, &["sessions", "list", "--format", "json"]);
    let id = serde_json::from_str::<serde_json::Value>(&list).unwrap()[0]["id"].as_str().unwrap().to_string();
    let (code, _, err) = run(r, &["show", &id, "--board"]);
    assert_eq!(code, 2);
    assert!(err.contains("--candidates 3"), "{err}");
}

/// `admint show` asks the terminal what it draws, like the TUI: sixel where the device
/// attributes say so, half-blocks where they do not (a pseudo-terminal plays the terminal).
#[test]
fn show_speaks_sixel_when_the_terminal_says_it_can() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("frame.png");
    image::RgbImage::from_fn(64, 36, |x, y| image::Rgb([(x * 4) as u8, (y * 7) as u8, 128])).save(&img).unwrap();
    let run = |reply: &str| {
        let out = std::process::Command::new("python3")
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pty_show.py"))
            .args([env!("CARGO_BIN_EXE_admint"), img.to_str().unwrap(), reply])
            .env("ADMINT_DATA_DIR", dir.path().join("data"))
            .env("ADMINT_STATE_DIR", dir.path().join("state"))
            .env("ADMINT_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // xterm as a VT340: attribute 4 is sixel, and the cell size comes with it.
    assert_eq!(run(r"\x1b[6;17;8t\x1b[?63;1;2;4;6c"), "asked sixel no halfblocks");
    // tmux or a plain terminal: no sixel.
    assert_eq!(run(r"\x1b[?1;2c"), "asked no sixel halfblocks");
}
