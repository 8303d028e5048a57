//! The App driven headlessly through Actions (no terminal).

mod common;

use admint::tui::action::{Action, Effect};
use admint::tui::app::{App, Focus, Screen};
use admint::tui::keymap::Keymap;
use admint::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn app() -> App {
    let h = common::Harness::new();
    let p = h.pipeline(h.store());
    App::new(Theme::default_dark(false), Keymap::default(), p.rules(), false)
}

#[test]
fn typing_a_new_brief_keeps_every_character() {
    let mut a = app();
    a.update(key('n'));
    assert_eq!(a.screen, Screen::Session);
    assert_eq!(a.focus, Focus::Input);
    for c in "pink shoes".chars() {
        a.update(key(c));
    }
    assert_eq!(a.input.lines(), ["pink shoes"]);
    let effects = a.update(code(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::CreateSession { text: "pink shoes".into() }]);
}

use admint::tui::app::RunState;
use admint::tui::runtime::Runtime;
use std::time::Duration;

/// Feed runtime results back into the App until `done(app)` or the time runs out.
async fn pump(a: &mut App, rt: &mut Runtime, rx: &mut tokio::sync::mpsc::Receiver<Action>, done: impl Fn(&App) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !done(a) {
        let act = tokio::time::timeout_at(deadline, rx.recv()).await.expect("timed out waiting for the pipeline").expect("channel open");
        if let Action::RunFinished { session, .. } | Action::Pipeline(admint::pipeline::Update::Finished { session, .. }) = &act {
            rt.run_ended(session);
        }
        let effects = a.update(act);
        for e in effects {
            rt.execute(e);
        }
    }
}

fn send(a: &mut App, rt: &mut Runtime, actions: Vec<Action>) {
    for act in actions {
        for e in a.update(act) {
            rt.execute(e);
        }
    }
}

fn typed(s: &str) -> Vec<Action> {
    let mut v: Vec<Action> = s.chars().map(key).collect();
    v.push(code(KeyCode::Enter));
    v
}

fn at_gate(a: &App) -> bool {
    a.session.as_ref().is_some_and(|v| matches!(v.run, RunState::AtGate(_)))
}

