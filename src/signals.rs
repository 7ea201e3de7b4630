//! How the `skillrun` binary stops when it is asked to (SIGINT, SIGTERM, SIGHUP, SIGQUIT), in
//! every mode — the command line, `serve` on stdio, `serve --http`: the signals are blocked in
//! every thread and taken by one thread of their own, which lets every apply in progress commit
//! or roll back ([`crate::shutdown::stop_and_wait`]) and then ends the process by the same
//! signal, as if it had not been caught. A project is never left half-written by a polite stop
//! (SIGKILL cannot be held: the journal covers it).

/// Blocks the stop signals and starts the thread that takes them. Call first thing in `main`,
/// before any other thread exists (threads inherit the blocked set).
#[cfg(unix)]
pub fn install() {
    const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];
    // SAFETY: plain sigset manipulation on values owned here; pthread_sigmask changes this
    // thread's mask, which threads started later inherit.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in SIGNALS {
            libc::sigaddset(&mut set, signal);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let spawned = std::thread::Builder::new().name("skillrun-signals".into()).spawn(move || {
        let mut signal: libc::c_int = 0;
        // SAFETY: sigwait on the set built above, writing into a local.
        while unsafe { libc::sigwait(&set, &mut signal) } != 0 {}
        tracing::info!(signal, "asked to stop; letting any apply in progress finish first");
        crate::shutdown::stop_and_wait();
        // SAFETY: restore the default action and deliver the signal to this thread only.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, signal);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
            libc::raise(signal);
        }
        std::process::exit(128 + signal);
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the signal thread; stop signals end the process at once");
    }
}

#[cfg(not(unix))]
pub fn install() {}
