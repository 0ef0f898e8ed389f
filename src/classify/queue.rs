//! The bounded queue between sync and the categoriser.
//!
//! Sync offers the ids of messages it stored and never waits: when the
//! categoriser is behind and the queue is full, the ids that do not fit are
//! left out and the queue remembers that it overflowed. They are not lost:
//! the store indexes uncategorised messages (`category IS NULL`), and the
//! categoriser sweeps it once it has drained the queue after an overflow
//! (and at every start, so a crash loses nothing either). A first sync thus
//! runs at the speed of the network and the disk, and categorisation
//! catches up behind it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::model::MessageId;

/// Ids the queue holds before pushing waits.
pub const QUEUE_CAPACITY: usize = 4096;

/// The sending side. Cheap to clone.
#[derive(Debug, Clone)]
pub struct CategoriseQueue {
    tx: mpsc::Sender<MessageId>,
    overflowed: Arc<AtomicBool>,
}

impl CategoriseQueue {
    /// A queue of `capacity` and its receiving end.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<MessageId>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            Self {
                tx,
                overflowed: Arc::default(),
            },
            rx,
        )
    }

    /// Queues what fits of `ids` without waiting; notes an overflow when
    /// some did not fit. Returns how many were queued.
    pub fn offer(&self, ids: &[MessageId]) -> usize {
        for (queued, id) in ids.iter().enumerate() {
            match self.tx.try_send(*id) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.overflowed.store(true, Ordering::Release);
                    return queued;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return queued,
            }
        }
        ids.len()
    }

    /// Whether ids were left out since the last call (and forgets it): the
    /// consumer then sweeps the store for what is still uncategorised.
    pub fn take_overflow(&self) -> bool {
        self.overflowed.swap(false, Ordering::AcqRel)
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
    async fn offering_to_a_full_queue_never_waits_and_notes_the_overflow() {
        let (queue, mut rx) = CategoriseQueue::new(2);
        assert_eq!(queue.offer(&[1, 2, 3, 4]), 2, "only what fits is queued");
        assert!(queue.take_overflow(), "the overflow is noted");
        assert!(!queue.take_overflow(), "and forgotten once taken");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(queue.offer(&[5]), 1);
        assert!(!queue.take_overflow());
    }

    #[tokio::test]
    async fn the_consumer_sees_every_id_once_and_stops_on_cancel() {
        let (queue, rx) = CategoriseQueue::new(32);
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
        queue.offer(&(1..=20).collect::<Vec<_>>());
        while seen.lock().map(|s| s.len()).unwrap_or(0) < 20 {
            tokio::task::yield_now().await;
        }
        cancel.cancel();
        let _ = consumer.await;
        let got = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(got, (1..=20).collect::<Vec<_>>());
    }
}
