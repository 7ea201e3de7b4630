//! The `skillrun` binary: parses the command line and hands over to the library.
fn main() -> std::process::ExitCode {
    // A file-size limit (`ulimit -f`) must fail a write with EFBIG, which is rolled back, rather
    // than kill the process half-way through a project with SIGXFSZ.
    #[cfg(unix)]
    // SAFETY: setting a signal to SIG_IGN at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    skillrun::signals::install();
    skillrun::cli::main()
}
