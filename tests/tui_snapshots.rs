//! Every panel in its main states, rendered into a TestBackend and compared with
//! reviewed snapshots (tests/snapshots). Styles (colours, NO_COLOR) are asserted on cells.

mod common;

use std::collections::BTreeMap;

use admint::domain::*;
use admint::tui::action::{Action, SessionRow};
use admint::tui::app::{App, Focus, RunState, Screen, SessionView};
use admint::tui::keymap::Keymap;
use admint::tui::theme::Theme;
use admint::tui::view::{view, Images};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use ratatui::Terminal;

fn asset(n: u8) -> AssetId {
    AssetId { sha256: format!("{n:02x}").repeat(32), ext: "png".into() }
}

fn scene(id: u32, d: f64, cam: CameraMove, text: &str) -> Scene {
    Scene { id, description: format!("AirRun Pro shot {id} on a pink track"), duration_s: d, shot_type: "wide".into(), camera: cam, motion_intensity: 0.5, on_screen_text: text.into(), voiceover: String::new(), transition: Transition::default() }
}

fn brief() -> Brief {
    Brief {
        prompt: "pink running shoes".into(), product_name: "AirRun Pro".into(), call_to_action: "Shop now: 20% off".into(),
        audience: String::new(), tone: String::new(), language: "en".into(), framework: Framework::Aida, template: "product_showcase".into(),
        aspect: Aspect::Landscape, duration_s: 11.0, assets: BrandAssets::default(), budget_usd: Some(5.0), seed: 0, transition: None, look: None, look_base: None, voice: None, words_per_second: None, captions: None, caption_style: None, url: None, price: None, typeface: None, animatic: None, batch: None, variants: None, candidates: None, variant_of: None,
    }
}

/// A session's events up to a point, with fixed ids and times.
fn events(upto: &str) -> Vec<EventEnvelope> {
    let mut ev = vec![
        Event::SessionCreated { id: "20261122-000000-abcdef".into(), brief: Box::new(brief()), render: RenderSpec { width: 320, height: 180, fps: 30, intro_s: 0.5, outro_s: 0.5, cards_in_spot: true } },
        Event::StageStarted { stage: Stage::Story },
        Event::StoryDrafted { story: Story { title: "AirRun Pro — AIDA".into(), framework: Framework::Aida, template: "product_showcase".into(), logline: "A bold reveal.".into(), beats: vec![Beat { stage: "Attention".into(), text: "Meet AirRun Pro.".into() }, Beat { stage: "Action".into(), text: "Shop now: 20% off.".into() }], revision: 1 }, provider: "offline".into() },
        Event::StoryCritiqued { revision: 1, critique: Critique { score: 8.5, reasons: vec!["clear hook".into()], suggestions: vec![] }, provider: "offline".into() },
    ];
    if upto != "story" {
        ev.extend([
            Event::StoryApproved { by: Approver::User },
            Event::StageCompleted { stage: Stage::Story },
            Event::ReferenceReady { reference: Reference { kind: ReferenceKind::Product, image: asset(1), source: "offline".into(), prompt: "p".into(), analysis: Analysis { palette: vec!["#ff6eb4".into()], ..Default::default() }, analysed_by: "offline".into(), key: "k".into() } },
            Event::ScenesDrafted { scenes: vec![scene(1, 3.0, CameraMove::ZoomIn, "Meet AirRun Pro"), scene(2, 3.0, CameraMove::PanRight, ""), scene(3, 2.0, CameraMove::Dolly, "Feel it"), scene(4, 2.0, CameraMove::ZoomOut, "Shop now: 20% off")], revision: 1, provider: "offline".into() },
            Event::ScenesApproved { by: Approver::User },
            Event::StageStarted { stage: Stage::Clips },
            Event::ClipRendered { clip: Clip { scene_id: 1, video: asset(11), duration_s: 3.0, width: 320, height: 180, fps: 30, provider: "offline".into(), key: "c1".into(), cached: false, has_audio: false } },
            Event::ClipFailed { scene_id: 2, key: "c2".into(), error: "simulated 503".into() },
            Event::ClipStarted { scene_id: 3, key: "c3".into() },
        ]);
    }
    if upto == "scored" {
        let mut dims = BTreeMap::new();
        let d = |value, method| DimensionScore { value, method, fraction: None };
        dims.insert("temporal_flickering".to_string(), d(0.97, Method::Exact));
        dims.insert("motion_smoothness".to_string(), d(0.72, Method::Approximation));
        dims.insert("dynamic_degree".to_string(), DimensionScore { value: 0.0, method: Method::Approximation, fraction: Some(0.25) });
        let gates = vec![
            GateResult { gate: "black".into(), verdict: Verdict::Pass, value: Some(0.0), detail: "no black frames".into() },
            GateResult { gate: "frozen".into(), verdict: Verdict::Warn, value: Some(1.2), detail: "longest frozen stretch 1.20s".into() },
        ];
        ev.extend([
            Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Clip(1), video: asset(11), score: Score::Scored { dimensions: dims.clone(), quality: 85.0, gates: gates.clone(), scorer: "test".into(), version: "t".into() } } },
            Event::ClipRendered { clip: Clip { scene_id: 3, video: asset(13), duration_s: 2.0, width: 320, height: 180, fps: 30, provider: "offline".into(), key: "c3".into(), cached: true, has_audio: false } },
            Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Clip(3), video: asset(13), score: Score::Unavailable { reason: "decode".into() } } },
            Event::ScoreRecorded { record: ScoreRecord { target: ScoreTarget::Final, video: asset(20), score: Score::Scored { dimensions: dims, quality: 55.0, gates: vec![], scorer: "test".into(), version: "t".into() } } },
        ]);
    }
    ev.into_iter().enumerate().map(|(i, event)| EventEnvelope { v: EVENT_VERSION, seq: i as u64 + 1, at_ms: 1_790_000_000_000 + i as u64 * 1000, event }).collect()
}