fn idle_with(a: &App, needle: &str) -> bool {
    a.session.as_ref().is_some_and(|v| v.run == RunState::Idle && v.chat.iter().any(|l| l.text.contains(needle)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_offline_session_driven_through_actions() {
    let h = common::Harness::new();
    let store = h.store();
    let p = h.pipeline(store.clone());
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let mut rt = Runtime::new(p.clone(), tx);
    let mut a = App::new(Theme::default_dark(false), Keymap::default(), p.rules(), false);
    a.size = (120, 35);

    send(&mut a, &mut rt, vec![key('n')]);
    let mut brief: Vec<Action> = "pink running shoes for Gen Z runners".chars().map(key).collect();
    brief.push(Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    brief.extend("duration: 8".chars().map(key));
    brief.push(code(KeyCode::Enter));
    send(&mut a, &mut rt, brief);
    pump(&mut a, &mut rt, &mut rx, at_gate).await;
    assert!(a.session.as_ref().unwrap().state.story.is_some());

    send(&mut a, &mut rt, typed("approve"));
    pump(&mut a, &mut rt, &mut rx, |a| at_gate(a) && !a.session.as_ref().unwrap().state.scenes.is_empty()).await;

    // Scene editor: focus Scenes, select scene 2, edit its on-screen text in place.
    send(&mut a, &mut rt, vec![code(KeyCode::Tab), code(KeyCode::Tab), key('j'), key('e')]);
    assert!(a.popup.is_some(), "the edit popup is open");
    let mut edit: Vec<Action> = (0..60).map(|_| code(KeyCode::Backspace)).collect();
    edit.extend(typed("Run: 100% faster"));
    send(&mut a, &mut rt, edit);
    pump(&mut a, &mut rt, &mut rx, |a| at_gate(a) && a.session.as_ref().unwrap().state.scenes[1].on_screen_text == "Run: 100% faster").await;

    send(&mut a, &mut rt, vec![key('A')]);
    // The animatic is the gate before the clips: the chat says where to play it.
    pump(&mut a, &mut rt, &mut rx, |a| matches!(&a.session.as_ref().unwrap().run, RunState::AtGate(admint::pipeline::Gate::Animatic(_)))).await;
    let v = a.session.as_ref().unwrap();
    assert!(v.state.clips.is_empty(), "no clip before the animatic is approved");
    let ask = v.chat.iter().rev().find(|l| l.text.contains("The animatic is ready")).expect("the gate is said");
    let path = ask.text.split("ready: ").nth(1).and_then(|t| t.split(" (P plays").next()).unwrap();
    assert!(std::path::Path::new(path).is_file(), "{}", ask.text);
    send(&mut a, &mut rt, vec![key('A')]);
    pump(&mut a, &mut rt, &mut rx, |a| idle_with(a, "advert ready")).await;
    let v = a.session.as_ref().unwrap();
    let id = v.id.clone();
    assert!(v.state.is_done());
    assert_eq!(v.state.clips.len(), v.state.scenes.len());
    let rendered = store.events(&id).unwrap().iter().filter(|e| matches!(e.event, admint::domain::Event::ClipRendered { .. })).count();

    // After the video is done: edit scene 1's text → only a recompose, no clip re-render.
    send(&mut a, &mut rt, vec![key('k'), key('e'), key('!'), code(KeyCode::Enter)]);
    pump(&mut a, &mut rt, &mut rx, |a| idle_with(a, "advert ready") && a.session.as_ref().unwrap().chat.iter().filter(|l| l.text.contains("advert ready")).count() == 2).await;
    let events = store.events(&id).unwrap();
    let rendered_after = events.iter().filter(|e| matches!(e.event, admint::domain::Event::ClipRendered { .. })).count();
    assert_eq!(rendered_after, rendered, "a text edit re-renders no clip");
    assert_eq!(events.iter().filter(|e| matches!(e.event, admint::domain::Event::Composed { .. })).count(), 2);
    assert!(a.session.as_ref().unwrap().state.scenes[0].on_screen_text.ends_with('!'));

    // `:export DIR` from the command line writes the output folder.
    let export = h.out("exported");
    let mut cmd = vec![Action::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE))];
    cmd.extend(format!("export {}", export.display()).chars().map(key));
    cmd.push(code(KeyCode::Enter));
    send(&mut a, &mut rt, cmd);
    pump(&mut a, &mut rt, &mut rx, |a| a.status.starts_with("exported to")).await;
    assert!(export.join("final.mp4").is_file() && export.join("manifest.json").is_file() && export.join("storyboard.md").is_file());

    // An edit typed on the finished session re-renders: the UI is busy at once (Ctrl-S
    // stops it, the prompt says so, the clock runs), and idle again when it is done.
    send(&mut a, &mut rt, vec![Action::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)), Action::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT))]);
    assert_eq!(a.focus, Focus::Input);
    send(&mut a, &mut rt, typed("edit scene 1 camera: pan-right"));
    pump(&mut a, &mut rt, &mut rx, |a| a.session.as_ref().unwrap().run == RunState::Running).await;
    assert!(a.is_running());
    let started = a.session.as_ref().unwrap().run_started_ms.expect("the clock runs");
    pump(&mut a, &mut rt, &mut rx, |a| idle_with(a, "advert ready") && a.session.as_ref().unwrap().chat.iter().filter(|l| l.text.contains("advert ready")).count() == 3).await;
    let v = a.session.as_ref().unwrap();
    assert_eq!(v.state.scenes[0].camera, admint::domain::CameraMove::PanRight);
    assert!(v.run_ended_ms.is_some_and(|e| e >= started), "the clock stopped with the run");
    std::fs::remove_dir_all(std::path::Path::new("admint-out").join(&id)).ok();
}

