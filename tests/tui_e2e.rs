//! The real binary in a real pseudo-terminal (tmux): start `admint`, type a brief,
//! approve the story, edit scene 2, approve the scenes, wait for the advert, quit.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(dir: &Path, w: u16, h: u16, extra_env: &[(&str, &str)]) -> Tmux {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("admint-e2e-{}-{n}-{w}x{h}", std::process::id());
        let mut env = format!(
            "env ADMINT_DATA_DIR={0}/data ADMINT_STATE_DIR={0}/state ADMINT_CONFIG_DIR={0} ADMINT_PROFILE=test TERM=xterm-256color",
            dir.display()
        );
        for (k, v) in extra_env {
            env.push_str(&format!(" {k}={v}"));
        }
        let cmd = format!("{env} {} ; echo \"EXIT=$?\" > {}/exit; sleep 30", env!("CARGO_BIN_EXE_admint"), dir.display());
        let ok = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", &w.to_string(), "-y", &h.to_string(), "-c"])
            .arg(dir)
            .arg(cmd)
            .status()
            .expect("tmux must be installed for the end-to-end test (make test installs it)");
        assert!(ok.success());
        Tmux { name }
    }

    fn screen(&self) -> String {
        let o = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.name]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn text(&self, text: &str) {
        assert!(Command::new("tmux").args(["send-keys", "-t", &self.name, "-l", text]).status().unwrap().success());
    }

    fn wait_for(&self, needle: &str, secs: u64) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(Instant::now() < end, "waited {secs}s for '{needle}'; the screen is:\n{s}");
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}

/// Wait until admint has exited (the pane writes its exit code to `dir/exit`).
/// The admint binary on the same data as the UI under test.
/// The CLI with the same data, config and render profile as the TUI under test (the
/// final's key includes the encoder settings, so a different profile would see a
/// finished session as one to recompose).
fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_admint"))
        .args(args)
        .env("ADMINT_DATA_DIR", dir.join("data"))
        .env("ADMINT_STATE_DIR", dir.join("state"))
        .env("ADMINT_CONFIG_DIR", dir)
        .env("ADMINT_PROFILE", "test")
        .output()
        .unwrap()
}

/// Processes whose command line mentions `needle`.
fn running_with(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

/// A temp dir whose config renders one small clip at a time.
fn one_clip_at_a_time() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "[pipeline]\nclip_concurrency = 1\n[render]\nshort_side = 360\n").unwrap();
    dir
}

fn wait_exit(t: &Tmux, dir: &Path) {
    let end = Instant::now() + Duration::from_secs(10);
    while !dir.join("exit").exists() {
        assert!(Instant::now() < end, "admint did not quit: {}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn make_an_advert(w: u16, h: u16, quit: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(dir.path(), w, h, &[]);
    t.wait_for("No sessions yet", 20);
    brief_to_scenes_gate(&t, "pink running shoes for Gen Z runners", 8);
    // Scenes panel: second scene, edit its on-screen text.
    t.keys(&["Tab", "Tab", "j", "e"]);
    t.wait_for("on-screen text", 5);
    for _ in 0..50 {
        t.keys(&["BSpace"]);
    }
    t.text("Gen Z: 100% ready");
    t.keys(&["Enter"]);
    t.wait_for("Gen Z: 100%", 30);
    t.keys(&["A"]);
    // The animatic, then the clips.
    t.wait_for("animatic is ready", 60);
    t.keys(&["A"]);
    let s = t.wait_for("advert ready", 120);
    assert!(s.contains("clips✓") || s.contains("clip 1"), "{s}");
    // The final video exists where the chat says.
    let out = std::fs::read_dir(dir.path().join("admint-out")).unwrap().next().unwrap().unwrap().path();
    assert!(out.join("final.mp4").is_file());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["scenes"][1]["scene"]["on_screen_text"], "Gen Z: 100% ready");
    // Quit cleanly: the terminal is handed back and the exit code is 0.
    // Separate keystrokes: Esc followed at once by a key reads as Alt-key.
    for k in quit {
        t.keys(&[k]);
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_exit(&t, dir.path());
    assert_eq!(std::fs::read_to_string(dir.path().join("exit")).unwrap().trim(), "EXIT=0");
    assert!(!t.screen().contains("Prompt"), "the alternate screen is left on exit");
}

#[test]
fn makes_an_advert_in_a_real_terminal_120x35() {
    // `q` quits from a panel.
    make_an_advert(120, 35, &["q"]);
}

#[test]
fn makes_an_advert_in_a_real_terminal_80x24() {
    // Esc returns to the prompt, where `q` would type: Ctrl-C quits from anywhere.
    make_an_advert(80, 24, &["Escape", "C-c"]);
}

#[test]
fn a_small_terminal_says_so_and_no_images_is_respected() {
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(dir.path(), 50, 12, &[]);
    t.wait_for("terminal too small", 20);
    t.keys(&["q"]);
    wait_exit(&t, dir.path());
}

/// From the sessions screen: a new brief, the story approved, waiting at the scenes.
fn brief_to_scenes_gate(t: &Tmux, prompt: &str, duration: u32) {
    t.keys(&["n"]);
    t.wait_for("New advert", 5);
    t.text(prompt);
    t.keys(&["M-Enter"]);
    t.text(&format!("duration: {duration}"));
    t.keys(&["Enter"]);
    t.wait_for("Approve the story?", 60);
    t.text("approve");
    t.keys(&["Enter"]);
    t.wait_for("Approve the scenes?", 60);
}

/// From the sessions screen: a new 30 s brief, story, scenes and animatic approved;
/// clips start.
fn start_30s_advert(t: &Tmux, prompt: &str) {
    brief_to_scenes_gate(t, prompt, 30);
    t.keys(&["Tab", "Tab", "A"]);
    t.wait_for("animatic is ready", 90);
    t.keys(&["A"]);
}

/// CPU ticks (user + system) the process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    rest[11].parse::<u64>().unwrap() + rest[12].parse::<u64>().unwrap()
}

/// The admint process inside the tmux pane (the pane runs `sh -c "env … admint"`).
fn admint_pid(t: &Tmux) -> u32 {
    let o = Command::new("tmux").args(["display-message", "-p", "-t", &t.name, "#{pane_pid}"]).output().unwrap();
    let shell: u32 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
            if fields[1] == shell.to_string() && stat.contains("(admint)") {
                return pid;
            }
        }
    }
    panic!("no admint process under the pane");
}