fn app(no_color: bool) -> App {
    let h = common::Harness::new();
    let p = h.pipeline(h.store());
    let mut a = App::new(Theme::default_dark(no_color), Keymap::default(), p.rules(), true);
    a.now_ms = 1_790_000_030_000;
    a
}

fn with_session(mut a: App, upto: &str, run: RunState) -> App {
    let mut v = SessionView::new("20261122-000000-abcdef".into());
    for e in events(upto) {
        v.apply(&e);
    }
    v.run = run;
    v.run_started_ms = Some(1_790_000_000_000);
    if upto != "story" {
        v.live.insert(admint::pipeline::Task::Clip(3), 0.4);
    }
    a.session = Some(v);
    a.screen = Screen::Session;
    a
}

fn render(a: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(a, &Images::default(), f)).unwrap();
    t
}

fn snap(name: &str, a: &App, w: u16, h: u16) {
    let t = render(a, w, h);
    insta::assert_snapshot!(name, t.backend());
}

#[test]
fn sessions_screen_empty_and_listed() {
    let mut a = app(false);
    snap("sessions_empty", &a, 100, 18);
    a.update(Action::SessionsLoaded(vec![
        SessionRow { id: "20261122-000000-abcdef".into(), title: "AirRun Pro".into(), created_at_ms: 1_790_000_000_000, cost_usd: 0.0, score: Some(82.0), score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
        SessionRow { id: "20261121-000000-123456".into(), title: "HydroPeak".into(), created_at_ms: 1_789_900_000_000, cost_usd: 1.25, score: Some(71.0), score_stale: true, status: "resumable: clips 2/6".into(), resumable: true, final_video: None, error: None, damage: Some("the database lacks 3 events (#40–#42); read from the journal".into()), group: Some("lamps #3".into()), group_key: Some(("batch:lamps".into(), 3, String::new())) },
        SessionRow { id: "20261120-000000-999999".into(), title: String::new(), created_at_ms: 0, cost_usd: 0.0, score: None, score_stale: false, status: String::new(), resumable: false, final_video: None, error: Some("event #2 is corrupt".into()), damage: None, group: None, group_key: None },
    ]));
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
    snap("sessions_listed", &a, 120, 18);
}

#[test]
fn session_screen_states() {
    let mut a = app(false);
    a.screen = Screen::Session;
    snap("session_new", &a, 120, 30);
    let a = with_session(app(false), "story", RunState::AtGate(admint::pipeline::Gate::Story));
    snap("session_story_gate", &a, 120, 30);
    let mut a = with_session(app(false), "clips", RunState::Running);
    a.focus = Focus::Scenes;
    snap("session_running_failed_clip", &a, 120, 30);
    let mut a = with_session(app(false), "scored", RunState::Idle);
    a.focus = Focus::Quality;
    snap("session_scored", &a, 120, 30);
}

#[test]
fn popups_narrow_and_too_small() {
    let mut a = with_session(app(false), "clips", RunState::Running);
    // In the prompt '?' types; F1 opens help there (and '?' in every other panel).
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)));
    assert_eq!(a.input.lines(), ["?"]);
    a.update(Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
    a.update(Action::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
    snap("popup_help", &a, 120, 40);
    a.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    a.update(Action::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    a.update(Action::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE)));
    snap("popup_edit_scene", &a, 120, 30);
    a.update(Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)));
    snap("popup_confirm_quit", &a, 120, 30);
    let a = with_session(app(false), "scored", RunState::Idle);
    snap("narrow_80x24", &a, 80, 24);
    snap("too_small", &a, 50, 12);
}

