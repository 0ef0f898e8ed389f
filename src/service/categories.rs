//! Categories on the service: the user's corrections and the "why" of a
//! message's category.

use super::{Ember, ServiceError};
use crate::classify::classifier::Class;
use crate::classify::embed::cosine;
use crate::classify::records;
use crate::events::Event;
use crate::model::{Category, CategoryExplanation, CategorySource, MessageId, Neighbour};

/// Neighbours an explanation lists.
const NEIGHBOURS: usize = 3;

impl Ember {
    /// Moves messages to `category` as the user's correction: stored at
    /// once (the list reflects it on the next fetch, announced by
    /// `DataChanged`), never overwritten by the classifier, and learned from
    /// by a background retrain moments later.
    pub async fn move_to_category(
        &self,
        ids: &[MessageId],
        category: Category,
    ) -> Result<(), ServiceError> {
        self.ensure_running()?;
        if ids.is_empty() {
            return Ok(());
        }
        records::correct(&self.store, ids, category).await?;
        self.events.publish(Event::DataChanged { account_id: None });
        self.categoriser.corrected();
        Ok(())
    }

    /// Why a message is in its category: where the category came from, the
    /// nearest labelled examples, and one sentence.
    pub async fn explain_category(
        &self,
        id: MessageId,
    ) -> Result<CategoryExplanation, ServiceError> {
        let record = records::read(&self.store, &[id])
            .await?
            .pop()
            .ok_or(crate::store::StoreError::NotFound("message"))?;
        let (confidence, spam) = records::verdict(&self.store, id)
            .await?
            .unwrap_or((None, false));
        let mut neighbours = Vec::new();
        let classifier = self.categoriser.classifier();
        let sender = classifier.sender_counts(&record.email);
        if let Some(embedding) = record.embedding.as_deref() {
            for (r, similarity) in classifier.nearest(embedding, 50) {
                let category = match r.class.category() {
                    Some(c) => c,
                    None if spam => record.category.unwrap_or(Category::Primary),
                    None => continue,
                };
                neighbours.push(Neighbour {
                    subject: r.subject.clone(),
                    from: r.from.clone(),
                    category,
                    similarity,
                });
            }
            let mut after = 0;
            loop {
                let rows =
                    records::with_source(&self.store, CategorySource::User, after, 500).await?;
                let Some(last) = rows.last() else { break };
                after = last.id;
                for r in rows.into_iter().filter(|r| r.id != id) {
                    if let (Some(category), Some(e)) = (r.category, r.embedding.as_deref()) {
                        neighbours.push(Neighbour {
                            similarity: cosine(e, embedding),
                            subject: r.email.subject,
                            from: r.email.from,
                            category,
                        });
                    }
                }
            }
            neighbours.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
            neighbours.truncate(NEIGHBOURS);
        }
        let reason = reason(&record, confidence, spam, &neighbours, sender);
        Ok(CategoryExplanation {
            category: record.category,
            confidence,
            source: record.source,
            spam,
            neighbours,
            reason,
        })
    }
}

fn tab(category: Category) -> &'static str {
    match category {
        Category::Primary => "Primary",
        Category::Social => "Social",
        Category::Promotions => "Promotions",
        Category::Updates => "Updates",
        Category::Forums => "Forums",
    }
}

fn kind(category: Category) -> &'static str {
    match category {
        Category::Primary => "personal messages",
        Category::Social => "social notifications",
        Category::Promotions => "promotions",
        Category::Updates => "updates",
        Category::Forums => "forum posts",
    }
}

/// One sentence saying why. `sender` counts the labelled messages from the
/// same address per class (training examples, provider labels, corrections).
fn reason(
    record: &records::Record,
    confidence: Option<f64>,
    spam: bool,
    neighbours: &[Neighbour],
    sender: [u32; Class::COUNT],
) -> String {
    let Some(category) = record.category else {
        return "Not categorised yet.".into();
    };
    match record.source {
        Some(CategorySource::User) => return format!("You moved it to {}.", tab(category)),
        Some(CategorySource::Provider) => {
            return format!("Your mail provider filed it under {}.", tab(category))
        }
        _ => {}
    }
    if !spam
        && category == Category::Primary
        && confidence.is_some_and(|c| c < f64::from(crate::classify::classifier::MIN_CONFIDENCE))
    {
        return "No other tab was a confident fit, so it stays in Primary.".into();
    }
    let earlier: u32 = sender.iter().sum();
    let same = sender[Class::of(category) as usize];
    if !spam && earlier >= 2 && same * 2 > earlier {
        return format!(
            "{same} of {earlier} earlier messages from this sender are in {}.",
            tab(category)
        );
    }
    let like = neighbours.iter().filter(|n| n.category == category).count();
    let signal = if record.email.list_id.is_some() {
        Some("Sent to a mailing list (List-Id)")
    } else if record.email.list_unsubscribe {
        Some("Bulk mail with an unsubscribe link")
    } else {
        None
    };
    match (signal, spam) {
        (Some(s), false) => format!("{s} and like {like} {} it was trained on.", kind(category)),
        (Some(s), true) => format!("{s}, and it looks like spam."),
        (None, true) => "Its wording looks like the spam it was trained on.".into(),
        (None, false) => format!(
            "Its wording is like {like} of the {} it was trained on.",
            kind(category)
        ),
    }
}
