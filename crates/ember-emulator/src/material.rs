//! The real e-mail material synthetic mailboxes are built from, embedded in
//! the binary so demo mode needs no files: labelled e-mails (subjects,
//! senders, bodies, list headers), marketing HTML with tracking pixels, and
//! real MIME messages with odd structures and charsets. Licences and
//! attribution are in `material/NOTICE`.

use std::sync::OnceLock;

/// One labelled e-mail from `material/train.csv`.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Row id (`markup-0024`, `sa-easy-ham-...`).
    pub id: String,
    /// `promotions`, `updates`, `primary`, `ham`, `spam`.
    pub label: String,
    /// Marked as spam.
    pub is_spam: bool,
    /// Subject line.
    pub subject: String,
    /// `Name <address>`.
    pub sender: String,
    /// The List-Id header's value, if any.
    pub list_id: Option<String>,
    /// Whether the original carried List-Unsubscribe.
    pub list_unsubscribe: bool,
    /// Plain-text body.
    pub body: String,
    /// The original HTML body, where the data set has it.
    pub html: Option<&'static str>,
}

impl Sample {
    /// The Gmail category label this sample belongs under, if any.
    pub fn gmail_category(&self) -> &'static str {
        match self.label.as_str() {
            "promotions" => "CATEGORY_PROMOTIONS",
            "updates" => "CATEGORY_UPDATES",
            _ if self.list_id.is_some() => "CATEGORY_FORUMS",
            _ => "CATEGORY_PERSONAL",
        }
    }
}

/// Everything embedded.
#[derive(Debug)]
pub struct Material {
    /// Labelled e-mails, in file order.
    pub samples: Vec<Sample>,
    /// Real MIME messages: file name and bytes.
    pub mime: Vec<(&'static str, &'static [u8])>,
}

const TRAIN_CSV: &str = include_str!("material/train.csv");

const HTML: &[(&str, &str)] = &[
    (
        "markup-0024",
        include_str!("material/html/markup-0024.html"),
    ),
    (
        "markup-0030",
        include_str!("material/html/markup-0030.html"),
    ),
    (
        "markup-0124",
        include_str!("material/html/markup-0124.html"),
    ),
    (
        "markup-0126",
        include_str!("material/html/markup-0126.html"),
    ),
    (
        "markup-0183",
        include_str!("material/html/markup-0183.html"),
    ),
    (
        "markup-0247",
        include_str!("material/html/markup-0247.html"),
    ),
    (
        "markup-0279",
        include_str!("material/html/markup-0279.html"),
    ),
    (
        "markup-0322",
        include_str!("material/html/markup-0322.html"),
    ),
    (
        "markup-0331",
        include_str!("material/html/markup-0331.html"),
    ),
    (
        "markup-0349",
        include_str!("material/html/markup-0349.html"),
    ),
    (
        "markup-0371",
        include_str!("material/html/markup-0371.html"),
    ),
    (
        "markup-0391",
        include_str!("material/html/markup-0391.html"),
    ),
    (
        "markup-0403",
        include_str!("material/html/markup-0403.html"),
    ),
    (
        "markup-0422",
        include_str!("material/html/markup-0422.html"),
    ),
];

const MIME: &[(&str, &[u8])] = &[
    (
        "mimekit-japanese.txt",
        include_bytes!("material/mime/mimekit-japanese.txt"),
    ),
    (
        "mimekit-delivery-status.txt",
        include_bytes!("material/mime/mimekit-delivery-status.txt"),
    ),
    (
        "mimekit-disposition-notification.txt",
        include_bytes!("material/mime/mimekit-disposition-notification.txt"),
    ),
    (
        "mimekit-simple-embedded-message.eml",
        include_bytes!("material/mime/mimekit-simple-embedded-message.eml"),
    ),
    (
        "mimekit-issue358.txt",
        include_bytes!("material/mime/mimekit-issue358.txt"),
    ),
    (
        "mimekit-rfc2060.txt",
        include_bytes!("material/mime/mimekit-rfc2060.txt"),
    ),
    (
        "mimekit-epilogue.txt",
        include_bytes!("material/mime/mimekit-epilogue.txt"),
    ),
    (
        "dovecot-thirdparty-005.eml",
        include_bytes!("material/mime/dovecot-thirdparty-005.eml"),
    ),
    (
        "dovecot-thirdparty-007.eml",
        include_bytes!("material/mime/dovecot-thirdparty-007.eml"),
    ),
    (
        "dovecot-thirdparty-017.eml",
        include_bytes!("material/mime/dovecot-thirdparty-017.eml"),
    ),
    (
        "dovecot-thirdparty-018.eml",
        include_bytes!("material/mime/dovecot-thirdparty-018.eml"),
    ),
    (
        "dovecot-thirdparty-019.eml",
        include_bytes!("material/mime/dovecot-thirdparty-019.eml"),
    ),
    (
        "dovecot-malformed-015.eml",
        include_bytes!("material/mime/dovecot-malformed-015.eml"),
    ),
    (
        "dovecot-malformed-017.eml",
        include_bytes!("material/mime/dovecot-malformed-017.eml"),
    ),
    (
        "dovecot-malformed-020.eml",
        include_bytes!("material/mime/dovecot-malformed-020.eml"),
    ),
];

/// The embedded material, parsed once.
pub fn material() -> &'static Material {
    static MATERIAL: OnceLock<Material> = OnceLock::new();
    MATERIAL.get_or_init(|| Material {
        samples: parse_samples(TRAIN_CSV),
        mime: MIME.to_vec(),
    })
}

fn parse_samples(csv_text: &str) -> Vec<Sample> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv_text.as_bytes());
    let mut samples = Vec::new();
    // Columns: id, source, label, sublabel, is_spam, subject, sender, date,
    // list_id, list_unsubscribe, has_html, body_text.
    for record in reader.records().flatten() {
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        let id = field(0);
        let sender = field(6);
        if sender.trim().is_empty() {
            continue;
        }
        let html = HTML.iter().find(|(k, _)| *k == id).map(|(_, v)| *v);
        samples.push(Sample {
            label: if field(2).is_empty() {
                "ham".into()
            } else {
                field(2)
            },
            is_spam: field(4) == "1",
            subject: field(5),
            sender,
            list_id: Some(field(8)).filter(|l| !l.trim().is_empty()),
            list_unsubscribe: field(9) == "1",
            body: field(11),
            html,
            id,
        });
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_material_is_all_there() {
        let m = material();
        assert!(m.samples.len() > 1200, "{} samples", m.samples.len());
        assert!(m.samples.iter().any(|s| s.label == "promotions"));
        assert!(m.samples.iter().any(|s| s.is_spam));
        assert!(m.samples.iter().any(|s| s.list_id.is_some()));
        assert_eq!(
            m.samples.iter().filter(|s| s.html.is_some()).count(),
            HTML.len(),
            "every HTML body joins a sample"
        );
        assert_eq!(m.mime.len(), MIME.len());
    }
}
