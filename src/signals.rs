//! Requests to stop from outside the process: Ctrl-C (SIGINT), SIGTERM (a service
//! manager, `kill`) and SIGHUP (the terminal went away — a dropped SSH link, a closed
//! tmux pane). Both front ends treat them as "stop": local renders end, remote jobs stay
//! recorded for `resume`, nothing finished is lost, no ffmpeg is left running.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Which request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Interrupt,
    Terminate,
    Hangup,
}

impl Stop {
    pub fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
            Stop::Hangup => "SIGHUP",
        }
    }
}

/// The signals being listened for. Once created, these signals no longer end the
/// process by themselves; whoever holds this must stop the run.
pub struct StopSignals {
    interrupt: Option<Signal>,
    terminate: Signal,
    hangup: Signal,
}

impl StopSignals {
    /// Listen for SIGTERM and SIGHUP, and for SIGINT when `interrupt` (the full-screen
    /// UI reads Ctrl-C as a key instead). Must be called inside the tokio runtime.
    pub fn new(interrupt: bool) -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: if interrupt { Some(signal(SignalKind::interrupt())?) } else { None },
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// The next request to stop.
    pub async fn recv(&mut self) -> Stop {
        let interrupt = async {
            match self.interrupt.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = interrupt => Stop::Interrupt,
            _ = self.terminate.recv() => Stop::Terminate,
            _ = self.hangup.recv() => Stop::Hangup,
        }
    }
}

/// After a hangup the terminal is gone and writing to it fails (or blocks): point
/// stdin, stdout and stderr at /dev/null so that the last messages and frames go nowhere
/// instead of failing. The log file still records everything.
pub fn detach_from_terminal() {
    let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") else { return };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&null);
    for target in [0, 1, 2] {
        // SAFETY: dup2 onto the standard descriptors with a valid open descriptor; it
        // only replaces what those numbers refer to.
        unsafe {
            libc::dup2(fd, target);
        }
    }
}
