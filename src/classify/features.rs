//! What the classifier sees of an email, as numbers.
//!
//! Four blocks side by side in one sparse vector: word counts (hashed,
//! sublinear TF times IDF, L2-normalised: the lexical signal that separates
//! promotions from updates), header facts (List-Id, List-Unsubscribe,
//! Precedence, the sender's domain and its parents, HTML or not), the
//! MiniLM sentence embedding (what the text is about), and the sender's
//! history (how earlier labelled mail from the sender was filed, see
//! [`super::senders`]). Hashing keeps the
//! model a fixed size with no vocabulary to ship; FNV-1a makes it the same on
//! every machine.

use serde::{Deserialize, Serialize};

use super::senders::SENDER_DIM;

/// Hash buckets for words.
pub const LEXICAL_DIM: usize = 1 << 14;
/// Hash buckets for header facts.
pub const HEADER_DIM: usize = 1 << 10;
/// Dimensions of the sentence embedding.
pub const EMBEDDING_DIM: usize = 384;
/// Where the sender-history block starts.
const SENDER_BASE: usize = LEXICAL_DIM + HEADER_DIM + EMBEDDING_DIM;
/// The length of the whole feature vector.
pub const FEATURE_DIM: usize = SENDER_BASE + SENDER_DIM;
/// Characters of the body that feed the word counts: all of it, up to the
/// length the training file keeps (6,000). Cutting at 2,000 cost the lexical
/// baseline about 0.04 macro-F1 in cross-validation: the closing lines
/// (donation asks, "unsubscribe", list footers) tell the tabs apart.
pub const BODY_CHARS: usize = 6_000;
/// Characters of the body that feed the embedding (128 tokens come first).
pub const EMBED_BODY_CHARS: usize = 1_000;

/// An email as the classifier reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// Subject line.
    pub subject: String,
    /// The From header as displayed (`Name <address>`) or just the address.
    pub from: String,
    /// The start of the plain-text body.
    pub body: String,
    /// The List-Id header, when sent through a mailing list.
    pub list_id: Option<String>,
    /// Whether a List-Unsubscribe header is present.
    pub list_unsubscribe: bool,
    /// The Precedence header (`bulk`, `list`, `junk`).
    pub precedence: Option<String>,
    /// Whether the message has an HTML body.
    pub html: bool,
}

impl Email {
    /// The text the sentence model embeds: subject, sender, body start.
    pub fn embedding_text(&self) -> String {
        let body: String = self.body.chars().take(EMBED_BODY_CHARS).collect();
        format!("{}\n{}\n{}", self.subject, self.from, body)
    }

    /// The sender's domain, lower-cased, when the From header has one.
    pub fn sender_domain(&self) -> Option<String> {
        let at = self.from.rfind('@')?;
        let domain: String = self.from[at + 1..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '-')
            .collect();
        let domain = domain.trim_matches('.').to_lowercase();
        (!domain.is_empty()).then_some(domain)
    }

    /// The header facts, as tokens.
    pub fn header_tokens(&self) -> Vec<String> {
        let mut tokens = Vec::with_capacity(12);
        match self
            .list_id
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            Some(list) => {
                tokens.push("list".to_owned());
                tokens.push(format!("list:{}", list.to_lowercase()));
            }
            None => tokens.push("nolist".to_owned()),
        }
        tokens.push(
            if self.list_unsubscribe {
                "unsub"
            } else {
                "nounsub"
            }
            .to_owned(),
        );
        tokens.push(if self.html { "html" } else { "plain" }.to_owned());
        if let Some(p) = self.precedence.as_deref() {
            tokens.push(format!("prec:{}", p.trim().to_lowercase()));
        }
        if let Some(domain) = self.sender_domain() {
            let parts: Vec<&str> = domain.split('.').collect();
            tokens.push(format!("dom:{domain}"));
            for i in 1..parts.len().saturating_sub(1) {
                tokens.push(format!("dsfx:{}", parts[i..].join(".")));
            }
        }
        tokens
    }
}

/// A sparse vector: (index, value), indices ascending and unique.
pub type Sparse = Vec<(u32, f32)>;

/// 64-bit FNV-1a: stable across machines and releases, unlike std's hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn bucket(token: &str, dim: usize) -> u32 {
    (fnv1a(token.as_bytes()) % dim as u64) as u32
}

/// Lower-cased words of two or more letters or digits.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().nth(1).is_some())
        .map(str::to_lowercase)
}

/// The lexical text: subject, sender and the start of the body.
fn lexical_text(email: &Email) -> String {
    let body: String = email.body.chars().take(BODY_CHARS).collect();
    format!("{}\n{}\n{}", email.subject, email.from, body)
}