#[test]
fn quality_colours_follow_thresholds_and_no_color_keeps_selection_visible() {
    let a = with_session(app(false), "scored", RunState::Idle);
    let t = render(&a, 120, 30);
    let buf = t.backend().buffer();
    let find = |needle: &str| -> (u16, u16) {
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect();
            if let Some(i) = line.find(needle) {
                return (line[..i].chars().count() as u16, y);
            }
        }
        panic!("{needle} not on screen");
    };
    let (x, y) = find(" 85 ");
    assert_eq!(buf[(x + 2, y)].fg, a.theme.good.fg.unwrap(), "85 ≥ 80 is good");
    let (x, y) = find(" 55 ");
    assert_eq!(buf[(x + 2, y)].fg, a.theme.poor.fg.unwrap(), "55 < 60 is poor");
    let (x, y) = find("ms:72");
    assert_eq!(buf[(x, y)].fg, a.theme.acceptable.fg.unwrap(), "72 is acceptable");

    let mut nc = with_session(app(true), "scored", RunState::Idle);
    nc.focus = Focus::Scenes;
    let t = render(&nc, 120, 30);
    let buf = t.backend().buffer();
    let mut reversed = false;
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            assert!(c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset, "NO_COLOR: no colours at {x},{y}");
            reversed |= c.modifier.contains(Modifier::REVERSED) && c.symbol() == "▶";
        }
    }
    assert!(reversed, "the selected scene is shown in reverse video");
}

/// Text from a prompt, a model or an error never puts a control byte on the screen:
/// escape sequences, bells and C1 controls are not drawn as they are.
#[test]
fn hostile_text_never_puts_a_control_character_in_a_cell() {
    let hostile = "x\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{0}\r\u{8}y";
    let mut a = with_session(app(false), "clips", RunState::Running);
    if let Some(v) = a.session.as_mut() {
        let mut e = EventEnvelope { v: EVENT_VERSION, seq: 99, at_ms: 1_790_000_020_000, event: Event::SceneEdited { scene_id: 1, patch: ScenePatch { on_screen_text: Some(hostile.into()), description: Some(hostile.into()), ..Default::default() } } };
        v.apply(&e);
        e.seq = 100;
        e.event = Event::ClipFailed { scene_id: 4, key: "c4".into(), error: hostile.into() };
        v.apply(&e);
    }
    a.update(Action::Error(format!("provider said: {hostile}")));
    a.update(Action::Info(hostile.into()));
    a.input.insert_str(hostile);
    let mut sessions = app(false);
    sessions.update(Action::SessionsLoaded(vec![SessionRow { id: "20261122-000000-abcdef".into(), title: hostile.into(), created_at_ms: 0, cost_usd: 0.0, score: None, score_stale: false, status: hostile.into(), resumable: true, final_video: None, error: Some(hostile.into()), damage: None, group: None, group_key: None }]));
    for (what, app) in [("session", &a), ("sessions", &sessions)] {
        for (w, h) in [(120, 30), (80, 24)] {
            let t = render(app, w, h);
            let buf = t.backend().buffer();
            let mut seen_text = false;
            for y in 0..h {
                for x in 0..w {
                    let sym = buf[(x, y)].symbol();
                    assert!(!sym.chars().any(|c| c.is_control()), "{what} {w}x{h}: cell ({x},{y}) holds {sym:?}");
                    seen_text |= sym == "y";
                }
            }
            assert!(seen_text, "{what} {w}x{h}: the text around the controls is still shown");
        }
    }
}

