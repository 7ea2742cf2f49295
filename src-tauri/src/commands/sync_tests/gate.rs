//! A transport for the sync tests that holds one request on the way, to catch a session under way.

use std::sync::{Arc, Mutex, mpsc};

/// A transport that can hold one request: once armed, the next request says it has started and
/// waits for a release before it goes out. Every answered request is logged.
#[derive(Default)]
pub(super) struct Gate {
    armed: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
    pub(super) log: Arc<Mutex<Vec<&'static str>>>,
}

impl Gate {
    /// Arms the gate: the first receiver hears that a request started, the sender releases it.
    pub(super) fn arm(&self) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        *self.armed.lock().unwrap() = Some((started_tx, release_rx));
        (started_rx, release_tx)
    }
}

pub(super) struct Gated(
    pub(super) Box<dyn ilot_sync::Transport>,
    pub(super) Arc<Gate>,
);

impl ilot_sync::Transport for Gated {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> ilot_sync::Result<Vec<u8>> {
        let held = self.1.armed.lock().unwrap().take();
        if let Some((started, release)) = held {
            started.send(()).unwrap();
            release.recv().unwrap();
        }
        let answer = self.0.post(path, content_type, body);
        self.1.log.lock().unwrap().push("request answered");
        answer
    }
}
