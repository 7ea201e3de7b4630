//! Stopping a process without tearing a project: applies in progress are counted, and
//! [`stop_and_wait`] (which a front end calls when it is asked to stop — a signal, the MCP
//! client closing stdin) refuses new applies and waits for the running ones to commit or roll
//! back. The engine installs no signal handler itself: a program embedding it decides how it
//! stops; the `skillrun` binary routes SIGINT, SIGTERM, SIGHUP and SIGQUIT here in every mode.

use std::sync::{Condvar, Mutex};

struct Gate {
    /// Applies in progress, and whether the process is stopping.
    state: Mutex<(usize, bool)>,
    idle: Condvar,
}

static GATE: Gate = Gate { state: Mutex::new((0, false)), idle: Condvar::new() };

/// An apply in progress; dropping it lets a waiting [`stop_and_wait`] go on.
#[must_use]
pub struct Running(());

/// Counts an apply in; `None` once the process is stopping (the apply must not start).
pub fn enter() -> Option<Running> {
    let mut state = GATE.state.lock().unwrap_or_else(|e| e.into_inner());
    if state.1 {
        return None;
    }
    state.0 += 1;
    Some(Running(()))
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut state = GATE.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        if state.0 == 0 {
            GATE.idle.notify_all();
        }
    }
}

/// Refuses every later apply and returns once none is in progress.
pub fn stop_and_wait() {
    let mut state = GATE.state.lock().unwrap_or_else(|e| e.into_inner());
    state.1 = true;
    while state.0 > 0 {
        state = GATE.idle.wait(state).unwrap_or_else(|e| e.into_inner());
    }
}

/// Whether [`stop_and_wait`] has been called.
pub fn stopping() -> bool {
    GATE.state.lock().unwrap_or_else(|e| e.into_inner()).1
}
