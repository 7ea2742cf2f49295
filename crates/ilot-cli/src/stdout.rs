//! Standard output without SIGPIPE. Rust leaves SIGPIPE ignored, and `ilot` keeps it so: a
//! client that resets its connection must never kill `ilot server` (nor `ilot sync` when the
//! server goes away), which the default action did. A closed standard output is handled here
//! instead: `ilot entries | head -1` ends quietly with status 141, as a Unix filter killed by
//! SIGPIPE does, where a bare `println!` would panic. The binary's `println!` and `print!` are
//! these (see `main.rs`); a long-running command calls [`keep_running`] so that its output
//! going away never stops it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit status of a command whose output was closed (128 + SIGPIPE).
pub const CLOSED: i32 = 141;

static KEEP_RUNNING: AtomicBool = AtomicBool::new(false);

/// From now on a closed standard output is ignored instead of ending the process.
pub fn keep_running() {
    KEEP_RUNNING.store(true, Ordering::Relaxed);
}

pub fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    let mut out = std::io::stdout().lock();
    let r = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            if !KEEP_RUNNING.load(Ordering::Relaxed) {
                std::process::exit(CLOSED);
            }
        }
        Err(e) => {
            if !KEEP_RUNNING.load(Ordering::Relaxed) {
                eprintln!("ilot: cannot write to standard output: {e}");
                std::process::exit(1);
            }
        }
    }
}
