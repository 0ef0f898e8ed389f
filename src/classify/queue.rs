//! The bounded queue between sync and the categoriser.
//!
//! Sync pushes the ids of messages it stored; when the categoriser falls
//! behind, pushing waits (backpressure) instead of letting the queue grow.
//! Nothing is lost if the process dies with ids still queued: the store
//! indexes uncategorised messages (`category IS NULL`), which is where the
//! categoriser will look when it starts.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::model::MessageId;

/// Ids the queue holds before pushing waits.
pub const QUEUE_CAPACITY: usize = 4096;

/// The sending side. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CategoriseQueue {
    tx: mpsc::Sender<MessageId>,
}

impl CategoriseQueue {
    /// A queue of `capacity` and its receiving end.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<MessageId>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }

    /// Queues `ids`, waiting for room when the categoriser is behind.
    /// Returns how many were queued (fewer only if the consumer is gone).
    pub async fn push(&self, ids: &[MessageId]) -> usize {
        let mut queued = 0;
        for id in ids {
            if self.tx.send(*id).await.is_err() {
                break;
            }
            queued += 1;
        }
        queued
    }

    /// Drains the queue until `cancel`, handing each batch of ids to `handle`.
    /// Until categorisation lands, the handler only counts.
    pub async fn consume(
        mut rx: mpsc::Receiver<MessageId>,
        cancel: CancellationToken,
        mut handle: impl FnMut(Vec<MessageId>),
    ) {
        let mut batch = Vec::with_capacity(64);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                n = rx.recv_many(&mut batch, 64) => {
                    if n == 0 {
                        break;
                    }
                    handle(std::mem::take(&mut batch));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_makes_the_producer_wait_instead_of_growing() {
        let (queue, mut rx) = CategoriseQueue::new(2);
        assert_eq!(queue.push(&[1, 2]).await, 2);
        let blocked =
            tokio::time::timeout(std::time::Duration::from_millis(50), queue.push(&[3])).await;
        assert!(blocked.is_err(), "the third id waits for room");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(queue.push(&[3]).await, 1);
    }

    #[tokio::test]
    async fn the_consumer_sees_every_id_once_and_stops_on_cancel() {
        let (queue, rx) = CategoriseQueue::new(8);
        let cancel = CancellationToken::new();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let consumer = tokio::spawn(CategoriseQueue::consume(rx, cancel.clone(), {
            let seen = seen.clone();
            move |ids| {
                seen.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(ids)
            }
        }));
        queue.push(&(1..=20).collect::<Vec<_>>()).await;
        while seen.lock().map(|s| s.len()).unwrap_or(0) < 20 {
            tokio::task::yield_now().await;
        }
        cancel.cancel();
        let _ = consumer.await;
        let got = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(got, (1..=20).collect::<Vec<_>>());
    }
}
