//! What earlier labels say about a sender: of the labelled messages from
//! this address (and from this domain), how many went to each class.
//!
//! Gmail files a newsletter mostly by who sends it: in the training file,
//! the majority label of a sender's other messages is right for 91% of the
//! Promotions and Updates messages whose sender has any (220 of 242), and
//! the words alone cannot tell those two tabs apart as well. The counts come
//! from the training file and, at each retrain, from the labelled messages
//! it learns from: the user's corrections (the retrain follows each one
//! within seconds, so moving a message from a sender moves the next one too)
//! and the providers' own labels (Gmail's CATEGORY_*) that have been read by
//! the model.
//!
//! The classifier sees these counts as features (a share per class, and how
//! many messages the share rests on), so a sender seen once weighs little
//! and the words still decide for senders never seen. While training, each
//! example's own label is left out of its counts: otherwise the model would
//! learn that the sender's share always contains the answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::classifier::Class;
use super::features::Email;

/// Features per key: a share for each class, and `ln(1 + n)`.
const PER_KEY: usize = Class::COUNT + 1;
/// The two keys: the sender's address and its domain.
pub const SENDER_DIM: usize = 2 * PER_KEY;

type Counts = [u32; Class::COUNT];

/// Labelled messages per sender address and per sender domain (ordered
/// maps, so a model file that keeps them is the same bytes every time).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SenderHistory {
    addresses: BTreeMap<String, Counts>,
    domains: BTreeMap<String, Counts>,
}

/// The sender's address, lower-cased: what is inside `<...>`, else the
/// whole header when it looks like an address.
pub fn address(from: &str) -> Option<String> {
    let inner = match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => &from[open + 1..close],
        _ => from,
    };
    let inner = inner.trim();
    (inner.contains('@') && !inner.contains(char::is_whitespace)).then(|| inner.to_lowercase())
}

impl SenderHistory {
    /// Counts `class` once more for the sender of `email`.
    pub fn add(&mut self, email: &Email, class: Class) {
        if let Some(a) = address(&email.from) {
            self.addresses.entry(a).or_default()[class as usize] += 1;
        }
        if let Some(d) = email.sender_domain() {
            self.domains.entry(d).or_default()[class as usize] += 1;
        }
    }

    /// The history of many labelled messages.
    pub fn of<'a>(labelled: impl IntoIterator<Item = (&'a Email, Class)>) -> Self {
        let mut history = Self::default();
        for (email, class) in labelled {
            history.add(email, class);
        }
        history
    }

    /// Adds another history's counts to this one.
    pub fn merge(&mut self, other: &Self) {
        for (mine, theirs) in [
            (&mut self.addresses, &other.addresses),
            (&mut self.domains, &other.domains),
        ] {
            for (key, counts) in theirs {
                let entry = mine.entry(key.clone()).or_default();
                for (a, b) in entry.iter_mut().zip(counts) {
                    *a += b;
                }
            }
        }
    }

    /// Senders (addresses) with at least one labelled message.
    pub fn senders(&self) -> usize {
        self.addresses.len()
    }

    /// Whether nothing is counted.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.domains.is_empty()
    }

    /// The labelled messages from this email's sender address, per class.
    pub fn counts(&self, email: &Email) -> Counts {
        address(&email.from)
            .and_then(|a| self.addresses.get(&a).copied())
            .unwrap_or_default()
    }

    /// The features of `email`'s sender. `own` is the email's own label when
    /// it is itself counted in this history (training), and is left out.
    pub fn features(&self, email: &Email, own: Option<Class>) -> [f32; SENDER_DIM] {
        let mut out = [0.0; SENDER_DIM];
        let keys = [
            address(&email.from).and_then(|a| self.addresses.get(&a)),
            email.sender_domain().and_then(|d| self.domains.get(&d)),
        ];
        for (slot, counts) in out.chunks_exact_mut(PER_KEY).zip(keys) {
            let mut counts = counts.copied().unwrap_or_default();
            if let Some(own) = own {
                let c = &mut counts[own as usize];
                *c = c.saturating_sub(1);
            }
            let n: u32 = counts.iter().sum();
            // Shares smoothed towards zero: one earlier message gives 0.5,
            // ten unanimous ones 0.91.
            for (s, c) in slot.iter_mut().zip(counts) {
                *s = c as f32 / (n as f32 + 1.0);
            }
            slot[Class::COUNT] = (n as f32).ln_1p();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(sender: &str) -> Email {
        Email {
            from: sender.to_owned(),
            ..Email::default()
        }
    }

    #[test]
    fn addresses_are_read_from_display_forms_and_lower_cased() {
        assert_eq!(
            address("Cory Booker <Hello@CoryBooker.com>").as_deref(),
            Some("hello@corybooker.com")
        );
        assert_eq!(address("info@wild.com").as_deref(), Some("info@wild.com"));
        assert_eq!(address("Mailer Daemon"), None);
        assert_eq!(address(""), None);
    }

    #[test]
    fn shares_count_the_sender_and_its_domain_and_leave_out_the_own_label() {
        let booker = from("Cory <hello@corybooker.com>");
        let press = from("press@corybooker.com");
        let history = SenderHistory::of([
            (&booker, Class::Promotions),
            (&booker, Class::Promotions),
            (&booker, Class::Updates),
            (&press, Class::Updates),
        ]);
        assert_eq!(history.senders(), 2);
        let f = history.features(&booker, None);
        let promotions = Class::Promotions as usize;
        let updates = Class::Updates as usize;
        // Address: 2 promotions and 1 update of 3.
        assert!((f[promotions] - 0.5).abs() < 1e-6);
        assert!((f[updates] - 0.25).abs() < 1e-6);
        assert!((f[Class::COUNT] - 4f32.ln()).abs() < 1e-6);
        // Domain: 2 of 4 each.
        assert!((f[PER_KEY + promotions] - 0.4).abs() < 1e-6);
        assert!((f[PER_KEY + updates] - 0.4).abs() < 1e-6);

        // A training example does not see its own label.
        let own = history.features(&booker, Some(Class::Updates));
        assert!((own[promotions] - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(own[updates], 0.0);

        // A sender never seen has no history.
        let stranger = history.features(&from("someone@example.org"), None);
        assert!(stranger.iter().all(|v| *v == 0.0));

        // Merging adds counts, key by key.
        let mut merged = SenderHistory::of([(&booker, Class::Updates)]);
        merged.merge(&history);
        assert_eq!(merged.counts(&booker)[updates], 2);
        assert_eq!(merged.counts(&booker)[promotions], 2);
    }
}