fn row(t: &Terminal<TestBackend>, y: u16) -> String {
    let buf = t.backend().buffer();
    (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()
}

/// At every size, in every panel: the hint bar ends with `? help` and still has `quit`,
/// the header shows every stage, and a long status never pushes them off.
#[test]
fn the_hint_bar_and_the_header_fit_every_width() {
    for (w, h) in [(200, 60), (120, 35), (80, 24), (60, 18)] {
        for focus in [Focus::Input, Focus::Chat, Focus::Scenes, Focus::Progress, Focus::Quality] {
            let mut a = with_session(app(false), "clips", RunState::Running);
            a.focus = focus;
            a.status = "unknown command ':frobnicate the whole advert please': try resume ID, export DIR, theme NAME".into();
            let t = render(&a, w, h);
            let hints = row(&t, h - 1);
            assert!(hints.trim_end().ends_with("help"), "{w}x{h} {focus:?}: {hints:?}");
            assert!(hints.contains(" quit"), "{w}x{h} {focus:?}: {hints:?}");
            let header = row(&t, 0);
            assert!(header.contains("comp") && header.contains("scor"), "{w}x{h}: the last stages are shown: {header:?}");
        }
        let t = render(&app(false), w, h);
        let hints = row(&t, h - 1);
        assert!(hints.trim_end().ends_with("help") && hints.contains(" quit"), "{w}x{h} sessions: {hints:?}");
    }
}

/// The Quality panel scrolls with j/k to every clip and the legend, which spells out
/// every abbreviation.
#[test]
fn the_quality_panel_scrolls_and_explains_its_abbreviations() {
    let mut a = with_session(app(false), "scored", RunState::Idle);
    a.focus = Focus::Quality;
    let screen = |a: &App| {
        let t = render(a, 80, 24);
        (0..24).map(|y| row(&t, y)).collect::<Vec<_>>().join("\n")
    };
    let first = screen(&a);
    assert!(first.contains("more (j/k)"), "{first}");
    let mut seen = first.clone();
    for _ in 0..20 {
        a.update(Action::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
        seen.push_str(&screen(&a));
    }
    for needle in ["tf temporal flickering", "ms motion smoothness", "dd dynamic degree", "heuristic"] {
        assert!(seen.contains(needle), "'{needle}' is reachable: {seen}");
    }
    assert!(!screen(&a).contains("more (j/k)"), "scrolled to the end");
}

/// The advert's path is never wrapped inside (it is shortened in the middle), and `y`
/// copies the whole of it.
#[test]
fn a_long_path_is_shortened_not_wrapped_and_y_copies_it() {
    let mut a = with_session(app(false), "scored", RunState::Running);
    let path = format!("/home/ana/projects/{}/admint-out/20261122-000000-abcdef/final.mp4", "client-campaigns-autumn".repeat(2));
    a.update(Action::Pipeline(admint::pipeline::Update::Finished {
        session: "20261122-000000-abcdef".into(),
        result: Ok(admint::pipeline::RunOutcome::Done { session: "20261122-000000-abcdef".into(), final_path: path.clone().into() }),
    }));
    let t = render(&a, 80, 24);
    let text: Vec<String> = (0..24).map(|y| row(&t, y)).collect();
    assert!(text.iter().any(|l| l.contains("…") && l.contains("final.mp4")), "{text:#?}");
    assert!(!text.iter().any(|l| l.trim_end().trim_end_matches('│').trim_end().ends_with("final.")), "{text:#?}");
    a.focus = Focus::Chat;
    let effects = a.update(Action::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE)));
    assert_eq!(effects, vec![admint::tui::action::Effect::Copy(path)]);
}

/// Under NO_COLOR a half-block preview would be a solid block: it says so instead.
#[test]
fn a_preview_without_colour_says_what_it_needs() {
    let mut a = with_session(app(true), "scored", RunState::Idle);
    a.preview = Some(asset(1));
    let t = render(&a, 120, 30);
    let text: String = (0..30).map(|y| row(&t, y)).collect::<Vec<_>>().join("\n");
    assert!(text.contains("previews need colour"), "{text}");
    assert!(!text.contains("▄▄▄▄"), "{text}");
}

