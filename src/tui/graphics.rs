//! What the terminal can draw, asked of the terminal itself: a kitty graphics query, the
//! cell size in pixels (`CSI 16 t`) and the primary device attributes (`CSI c`, whose
//! attribute 4 is sixel). Every terminal answers the device attributes, and they are
//! asked last, so their answer ends the reading. The answer is read from stdin with
//! `poll` and byte by byte, on this thread, before the UI's event reader starts: no
//! thread is left behind to steal keys, and a key typed after the answer stays unread;
//! one typed while the answer was awaited is handed back (`Asked::typed`).

use std::time::{Duration, Instant};

/// What the terminal said.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub kitty: bool,
    pub sixel: bool,
    /// A character cell in pixels (width, height).
    pub cell: Option<(u16, u16)>,
}

/// What the UI draws pictures with when left to choose (`auto`), from the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub protocol: ratatui_image::picker::ProtocolType,
    /// A character cell in pixels (width, height).
    pub cell: (u16, u16),
    /// Whether the terminal was asked at all (not with images off at start).
    pub asked: bool,
}

impl Default for Detected {
    fn default() -> Self {
        Detected { protocol: ratatui_image::picker::ProtocolType::Halfblocks, cell: (10, 20), asked: false }
    }
}

/// A cell in pixels: as the terminal said, else from the window's size in pixels (xterm
/// keeps `CSI 16 t` off but fills the kernel's window size), else 10x20.
pub fn cell_size(answer: Option<Answer>) -> (u16, u16) {
    let from_window = crossterm::terminal::window_size()
        .ok()
        .filter(|w| w.columns > 0 && w.rows > 0)
        .map(|w| (w.width / w.columns, w.height / w.rows))
        .filter(|(w, h)| *w > 0 && *h > 0);
    answer.and_then(|a| a.cell).or(from_window).unwrap_or((10, 20))
}

/// The query: kitty's (a 1x1 image it only checks), the cell size, then the attributes.
pub const QUERY: &str = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[c";

/// Read what the terminal answered so far; `None` until the device attributes arrived.
pub fn parse(bytes: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(bytes);
    let mut a = Answer { kitty: text.contains("\x1b_Gi=31;OK"), ..Answer::default() };
    // CSI 6 ; height ; width t
    if let Some(rest) = text.split("\x1b[6;").nth(1) {
        if let Some((h, rest)) = rest.split_once(';') {
            if let Some((w, _)) = rest.split_once('t') {
                if let (Ok(h), Ok(w)) = (h.parse::<u16>(), w.parse::<u16>()) {
                    a.cell = Some((w, h)).filter(|(w, h)| *w > 0 && *h > 0);
                }
            }
        }
    }
    // CSI ? attrs c
    let da = text.split("\x1b[?").skip(1).find_map(|r| r.split_once('c').map(|(attrs, _)| attrs.to_string()).filter(|s| s.chars().all(|c| c.is_ascii_digit() || c == ';')))?;
    a.sixel = da.split(';').skip(1).any(|attr| attr == "4");
    Some(a)
}

/// What came back from asking: the answer (`None`: not a terminal, or no answer in
/// time), and the keys typed meanwhile, as they were read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Asked {
    pub answer: Option<Answer>,
    pub typed: Vec<u8>,
}

/// `bytes` without the terminal's answers to `QUERY`: what the user typed meanwhile.
pub fn typed(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    let ends = |from: usize, end: &[u8]| bytes[from..].windows(end.len()).position(|w| w == end).map(|p| from + p + end.len());
    while i < bytes.len() {
        let rest = &bytes[i..];
        // kitty's answer (APC … ST), the cell size (CSI 6 ; h ; w t), the attributes (CSI ? … c).
        let answer_end = if rest.starts_with(b"\x1b_G") {
            ends(i, b"\x1b\\")
        } else if rest.starts_with(b"\x1b[6;") {
            ends(i, b"t")
        } else if rest.starts_with(b"\x1b[?") {
            ends(i, b"c")
        } else {
            None
        };
        match answer_end {
            Some(end) => i = end,
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// The keys in typed bytes, as crossterm would report them: characters, Enter, Tab,
/// Backspace, Esc and the arrows (others are dropped).
pub fn keys(typed: &[u8]) -> Vec<crossterm::event::KeyEvent> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let text = String::from_utf8_lossy(typed);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let code = match c {
            '\r' | '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            '\x7f' | '\x08' => KeyCode::Backspace,
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                match chars.next() {
                    Some('A') => KeyCode::Up,
                    Some('B') => KeyCode::Down,
                    Some('C') => KeyCode::Right,
                    Some('D') => KeyCode::Left,
                    _ => continue,
                }
            }
            '\x1b' => KeyCode::Esc,
            c if c.is_control() => continue,
            c => KeyCode::Char(c),
        };
        out.push(KeyEvent::new(code, KeyModifiers::NONE));
    }
    out
}