#[test]
fn killed_mid_render_the_session_is_resumable_and_finishes_without_rerendering() {
    let dir = one_clip_at_a_time();
    {
        let t = Tmux::start(dir.path(), 120, 35, &[]);
        t.wait_for("No sessions yet", 20);
        // Idle means idle: no redraw loop burning CPU.
        let pid = admint_pid(&t);
        let before = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(3));
        let idle = cpu_ticks(pid) - before;
        assert!(idle <= 3, "admint used {idle} CPU ticks in 3 s of idling");
        start_30s_advert(&t, "a cordless vacuum for pet owners");
        t.wait_for("done ", 120);
        // The terminal goes away mid-render (tmux kills the pane: SIGHUP).
    }
    // admint stops on the hangup like a confirmed quit: it says so in its log, and no
    // ffmpeg is left running on the session's files.
    let log = dir.path().join("state/admint.log");
    let needle = format!("{}/data/", dir.path().display());
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default().contains("SIGHUP");
        let left = running_with(&needle);
        if said && left.is_empty() {
            break;
        }
        assert!(Instant::now() < end, "after SIGHUP: logged {said}, still running: {left:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let t = Tmux::start(dir.path(), 120, 35, &[]);
    let s = t.wait_for("resumable", 20);
    assert!(s.contains("Cordless Vacuum") || s.contains("A Cordless"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("advert ready", 180);
    t.keys(&["C-c"]);
    wait_exit(&t, dir.path());
    drop(t);
    // The log: every clip rendered once, some of them after the resume.
    let list = cli(dir.path(), &["sessions", "list", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let id = rows[0]["id"].as_str().unwrap().to_string();
    assert_eq!(rows[0]["status"], "done");
    let log = cli(dir.path(), &["sessions", "show", &id, "--events", "--format", "jsonl"]);
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&log.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let resumed_at = events.iter().position(|e| e["event"]["type"] == "resumed").expect("the session was resumed");
    let mut per_scene = std::collections::HashMap::new();
    for e in &events {
        if e["event"]["type"] == "clip_rendered" {
            *per_scene.entry(e["event"]["clip"]["scene_id"].as_u64().unwrap()).or_insert(0) += 1;
        }
    }
    assert!(per_scene.values().all(|n| *n == 1), "{per_scene:?}");
    let before = events[..resumed_at].iter().filter(|e| e["event"]["type"] == "clip_rendered").count();
    let after = events[resumed_at..].iter().filter(|e| e["event"]["type"] == "clip_rendered").count();
    assert!(before >= 1 && after >= 1, "killed mid-render: {before} clips before, {after} after the resume");
}

#[test]
fn quitting_while_clips_render_asks_then_stops_cleanly_and_leaves_it_resumable() {
    let dir = one_clip_at_a_time();
    let t = Tmux::start(dir.path(), 120, 35, &[]);
    t.wait_for("No sessions yet", 20);
    start_30s_advert(&t, "a standing desk for remote workers");
    t.wait_for("clip 1 done", 60);
    t.keys(&["C-c"]);
    t.wait_for("Clips are rendering. Quit now?", 10);
    t.keys(&["y"]);
    wait_exit(&t, dir.path());
    assert_eq!(std::fs::read_to_string(dir.path().join("exit")).unwrap().trim(), "EXIT=0");
    let list = cli(dir.path(), &["sessions", "list", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    let status = rows[0]["status"].as_str().unwrap();
    assert!(status.starts_with("resumable"), "{status}");
}