/// Help at every size: every description whole, every section under its heading, and
/// what does not fit reached with j.
#[test]
fn help_reflows_and_scrolls_at_every_size() {
    let km = Keymap::default();
    for (w, h) in [(80, 24), (120, 35), (200, 60)] {
        let mut a = with_session(app(false), "clips", RunState::Running);
        a.update(Action::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
        let mut seen = String::new();
        for _ in 0..150 {
            let t = render(&a, w, h);
            seen.push_str(&(0..h).map(|y| row(&t, y)).collect::<Vec<_>>().join("\n"));
            a.update(Action::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
        }
        assert!(a.popup.is_some(), "j scrolls, it does not close");
        for (ctx, binds) in km.help() {
            assert!(seen.contains(ctx.title()), "{w}x{h}: heading {}", ctx.title());
            for (_, desc) in binds {
                assert!(seen.contains(desc), "{w}x{h}: '{desc}' is shown whole");
            }
        }
        assert!(seen.contains("Prompt answers") && seen.contains("retry clip 2"), "{w}x{h}: the last lines are reached");
        a.update(Action::Key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE)));
        assert!(a.popup.is_none(), "any other key closes");
    }
}

/// An open preview follows j/k in the Scenes panel and says which scene it shows.
#[test]
fn an_open_preview_follows_the_selection_and_names_its_scene() {
    let mut a = with_session(app(false), "clips", RunState::Idle);
    if let Some(v) = a.session.as_mut() {
        for (seq, id) in [(50, 1), (51, 2)] {
            v.apply(&EventEnvelope { v: EVENT_VERSION, seq, at_ms: 0, event: Event::KeyframeReady { keyframe: Keyframe { scene_id: id, image: asset(40 + id as u8), key: format!("kf{id}") } } });
        }
    }
    a.focus = Focus::Scenes;
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE)));
    assert_eq!(a.preview, Some(asset(41)));
    a.update(Action::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)));
    assert_eq!(a.preview, Some(asset(42)), "the preview follows the selection");
    let t = render(&a, 120, 30);
    assert!(row(&t, 1).contains("Preview: scene 2 keyframe"), "{}", row(&t, 1));
}

fn click(a: &mut App, x: u16, y: u16, kind: crossterm::event::MouseEventKind) -> Vec<admint::tui::action::Effect> {
    a.update(Action::Mouse(crossterm::event::MouseEvent { kind, column: x, row: y, modifiers: KeyModifiers::NONE }))
}

/// Clicks focus the panel under them and select the scene or session; a double click
/// opens a session; the wheel scrolls what is under the pointer.
#[test]
fn the_mouse_focuses_selects_and_scrolls() {
    use crossterm::event::{MouseButton, MouseEventKind};
    let left = MouseEventKind::Down(MouseButton::Left);
    let mut a = with_session(app(false), "clips", RunState::Idle);
    a.focus = Focus::Input;
    let t = render(&a, 120, 30);
    // Find scene 3's row on screen and click it.
    let y = (0..30).find(|y| row(&t, *y).contains("│ 3  2.0s")).expect("scene 3 is listed");
    let line = row(&t, y);
    let x = line[..line.find("│ 3  2.0s").unwrap()].chars().count() as u16 + 3;
    click(&mut a, x, y, left);
    assert_eq!(a.focus, Focus::Scenes);
    assert_eq!(a.session.as_ref().unwrap().scene_sel, 2);
    // The wheel over the chat scrolls it; a click there focuses it.
    render(&a, 120, 30);
    click(&mut a, 5, 10, MouseEventKind::ScrollUp);
    assert_eq!(a.session.as_ref().unwrap().chat_scroll, 3);
    click(&mut a, 5, 10, left);
    assert_eq!(a.focus, Focus::Chat);
    // Sessions: a click selects, a double click opens.
    let mut s = app(false);
    s.update(Action::SessionsLoaded(vec![
        SessionRow { id: "20261122-000000-abcdef".into(), title: "AirRun Pro".into(), created_at_ms: 1_790_000_000_000, cost_usd: 0.0, score: None, score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
        SessionRow { id: "20261121-000000-123456".into(), title: "HydroPeak".into(), created_at_ms: 1_789_900_000_000, cost_usd: 0.0, score: None, score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
    ]));
    let t = render(&s, 120, 20);
    let y = (0..20).find(|y| row(&t, *y).contains("HydroPeak")).unwrap();
    assert!(click(&mut s, 30, y, left).is_empty());
    assert_eq!(s.sessions_sel, 1);
    assert_eq!(click(&mut s, 30, y, left), vec![admint::tui::action::Effect::OpenSession("20261121-000000-123456".into())]);
}

fn press(a: &mut App, keys: &str) {
    for c in keys.chars() {
        a.update(Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)));
    }
}