/// Hashed word counts, by bucket ascending.
pub fn word_counts(email: &Email) -> Vec<(u32, u32)> {
    let mut counts = std::collections::BTreeMap::<u32, u32>::new();
    for w in words(&lexical_text(email)) {
        *counts.entry(bucket(&w, LEXICAL_DIM)).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// Sublinear TF (`1 + ln tf`) of word counts.
pub fn sublinear(counts: &[(u32, u32)]) -> Sparse {
    counts
        .iter()
        .map(|(i, n)| (*i, 1.0 + (*n as f32).ln()))
        .collect()
}

/// Hashed word counts with sublinear TF, not yet weighted.
pub fn term_frequencies(email: &Email) -> Sparse {
    sublinear(&word_counts(email))
}

/// Inverse document frequencies per word bucket, learned from a corpus
/// (smoothed like scikit-learn: `ln((1 + n) / (1 + df)) + 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Idf(pub Vec<f32>);

impl Idf {
    /// Learns the weights from documents' term frequencies.
    pub fn fit(docs: &[Sparse]) -> Self {
        let mut df = vec![0u32; LEXICAL_DIM];
        for doc in docs {
            for (i, _) in doc {
                df[*i as usize] += 1;
            }
        }
        let n = docs.len() as f32;
        Self(
            df.into_iter()
                .map(|d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
                .collect(),
        )
    }
}

/// How the blocks are weighted against each other.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureWeights {
    /// Multiplies each header fact (binary).
    pub header: f32,
    /// Multiplies the (unit-length) embedding; 0 leaves it out.
    pub embedding: f32,
    /// Multiplies the sender-history block; 0 leaves it out.
    #[serde(default)]
    pub sender: f32,
}

/// The whole feature vector of one email.
pub fn features(
    tf: &Sparse,
    email: &Email,
    embedding: Option<&[f32]>,
    sender: &[f32; SENDER_DIM],
    idf: &Idf,
    weights: FeatureWeights,
) -> Sparse {
    let mut out: Sparse = tf
        .iter()
        .map(|(i, v)| (*i, v * idf.0.get(*i as usize).copied().unwrap_or(1.0)))
        .collect();
    let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, v) in &mut out {
            *v /= norm;
        }
    }
    let mut headers: Vec<u32> = email
        .header_tokens()
        .iter()
        .map(|t| LEXICAL_DIM as u32 + bucket(t, HEADER_DIM))
        .collect();
    headers.sort_unstable();
    headers.dedup();
    out.extend(headers.into_iter().map(|i| (i, weights.header)));
    if let Some(e) = embedding.filter(|_| weights.embedding != 0.0) {
        let base = (LEXICAL_DIM + HEADER_DIM) as u32;
        out.extend(
            e.iter()
                .enumerate()
                .map(|(i, v)| (base + i as u32, v * weights.embedding)),
        );
    }
    if weights.sender != 0.0 {
        out.extend(
            sender
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(i, v)| ((SENDER_BASE + i) as u32, v * weights.sender)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(from: &str, list: Option<&str>) -> Email {
        Email {
            subject: "Re: [ILUG] kernel panic".into(),
            from: from.into(),
            body: "It panics at boot, the boot log is below.".into(),
            list_id: list.map(Into::into),
            ..Email::default()
        }
    }

    #[test]
    fn header_facts_name_the_list_and_every_parent_domain() {
        let e = email("Ann <ann@mail.lists.example.org>", Some("<ilug.linux.ie>"));
        let tokens = e.header_tokens();
        for want in [
            "list",
            "list:<ilug.linux.ie>",
            "nounsub",
            "plain",
            "dom:mail.lists.example.org",
            "dsfx:lists.example.org",
            "dsfx:example.org",
        ] {
            assert!(tokens.iter().any(|t| t == want), "{want} in {tokens:?}");
        }
        assert!(
            !tokens.iter().any(|t| t == "dsfx:org"),
            "a bare TLD says nothing"
        );
        assert!(email("no address", None)
            .header_tokens()
            .contains(&"nolist".to_owned()));
    }

    #[test]
    fn word_counts_are_sublinear_and_the_lexical_block_has_unit_length() {
        let e = email("ann@example.org", None);
        let tf = term_frequencies(&e);
        let boot = bucket("boot", LEXICAL_DIM);
        let boot_tf = tf.iter().find(|(i, _)| *i == boot).map(|(_, v)| *v);
        assert_eq!(boot_tf, Some(1.0 + 2f32.ln()), "'boot' twice: 1 + ln 2");
        assert!(tf.windows(2).all(|w| w[0].0 < w[1].0), "indices ascend");
        let idf = Idf::fit(std::slice::from_ref(&tf));
        let weights = FeatureWeights {
            header: 0.5,
            embedding: 1.0,
            sender: 2.0,
        };
        let mut sender = [0.0; SENDER_DIM];
        sender[3] = 0.5;
        let x = features(&tf, &e, Some(&[0.6, 0.8]), &sender, &idf, weights);
        assert_eq!(
            x.last(),
            Some(&((SENDER_BASE + 3) as u32, 1.0)),
            "the sender block comes last, weighted, zeros left out"
        );
        let lexical: f32 = x
            .iter()
            .filter(|(i, _)| (*i as usize) < LEXICAL_DIM)
            .map(|(_, v)| v * v)
            .sum();
        assert!((lexical - 1.0).abs() < 1e-5, "lexical norm² {lexical}");
        assert!(
            x.windows(2).all(|w| w[0].0 < w[1].0),
            "blocks do not overlap"
        );
        let embedding: Vec<f32> = x
            .iter()
            .filter(|(i, _)| {
                (*i as usize) >= LEXICAL_DIM + HEADER_DIM && (*i as usize) < SENDER_BASE
            })
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(embedding, [0.6, 0.8]);
    }

    #[test]
    fn words_are_lower_case_and_at_least_two_characters() {
        let got: Vec<String> = words("Hello, a WORLD_x 42!").collect();
        assert_eq!(got, ["hello", "world_x", "42"]);
    }
}
