//! When to raise an OS notification for new mail: only for Primary mail,
//! at most one per [`NOTIFY_INTERVAL`], with mail that arrives in between
//! summarised in the next one instead of lost. Pure logic over times passed
//! in, so the shell's timer and the tests drive it alike.

use std::time::Duration;

use tokio::time::Instant;

use crate::model::MessageSummary;

/// The least time between two notifications.
pub const NOTIFY_INTERVAL: Duration = Duration::from_secs(30);

/// The settings key that turns notifications off (`false`, or `"false"`).
pub use crate::store::settings::NOTIFICATIONS_ENABLED;

/// A notification to show. Both parts are untrusted mail text made safe
/// for the notification server: the body with markup escaped (servers
/// render `<b>`, `<a href>` and `<img>` in it), both without control
/// characters and at most [`MAX_NOTICE_CHARS`] long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The headline (plain text).
    pub title: String,
    /// One line under it (markup escaped).
    pub body: String,
}

/// The longest title or body shown.
pub const MAX_NOTICE_CHARS: usize = 200;

/// `text` on one line, without control characters, shortened.
fn plain(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_NOTICE_CHARS)
        .collect();
    if text.chars().count() > MAX_NOTICE_CHARS {
        out.push('…');
    }
    out
}

/// [`plain`], with the markup a notification body may carry escaped.
fn escaped(text: &str) -> String {
    plain(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Rate-limits and summarises new-mail notifications.
#[derive(Debug)]
pub struct NotificationGate {
    interval: Duration,
    last_shown: Option<Instant>,
    pending: u64,
    newest: Option<(String, String)>,
}

impl NotificationGate {
    /// A gate letting one notification through per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_shown: None,
            pending: 0,
            newest: None,
        }
    }

    /// New Primary messages arrived (newest first). Returns a notice when
    /// one may be shown now; otherwise they wait for [`Self::due`].
    pub fn offer(&mut self, now: Instant, primary: &[MessageSummary]) -> Option<Notice> {
        if let Some(first) = primary.first() {
            let from = first
                .from
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| first.from.address.clone());
            self.newest = Some((from, first.subject.clone()));
            self.pending += primary.len() as u64;
        }
        self.due(now)
    }

    /// When held-back mail may be shown, if any is waiting.
    pub fn next_due(&self) -> Option<Instant> {
        (self.pending > 0).then(|| {
            self.last_shown
                .map_or_else(Instant::now, |t| t + self.interval)
        })
    }

    /// The held-back summary, if any is waiting and the interval has passed.
    pub fn due(&mut self, now: Instant) -> Option<Notice> {
        if self.pending == 0 {
            return None;
        }
        if self
            .last_shown
            .is_some_and(|t| now.duration_since(t) < self.interval)
        {
            return None;
        }
        self.last_shown = Some(now);
        let count = std::mem::take(&mut self.pending);
        let (from, subject) = self.newest.take().unwrap_or_default();
        Some(if count == 1 {
            Notice {
                title: plain(&from),
                body: if subject.is_empty() {
                    "(no subject)".into()
                } else {
                    escaped(&subject)
                },
            }
        } else {
            Notice {
                title: format!("{count} new messages in Primary"),
                body: escaped(&format!("Latest from {from}: {subject}")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mail_text_cannot_put_markup_or_control_characters_in_a_notification() {
        let mut gate = NotificationGate::new(Duration::from_secs(30));
        let hostile = mail(
            "Eve\n<b>Bank</b>",
            "<a href=\"https://evil.example\">Click</a> & <img src=x>",
        );
        let notice = gate.offer(Instant::now(), &[hostile]);
        let notice = notice.unwrap_or(Notice {
            title: String::new(),
            body: String::new(),
        });
        assert!(!notice.title.contains('\n'));
        assert!(
            !notice.body.contains('<') && !notice.body.contains('>'),
            "{}",
            notice.body
        );
        assert!(notice
            .body
            .contains("&lt;a href=&quot;https://evil.example&quot;&gt;"));
        assert!(notice.body.contains("&amp;"));
        let long = mail("A", &"x".repeat(1_000));
        let mut gate = NotificationGate::new(Duration::from_secs(30));
        let notice = gate.offer(Instant::now(), &[long]);
        assert!(notice.is_some_and(|n| n.body.chars().count() <= MAX_NOTICE_CHARS + 1));
    }

    use super::*;
    use crate::model::Address;

    fn mail(from: &str, subject: &str) -> MessageSummary {
        MessageSummary {
            id: 1,
            account_id: 1,
            thread_id: None,
            subject: subject.into(),
            from: Address {
                name: Some(from.into()),
                address: "x@example.org".into(),
            },
            date: 0,
            snippet: String::new(),
            unread: true,
            starred: false,
            has_attachments: false,
            category: None,
            category_confidence: None,
            thread_size: 1,
            spam: false,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_notification_per_interval_then_a_summary() {
        let mut gate = NotificationGate::new(NOTIFY_INTERVAL);
        let t0 = Instant::now();
        let first = gate.offer(t0, &[mail("Ada", "Lunch?")]);
        assert_eq!(
            first,
            Some(Notice {
                title: "Ada".into(),
                body: "Lunch?".into()
            })
        );
        assert_eq!(
            gate.offer(t0 + Duration::from_secs(5), &[mail("Bob", "Report")]),
            None
        );
        assert_eq!(
            gate.offer(
                t0 + Duration::from_secs(9),
                &[mail("Cy", "Plan"), mail("Di", "x")]
            ),
            None
        );
        assert_eq!(gate.next_due(), Some(t0 + NOTIFY_INTERVAL));
        assert_eq!(gate.due(t0 + Duration::from_secs(29)), None);
        let summary = gate.due(t0 + NOTIFY_INTERVAL);
        assert_eq!(
            summary,
            Some(Notice {
                title: "3 new messages in Primary".into(),
                body: "Latest from Cy: Plan".into()
            })
        );
        assert_eq!(gate.next_due(), None, "nothing waits after the summary");
    }

    #[tokio::test(start_paused = true)]
    async fn no_primary_mail_no_notification() {
        let mut gate = NotificationGate::new(NOTIFY_INTERVAL);
        assert_eq!(gate.offer(Instant::now(), &[]), None);
    }
}