/// `/` finds text as it is typed in the chat, the scenes and the sessions list; `n` and
/// `N` step through the matches; Esc leaves the search.
#[test]
fn slash_searches_incrementally_and_n_steps_through_matches() {
    let enter = Action::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let esc = Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    // Scenes: the match is selected while typing.
    let mut a = with_session(app(false), "clips", RunState::Idle);
    a.focus = Focus::Scenes;
    press(&mut a, "/Feel");
    assert_eq!(a.session.as_ref().unwrap().scene_sel, 2, "{:?}", a.status);
    a.update(enter.clone());
    // Chat: every "clip" message in turn; the match is scrolled into view and marked.
    a.focus = Focus::Chat;
    press(&mut a, "/clip");
    a.update(enter.clone());
    let first = a.session.as_ref().unwrap().chat_mark.expect("a chat match");
    assert!(a.session.as_ref().unwrap().chat[first].text.to_lowercase().contains("clip"));
    press(&mut a, "n");
    let second = a.session.as_ref().unwrap().chat_mark.unwrap();
    assert!(second > first, "n goes to the next match");
    press(&mut a, "N");
    assert_eq!(a.session.as_ref().unwrap().chat_mark, Some(first));
    let t = render(&a, 120, 30);
    let text = a.session.as_ref().unwrap().chat[first].text.clone();
    let shown = (0..30).any(|y| row(&t, y).contains(&text.chars().take(20).collect::<String>()));
    assert!(shown, "the match is on screen");
    // Sessions: n steps while a search is set; after Esc it is a new advert again.
    let mut s = app(false);
    s.update(Action::SessionsLoaded(vec![
        SessionRow { id: "20261122-000000-abcdef".into(), title: "AirRun Pro".into(), created_at_ms: 0, cost_usd: 0.0, score: None, score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
        SessionRow { id: "20261121-000000-123456".into(), title: "HydroPeak".into(), created_at_ms: 0, cost_usd: 0.0, score: None, score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
        SessionRow { id: "20261120-000000-999999".into(), title: "HydroPeak Mini".into(), created_at_ms: 0, cost_usd: 0.0, score: None, score_stale: false, status: "done".into(), resumable: false, final_video: None, error: None, damage: None, group: None, group_key: None },
    ]));
    press(&mut s, "/hydro");
    assert_eq!(s.sessions_sel, 1);
    s.update(enter);
    press(&mut s, "n");
    assert_eq!((s.sessions_sel, s.screen), (2, Screen::Sessions), "n is the next match here");
    s.update(esc);
    press(&mut s, "n");
    assert_eq!(s.screen, Screen::Session, "without a search, n is a new advert");
}

/// A popup is drawn on the theme's background, never the terminal's default (under a
/// light theme that would be dark boxes behind dark text).
#[test]
fn popups_are_drawn_on_the_theme_background() {
    let mut a = with_session(app(false), "clips", RunState::Idle);
    a.theme = Theme::load("light", std::path::Path::new("/nonexistent"), false).unwrap();
    let bg = a.theme.base.bg.expect("the light theme has a background");
    a.update(Action::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
    let t = render(&a, 120, 35);
    let buf = t.backend().buffer();
    // Every cell of the help (its middle rows, key column included) has the theme's background.
    for y in 5..30 {
        for x in 4..116 {
            assert_eq!(buf[(x, y)].bg, bg, "cell {x},{y} ('{}')", buf[(x, y)].symbol());
        }
    }
}
