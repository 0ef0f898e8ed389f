//! Rendered reading-pane documents, kept for the next open.
//!
//! [`super::render`] runs the sanitiser over the stored HTML each time a
//! message is shown; for a large newsletter (up to [`super::MAX_HTML`])
//! that is a second or more of CPU, paid again on every arrow key back to
//! it. This cache keeps the last documents, bounded by count and by bytes,
//! keyed by the message, the remote-content choice and a hash of the stored
//! HTML: a body that changed (re-fetched, a draft saved again) misses and
//! is rendered afresh, and a choice to load remote content is its own
//! entry.

use std::collections::hash_map::DefaultHasher;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::RenderedBody;

/// Documents kept, at most.
pub const CACHED_DOCUMENTS: usize = 16;
/// Bytes of documents kept, at most: a few of the largest bodies.
pub const CACHED_BYTES: usize = 24 * 1024 * 1024;

/// What a rendered document depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderKey {
    message: i64,
    allow_remote: bool,
    source_len: usize,
    source_hash: u64,
}

impl RenderKey {
    /// The key of message `message`'s stored HTML `stored_html` rendered
    /// with remote content allowed or not. Hashing reads the whole body
    /// (milliseconds for megabytes): call it where CPU work may run.
    pub fn new(message: i64, allow_remote: bool, stored_html: &str) -> Self {
        let mut hasher = DefaultHasher::new();
        stored_html.hash(&mut hasher);
        Self {
            message,
            allow_remote,
            source_len: stored_html.len(),
            source_hash: hasher.finish(),
        }
    }
}

/// The last rendered documents, most recent first. Cheap to share: clones
/// of an `Arc` of it see the same entries.
#[derive(Debug, Default)]
pub struct RenderCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    list: VecDeque<(RenderKey, Arc<RenderedBody>)>,
    bytes: usize,
}

impl RenderCache {
    /// The document for `key`, if kept (it becomes the most recent).
    pub fn get(&self, key: &RenderKey) -> Option<Arc<RenderedBody>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.list.iter().position(|(k, _)| k == key)?;
        let entry = entries.list.remove(at)?;
        let body = entry.1.clone();
        entries.list.push_front(entry);
        Some(body)
    }

    /// Keeps `body` as the document for `key`, dropping the least recent
    /// ones past the bounds. A document larger than the byte bound alone is
    /// not kept.
    pub fn put(&self, key: RenderKey, body: Arc<RenderedBody>) {
        let size = body.html.len();
        if size > CACHED_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = entries.list.iter().position(|(k, _)| *k == key) {
            if let Some((_, old)) = entries.list.remove(at) {
                entries.bytes -= old.html.len();
            }
        }
        entries.list.push_front((key, body));
        entries.bytes += size;
        while entries.list.len() > CACHED_DOCUMENTS || entries.bytes > CACHED_BYTES {
            match entries.list.pop_back() {
                Some((_, old)) => entries.bytes -= old.html.len(),
                None => break,
            }
        }
    }

    /// Documents and bytes kept now.
    pub fn len_and_bytes(&self) -> (usize, usize) {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        (entries.list.len(), entries.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(bytes: usize) -> Arc<RenderedBody> {
        Arc::new(RenderedBody {
            html: "x".repeat(bytes),
            remote_blocked: 0,
            remote_allowed: false,
            sender_unverified: false,
        })
    }

    #[test]
    fn a_changed_body_or_remote_choice_misses() {
        let cache = RenderCache::default();
        let key = RenderKey::new(1, false, "<p>a</p>");
        cache.put(key, body(10));
        assert!(cache.get(&RenderKey::new(1, false, "<p>a</p>")).is_some());
        assert!(cache.get(&RenderKey::new(1, true, "<p>a</p>")).is_none());
        assert!(cache.get(&RenderKey::new(1, false, "<p>b</p>")).is_none());
        assert!(cache.get(&RenderKey::new(2, false, "<p>a</p>")).is_none());
    }

    #[test]
    fn the_cache_stays_within_its_bounds_dropping_the_least_recent() {
        let cache = RenderCache::default();
        let big = CACHED_BYTES / 3 + 1;
        for id in 0..3 {
            cache.put(RenderKey::new(id, false, ""), body(big));
        }
        let (count, bytes) = cache.len_and_bytes();
        assert_eq!(count, 2, "three of a third of the bound do not fit");
        assert!(bytes <= CACHED_BYTES);
        assert!(cache.get(&RenderKey::new(0, false, "")).is_none());
        assert!(cache.get(&RenderKey::new(2, false, "")).is_some());

        for id in 10..10 + 2 * CACHED_DOCUMENTS as i64 {
            cache.put(RenderKey::new(id, false, ""), body(1));
        }
        assert_eq!(cache.len_and_bytes().0, CACHED_DOCUMENTS);

        cache.put(RenderKey::new(99, false, ""), body(CACHED_BYTES + 1));
        assert!(cache.get(&RenderKey::new(99, false, "")).is_none());
        assert!(cache.len_and_bytes().1 <= CACHED_BYTES);
    }
}
