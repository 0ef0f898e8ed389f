//! An in-memory subscriber that keeps every event, for tests and tools that
//! need to assert on what the core published.

use std::time::Duration;

use tokio::sync::broadcast::{self, error::TryRecvError};

use super::Event;

/// Gathers events from an [`super::EventBus`] subscription.
#[derive(Debug)]
pub struct EventCollector {
    receiver: broadcast::Receiver<Event>,
    seen: Vec<Event>,
}

impl EventCollector {
    pub(super) fn new(receiver: broadcast::Receiver<Event>) -> Self {
        Self {
            receiver,
            seen: Vec::new(),
        }
    }

    /// Every event received since the last drain, oldest first.
    pub fn drain(&mut self) -> Vec<Event> {
        self.pump();
        std::mem::take(&mut self.seen)
    }

    /// Waits up to `limit` for an event matching `pred` and returns it; events
    /// before it stay available to [`EventCollector::drain`].
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        mut pred: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        self.pump();
        if let Some(found) = self.seen.iter().find(|e| pred(e)) {
            return Some(found.clone());
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.receiver.recv()).await {
                Ok(Ok(event)) => {
                    let hit = pred(&event);
                    self.seen.push(event.clone());
                    if hit {
                        return Some(event);
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
            }
        }
    }

    fn pump(&mut self) {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => self.seen.push(event),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
    }
}