#[test]
fn thumbnails_are_half_block_text_in_the_chat() {
    use admint::tui::halfblock::thumbnail as halfblock_thumbnail;
    use ratatui::style::Color;
    // Top half red, bottom half blue, 16:9.
    let mut img = image::RgbImage::from_pixel(160, 90, image::Rgb([0, 0, 255]));
    for y in 0..45 {
        for x in 0..160 {
            img.put_pixel(x, y, image::Rgb([255, 0, 0]));
        }
    }
    let lines = halfblock_thumbnail(&img, 16);
    assert_eq!(lines.len(), 4, "16 columns of a 16:9 image are 4 text rows");
    assert!(lines.iter().all(|l| l.spans.len() == 16 && l.spans.iter().all(|s| s.content == "▀")));
    assert_eq!(lines[0].spans[0].style.fg, Some(Color::Rgb(255, 0, 0)));
    assert_eq!(lines[3].spans[0].style.bg, Some(Color::Rgb(0, 0, 255)));

    let mut a = app();
    let asset = admint::domain::AssetId { sha256: "ab".repeat(32), ext: "png".into() };
    let mut v = admint::tui::app::SessionView::new("s".into());
    v.chat.push(admint::tui::app::ChatLine { who: admint::tui::app::Who::System, text: "product reference ready".into(), badge: None, image: Some(asset.clone()) });
    a.session = Some(v);
    let before = admint::tui::view::chat_lines(&a, a.session.as_ref().unwrap(), 60).len();
    a.update(Action::Thumbnail { asset, lines: lines.clone() });
    let after = admint::tui::view::chat_lines(&a, a.session.as_ref().unwrap(), 60);
    assert_eq!(after.len(), before - 1 + 4, "the marker line is replaced by the 4 thumbnail rows");
    // f in the chat folds every image to one line (and says so, to be remembered), f again unfolds.
    a.screen = Screen::Session;
    a.focus = Focus::Chat;
    assert_eq!(a.update(key('f')), vec![Effect::RememberView { fold_images: true, chat_pct: None }]);
    let folded = admint::tui::view::chat_lines(&a, a.session.as_ref().unwrap(), 60);
    assert_eq!(folded.len(), before);
    assert!(folded.last().unwrap().to_string().contains("f unfolds"));
    assert_eq!(a.update(key('f')), vec![Effect::RememberView { fold_images: false, chat_pct: None }]);
    // > and < widen and narrow the chat, within bounds, and it is remembered.
    a.size = (100, 30);
    assert_eq!(a.update(key('>')), vec![Effect::RememberView { fold_images: false, chat_pct: Some(57) }]);
    for _ in 0..20 {
        a.update(key('<'));
    }
    assert_eq!(a.chat_pct, Some(30));
    assert_eq!(admint::tui::view::chat_lines(&a, a.session.as_ref().unwrap(), 60).len(), after.len());
}

