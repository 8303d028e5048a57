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