/// Ask the terminal on stdin/stdout (raw mode on), waiting at most `timeout`.
pub fn ask(timeout: Duration) -> Asked {
    let mut got = Vec::new();
    let answer = ask_into(timeout, &mut got);
    Asked { answer, typed: typed(&got) }
}

fn ask_into(timeout: Duration, got: &mut Vec<u8>) -> Option<Answer> {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let stdin = std::io::stdin();
    let fd = stdin.as_raw_fd();
    // SAFETY: isatty only reads the descriptor's state.
    if unsafe { libc::isatty(fd) } != 1 || unsafe { libc::isatty(libc::STDOUT_FILENO) } != 1 {
        return None;
    }
    let raw_before = crossterm::terminal::is_raw_mode_enabled().unwrap_or(false);
    if !raw_before {
        crossterm::terminal::enable_raw_mode().ok()?;
    }
    let mut out = std::io::stdout();
    let answer = (|| {
        out.write_all(QUERY.as_bytes()).ok()?;
        out.flush().ok()?;
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || got.len() > 4096 {
                return None;
            }
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd, for the given number of milliseconds.
            let ready = unsafe { libc::poll(&mut pfd, 1, left.as_millis().clamp(1, i32::MAX as u128) as i32) };
            if ready < 0 {
                return None;
            }
            if ready == 0 {
                continue;
            }
            let mut byte = 0u8;
            // SAFETY: reads one byte into a valid one-byte buffer.
            if unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) } != 1 {
                return None;
            }
            got.push(byte);
            if byte == b'c' {
                if let Some(a) = parse(got) {
                    return Some(a);
                }
            }
        }
    })();
    if !raw_before {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_terminals_write_them() {
        // xterm -ti vt340: sixel in the attributes, the cell size, no kitty.
        let xterm = parse(b"\x1b[6;17;8t\x1b[?63;1;2;4;6;9;15;22c").unwrap();
        assert_eq!(xterm, Answer { kitty: false, sixel: true, cell: Some((8, 17)) });
        // kitty: its graphics answer first.
        let kitty = parse(b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;c").unwrap();
        assert_eq!(kitty, Answer { kitty: true, sixel: false, cell: Some((10, 20)) });
        // tmux answers for itself: no sixel (attribute 1 and 2 only), no cell size.
        assert_eq!(parse(b"\x1b[?1;2c"), Some(Answer::default()));
        // Incomplete: the attributes have not come yet.
        assert_eq!(parse(b"\x1b[6;17;8t"), None);
        // The 'c' of a kitty answer is not the end.
        assert_eq!(parse(b"\x1b_Gi=31;OK"), None);
    }

    #[test]
    fn keys_typed_while_the_terminal_answers_are_kept() {
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        // "hi" typed around the answers, an arrow among them, then Enter.
        let read = b"h\x1b_Gi=31;OK\x1b\\i\x1b[6;17;8t\x1b[A\x1b[?63;1;2;4c\r";
        assert_eq!(typed(read), b"hi\x1b[A\r");
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(keys(&typed(read)), [k(KeyCode::Char('h')), k(KeyCode::Char('i')), k(KeyCode::Up), k(KeyCode::Enter)]);
        // Nothing typed: nothing handed back; a lone Esc and UTF-8 text come through.
        assert!(typed(b"\x1b[6;17;8t\x1b[?62;c").is_empty());
        assert_eq!(keys("é\x1b".as_bytes()), [k(KeyCode::Char('é')), k(KeyCode::Esc)]);
    }
}