#[test]
fn unreadable_fields_and_empty_prompts_are_said_and_drafts_stay_with_their_session() {
    let mut a = app();
    a.update(key('n'));
    assert!(a.update(code(KeyCode::Enter)).is_empty());
    assert!(a.status.contains("describe the advert"), "Enter on an empty prompt says why: {:?}", a.status);
    for c in "pink shoes".chars() {
        a.update(key(c));
    }
    a.update(Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    for c in "duration: fifteen".chars() {
        a.update(key(c));
    }
    assert!(a.update(code(KeyCode::Enter)).is_empty(), "nothing is created");
    assert!(a.status.contains("'fifteen' is not a number of seconds"), "{:?}", a.status);
    assert_eq!(a.input.lines(), ["pink shoes", "duration: fifteen"], "the text stays to be fixed");
    // A brief the pipeline refuses comes back to the prompt too.
    a.input = admint::tui::app::new_input();
    for c in "x".chars() {
        a.update(key(c));
    }
    assert_eq!(a.update(code(KeyCode::Enter)), vec![Effect::CreateSession { text: "x".into() }]);
    a.update(Action::Error("the prompt is too short".into()));
    assert_eq!(a.input.lines(), ["x"]);
    // Esc to the sessions list: the unsent text is this new advert's draft; another
    // session opened does not get it; the new advert does.
    a.update(code(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Sessions);
    let mut state = admint::domain::SessionState::default();
    state.id = "20261130-000000-aaaaaa".into();
    a.update(Action::SessionOpened { state: Box::new(state), events: vec![] });
    assert_eq!(a.input.lines(), [""], "another session's prompt is empty");
    a.update(Action::RunFinished { session: "20261130-000000-aaaaaa".into(), result: Ok("paused".into()) });
    a.update(code(KeyCode::Esc));
    a.update(key('n'));
    assert_eq!(a.input.lines(), ["x"], "the draft is back with the new advert");
}

#[test]
fn approving_quitting_and_stopping_say_what_happens() {
    use admint::tui::app::{Popup, SessionView};
    let ctrl = |c: char| Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    let mut a = app();
    let mut v = SessionView::new("20261130-000000-bbbbbb".into());
    v.begin_run(1);
    a.session = Some(v);
    a.screen = Screen::Session;
    a.focus = Focus::Scenes;
    // `A` before the scenes exist is not dropped silently.
    assert!(a.update(key('A')).is_empty());
    assert!(a.status.contains("nothing to approve yet"), "{:?}", a.status);
    // `A` while an edit is on its way to the scenes gate approves when the gate asks.
    {
        use admint::domain::{Event, EventEnvelope, Scene, EVENT_VERSION};
        let v = a.session.as_mut().unwrap();
        let scene = Scene { id: 1, description: "d".into(), duration_s: 3.0, shot_type: "wide".into(), camera: Default::default(), motion_intensity: 0.5, on_screen_text: String::new(), voiceover: String::new(), transition: Default::default() };
        v.apply(&EventEnvelope { v: EVENT_VERSION, seq: 1, at_ms: 0, event: Event::ScenesDrafted { scenes: vec![scene], revision: 1, provider: String::new() } });
    }
    assert!(a.update(key('A')).is_empty());
    assert!(a.status.contains("approving as soon as the run asks"), "{:?}", a.status);
    let asked = a.update(Action::GateReached { session: "20261130-000000-bbbbbb".into(), gate: admint::pipeline::Gate::Scenes });
    assert!(matches!(asked.as_slice(), [Effect::Interpret { text, .. }] if text == "approve"), "{asked:?}");
    a.session.as_mut().unwrap().begin_run(2);
    // Ctrl-C while anything runs (compose, scoring, clips) asks first.
    assert!(a.update(ctrl('c')).is_empty());
    assert!(matches!(a.popup, Some(Popup::ConfirmQuit)));
    a.update(key('n'));
    assert!(a.popup.is_none() && !a.quitting);
    // Ctrl-S stops; the end of the run is said as a stop with the in-app way on.
    assert_eq!(a.update(ctrl('s')), vec![Effect::Stop]);
    a.update(Action::RunFinished { session: "20261130-000000-bbbbbb".into(), result: Err("interrupted; continue with `admint resume 20261130-000000-bbbbbb`".into()) });
    let last = &a.session.as_ref().unwrap().chat.last().unwrap().text;
    assert!(last.contains("stopped") && last.contains(":resume") && !last.contains("admint resume"), "{last}");
    // `:resume` with no id goes on with the open session.
    let mut cmd = vec![key(':')];
    cmd.extend("resume".chars().map(key));
    cmd.push(code(KeyCode::Enter));
    let effects: Vec<Effect> = cmd.into_iter().flat_map(|k| a.update(k)).collect();
    assert_eq!(effects, vec![Effect::StartRun("20261130-000000-bbbbbb".into())]);
    assert!(a.is_running());
}

fn test_scene(id: u32) -> admint::domain::Scene {
    admint::domain::Scene { id, description: format!("shot {id}"), duration_s: 3.0, shot_type: "wide".into(), camera: Default::default(), motion_intensity: 0.5, on_screen_text: format!("text {id}"), voiceover: String::new(), transition: Default::default() }
}

/// An App with session `id` open on its Scenes panel, `n` scenes drafted (no run).
fn app_with_scenes(id: &str, n: u32) -> App {
    use admint::domain::{Event, EventEnvelope, EVENT_VERSION};
    let mut a = app();
    let mut v = admint::tui::app::SessionView::new(id.into());
    v.apply(&EventEnvelope { v: EVENT_VERSION, seq: 1, at_ms: 0, event: Event::ScenesDrafted { scenes: (1..=n).map(test_scene).collect(), revision: 1, provider: String::new() } });
    a.session = Some(v);
    a.screen = Screen::Session;
    a.focus = Focus::Scenes;
    a
}

/// The one command the effects send.
fn sent(effects: Vec<Effect>) -> admint::domain::Command {
    match effects.as_slice() {
        [Effect::Command { cmd, .. }] => cmd.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn scene_changes_are_undone_and_redone_as_new_commands() {
    use admint::domain::{Command, Event, EventEnvelope, EVENT_VERSION};
    let scene = test_scene;
    let mut a = app_with_scenes("20261130-000000-cccccc", 3);
    a.update(key('j'));
    assert_eq!(sent(a.update(key('x'))), Command::RemoveScene { scene_id: 2 });
    assert!(a.status.contains("scene 2 deleted") && a.status.contains("u undoes"), "{:?}", a.status);
    // The run the change started has ended; the removal is in the log.
    a.update(Action::RunFinished { session: "20261130-000000-cccccc".into(), result: Ok("done".into()) });
    a.session.as_mut().unwrap().apply(&EventEnvelope { v: EVENT_VERSION, seq: 2, at_ms: 0, event: Event::SceneRemoved { scene_id: 2 } });
    assert_eq!(sent(a.update(key('u'))), Command::RestoreScene { scene: scene(2), index: 1 }, "the scene as it was, where it was");
    assert!(a.status.starts_with("undone: scene 2 deleted"), "{:?}", a.status);
    a.update(Action::RunFinished { session: "20261130-000000-cccccc".into(), result: Ok("done".into()) });
    let ctrl_r = Action::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert_eq!(sent(a.update(ctrl_r)), Command::RemoveScene { scene_id: 2 });
    a.update(Action::RunFinished { session: "20261130-000000-cccccc".into(), result: Ok("done".into()) });
    // A camera change is undone to the camera it had.
    a.update(key('k'));
    let Command::EditScene { patch, .. } = sent(a.update(key('c'))) else { panic!() };
    assert!(patch.camera.is_some());
    a.update(Action::RunFinished { session: "20261130-000000-cccccc".into(), result: Ok("done".into()) });
    let Command::EditScene { scene_id: 1, patch } = sent(a.update(key('u'))) else { panic!() };
    assert_eq!(patch.camera, Some(scene(1).camera));
    assert_eq!(patch.description, None, "only what was changed is put back");
}

/// The screen as text, drawn into a TestBackend.
fn screen_text(a: &App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| admint::tui::view::view(a, &admint::tui::view::Images::default(), f)).unwrap();
    let buf = t.backend().buffer().clone();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mood_board_the_animatic_player_and_the_variants_in_the_app() {
    use admint::domain::{Approver, Slot};
    let h = common::Harness::new();
    let store = h.store();
    let p = h.pipeline(store.clone());
    let input = admint::pipeline::BriefInput { candidates: Some(2), variants: Some("hooks=2".into()), ..common::brief_input("pink running shoes for Gen Z runners", 6.0) };
    let id = common::new_session(&p, input).await;
    p.run(&id, &mut admint::pipeline::AutoDecider { retry_failed: false }, None).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let mut rt = Runtime::new(p.clone(), tx);
    let mut a = App::new(Theme::default_dark(false), Keymap::default(), p.rules(), true);
    a.size = (120, 35);
    rt.execute(Effect::OpenSession(id.clone()));
    pump(&mut a, &mut rt, &mut rx, |a| a.session.as_ref().is_some_and(|v| v.state.is_done())).await;
    a.screen = Screen::Session;

    // b on scene 1 opens its board at the candidate in use, with both pictures.
    send(&mut a, &mut rt, vec![code(KeyCode::Tab), code(KeyCode::Tab), key('b')]);
    let slot = Slot::Keyframe(a.session.as_ref().unwrap().state.scenes[0].id);
    let (in_use, by) = a.session.as_ref().unwrap().state.picks[&slot];
    assert_eq!(by, Approver::Auto);
    assert!(matches!(a.popup, Some(admint::tui::app::Popup::Board { sel, .. }) if sel == in_use));
    let imgs = a.session.as_ref().unwrap().state.candidates[&slot].1.clone();
    pump(&mut a, &mut rt, &mut rx, |a| imgs.iter().all(|i| a.small_images.contains_key(i))).await;
    let text = screen_text(&a, 120, 35);
    assert!(text.contains("Mood board — scene 1 keyframe") && text.contains("✓ in use (auto"), "{text}");
    assert!(text.contains('▀'), "the candidates are drawn as half-blocks");
    // The other candidate, taken: its keyframe and clip are made again, u undoes.
    let other = 1 - in_use;
    send(&mut a, &mut rt, vec![key(if other == 0 { 'a' } else { 'b' }), code(KeyCode::Enter)]);
    assert!(a.popup.is_none() && a.status.contains("u undoes"), "{}", a.status);
    pump(&mut a, &mut rt, &mut rx, |a| idle_with(a, "advert ready")).await;
    let s = &a.session.as_ref().unwrap().state;
    assert_eq!(s.picks[&slot], (other, Approver::User));
    assert_eq!(s.keyframes[&slot_scene(slot)].image, imgs[other]);

    // P plays the animatic: its frames load, ] jumps to the first scene after the intro card.
    send(&mut a, &mut rt, vec![key('P')]);
    pump(&mut a, &mut rt, &mut rx, |a| a.animatic.is_some()).await;
    let made = a.session.as_ref().unwrap().state.animatic.clone().unwrap();
    let frames = a.animatic.as_ref().unwrap().frames.len() as f64;
    assert!((frames - made.duration_s * 4.0).abs() <= 2.0, "{frames} frames for {} s", made.duration_s);
    send(&mut a, &mut rt, vec![key(']')]);
    let intro = admint::tui::app::animatic_timeline(&a.session.as_ref().unwrap().state, &a.rules.finish).unwrap().segments[1].slot_start_s;
    assert!(matches!(a.popup, Some(admint::tui::app::Popup::Animatic { at_s, .. }) if (at_s - intro).abs() < 1e-9));
    let text = screen_text(&a, 120, 35);
    assert!(text.contains("scene 1 (") && text.contains("with sound: mpv") && text.contains('▲'), "{text}");
    send(&mut a, &mut rt, vec![code(KeyCode::Esc)]);
    assert!(a.popup.is_none());

    // :variants makes the hooks: the one like the advert renders no clip.
    let mut cmd = vec![key(':')];
    cmd.extend(typed("variants"));
    send(&mut a, &mut rt, cmd);
    assert!(a.is_running(), "making variants is a run (Ctrl-S stops it)");
    pump(&mut a, &mut rt, &mut rx, |a| idle_with(a, "variants ready")).await;
    let chat: Vec<String> = a.session.as_ref().unwrap().chat.iter().map(|l| l.text.clone()).collect();
    assert!(chat.iter().any(|l| l.starts_with("variant h1-c1-16x9: done") && l.contains("(0 clip(s) rendered")), "{chat:#?}");
    assert!(chat.iter().any(|l| l.starts_with("variant h2-c1-16x9: done")), "{chat:#?}");
    std::fs::remove_dir_all(std::path::Path::new("admint-out").join(&id)).ok();
}

fn slot_scene(slot: admint::domain::Slot) -> u32 {
    match slot {
        admint::domain::Slot::Keyframe(id) => id,
        _ => unreachable!(),
    }
}

#[test]
fn the_command_line_completes_with_tab_and_remembers_with_up() {
    let mut a = app();
    a.update(key('n'));
    a.update(code(KeyCode::Esc));
    let line = |a: &App| match &a.popup {
        Some(admint::tui::app::Popup::CommandLine(t)) => t.lines().join(" "),
        _ => panic!("the command line is open"),
    };
    a.update(Action::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    for c in "th".chars() {
        a.update(key(c));
    }
    a.update(code(KeyCode::Tab));
    assert_eq!(line(&a), "theme ", "a whole verb, ready for its argument");
    a.update(code(KeyCode::Tab));
    assert!(a.status.starts_with("3 fit: dark light high-contrast"), "{}", a.status);
    a.update(key('l'));
    a.update(code(KeyCode::Tab));
    assert_eq!(line(&a), "theme light");
    assert_eq!(a.update(code(KeyCode::Enter)), vec![Effect::SetTheme("light".into())]);
    // Again: ↑ brings the line back, ↓ leaves it empty.
    a.update(Action::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)));
    a.update(code(KeyCode::Up));
    assert_eq!(line(&a), "theme light");
    a.update(code(KeyCode::Down));
    assert_eq!(line(&a), "");
    a.update(code(KeyCode::Tab));
    assert!(a.status.contains("fit:") && a.status.contains("animatic") && a.status.contains("variants"), "{}", a.status);
}

#[test]
fn a_duration_is_typed_and_a_camera_chosen_from_a_list() {
    use admint::domain::{CameraMove, Command};
    use admint::tui::app::Popup;
    let mut a = app_with_scenes("20261201-000000-dddddd", 2);
    // d: the length as text, prefilled; a wrong one is said and stays to be fixed.
    a.update(key('d'));
    let field = |a: &App| match &a.popup {
        Some(Popup::EditScene { editor, .. }) => editor.lines().join(""),
        _ => panic!("the duration editor is open"),
    };
    assert_eq!(field(&a), "3.0");
    for _ in 0..3 {
        a.update(code(KeyCode::Backspace));
    }
    for c in "fifteen".chars() {
        a.update(key(c));
    }
    assert!(a.update(code(KeyCode::Enter)).is_empty());
    assert!(a.status.contains("'fifteen' is not a number of seconds"), "{}", a.status);
    assert_eq!(field(&a), "fifteen", "the text is kept");
    for _ in 0..7 {
        a.update(code(KeyCode::Backspace));
    }
    for c in "4.5s".chars() {
        a.update(key(c));
    }
    let Command::EditScene { scene_id: 1, patch } = sent(a.update(code(KeyCode::Enter))) else { panic!() };
    assert_eq!(patch.duration_s, Some(4.5));
    a.update(Action::RunFinished { session: "20261201-000000-dddddd".into(), result: Ok("done".into()) });
    // C: every move listed with what it does; j j Enter takes the third.
    a.update(key('C'));
    assert!(matches!(a.popup, Some(Popup::Camera { sel: 0, .. })));
    a.update(key('j'));
    a.update(key('j'));
    let Command::EditScene { scene_id: 1, patch } = sent(a.update(code(KeyCode::Enter))) else { panic!() };
    assert_eq!(patch.camera, Some(CameraMove::ALL[2]));
    assert!(a.status.contains("u undoes"), "{}", a.status);
}

#[test]
fn a_gate_asks_once_while_its_question_is_in_sight() {
    use admint::tui::app::{ChatLine, SessionView, Who};
    let mut a = app();
    a.session = Some(SessionView::new("20261201-000000-eeeeee".into()));
    a.screen = Screen::Session;
    let gate = || Action::GateReached { session: "20261201-000000-eeeeee".into(), gate: admint::pipeline::Gate::Scenes };
    let asked = |a: &App| a.session.as_ref().unwrap().chat.iter().filter(|l| l.text.starts_with("Approve the scenes?")).count();
    a.update(gate());
    assert_eq!(asked(&a), 1);
    // An edit at the gate (a line or two of news), and the run asks again: not repeated.
    a.session.as_mut().unwrap().chat.push(ChatLine { who: Who::System, text: "scene 2 edited".into(), badge: None, image: None });
    a.update(gate());
    assert_eq!(asked(&a), 1);
    // Far up the chat, it is asked again.
    for i in 0..10 {
        a.session.as_mut().unwrap().chat.push(ChatLine { who: Who::System, text: format!("news {i}"), badge: None, image: None });
    }
    a.update(gate());
    assert_eq!(asked(&a), 2);
}

#[test]
fn i_shows_the_selected_scene_s_whole_description() {
    let mut a = app_with_scenes("20261201-000000-ffffff", 2);
    a.size = (100, 30);
    let words: Vec<String> = (1..=60).map(|i| format!("w{i}")).collect();
    a.session.as_mut().unwrap().state.scenes[0].description = words.join(" ");
    let shown = |a: &App| screen_text(a, 100, 30).contains(" w60");
    assert!(!shown(&a), "two lines of it by default");
    a.update(key('i'));
    assert!(shown(&a), "{}", screen_text(&a, 100, 30));
    a.update(key('i'));
    assert!(!shown(&a));
}

#[test]
fn s_sorts_the_sessions_and_keeps_the_selected_one() {
    let row = |id: &str, title: &str| admint::tui::action::SessionRow { id: id.into(), title: title.into(), ..Default::default() };
    let mut a = app();
    a.update(Action::SessionsLoaded(vec![row("2", "zebra"), row("1", "apple")]));
    a.update(key('j'));
    assert_eq!(a.sessions[a.sessions_sel].id, "1");
    a.update(key('s'));
    a.update(key('s'));
    assert_eq!(a.status, "sorted by title");
    assert_eq!(a.sessions.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["apple", "zebra"]);
    assert_eq!(a.sessions[a.sessions_sel].id, "1", "the selection follows its session");
    // A reload (after a run) keeps the order.
    a.update(Action::SessionsLoaded(vec![row("3", "mango"), row("2", "zebra"), row("1", "apple")]));
    assert_eq!(a.sessions.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["apple", "mango", "zebra"]);
}

#[test]
fn terminals_with_graphics_draw_the_chat_s_thumbnails_as_pictures() {
    use admint::tui::view::{chat_pictures, picture_key, view, Images};
    use ratatui_image::picker::{Picker, ProtocolType};
    let img = image::RgbImage::from_pixel(160, 90, image::Rgb([255, 0, 0]));
    let lines = admint::tui::halfblock::thumbnail(&img, 16);
    let mut a = app();
    a.images = true;
    a.size = (100, 30);
    a.screen = Screen::Session;
    let asset = admint::domain::AssetId { sha256: "cd".repeat(32), ext: "png".into() };
    let mut v = admint::tui::app::SessionView::new("s".into());
    v.chat.push(admint::tui::app::ChatLine { who: admint::tui::app::Who::System, text: "product reference ready".into(), badge: None, image: Some(asset.clone()) });
    a.session = Some(v);
    a.update(Action::Thumbnail { asset: asset.clone(), lines });
    assert_eq!(chat_pictures(&a), vec![(asset.clone(), 16, 4)], "the thumbnail is prepared at its size in cells");

    #[allow(deprecated)]
    let mut picker = Picker::from_fontsize(ratatui_image::FontSize { width: 8, height: 16 });
    picker.set_protocol_type(ProtocolType::Sixel);
    let proto = picker.new_protocol(image::DynamicImage::ImageRgb8(img), ratatui::layout::Size::new(16, 4), ratatui_image::Resize::Scale(None)).unwrap();
    let mut images = Images { picker: Some(picker), ..Default::default() };
    images.ready.insert(picture_key(&asset, 16, 4), proto);
    let drawn = |a: &App, images: &Images| {
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        t.draw(|f| view(a, images, f)).unwrap();
        let buf = t.backend().buffer().clone();
        let sixels = buf.content().iter().filter(|c| c.symbol().contains("\x1bP")).count();
        let blocks = buf.content().iter().filter(|c| c.symbol() == "▀").count();
        (sixels, blocks)
    };
    // In a sixel terminal the picture replaces the half-blocks.
    assert_eq!(drawn(&a, &images), (1, 0));
    // Under a popup the terminal's pictures would survive it: half-blocks then.
    a.focus = Focus::Chat;
    a.update(key('?'));
    assert!(a.popup.is_some());
    assert_eq!(drawn(&a, &images).0, 0);
    a.update(code(KeyCode::Esc));
    // Folded: neither; half-block terminals keep the text.
    a.thumbs_folded = true;
    assert!(chat_pictures(&a).is_empty());
    assert_eq!(drawn(&a, &images), (0, 0));
    a.thumbs_folded = false;
    images.picker = Some(Picker::halfblocks());
    assert_eq!(drawn(&a, &images), (0, 16 * 4));
    // `:images HOW` chooses another way (remembered by the event loop); a wrong one is said.
    let mut effects = a.update(key(':'));
    for c in "images sixel".chars() {
        effects.extend(a.update(key(c)));
    }
    effects.extend(a.update(code(KeyCode::Enter)));
    assert_eq!(effects, vec![Effect::SetImages("sixel".into())]);
    a.update(key(':'));
    for c in "images nope".chars() {
        a.update(key(c));
    }
    assert!(a.update(code(KeyCode::Enter)).is_empty());
    assert!(a.status.contains("unknown way to draw pictures 'nope'") && a.status_is_error, "{}", a.status);
}
