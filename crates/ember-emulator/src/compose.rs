//! Builds the raw RFC 822 bytes of an emulated message on demand, so a
//! mailbox of a million messages holds only small records and the bytes a
//! client fetches are always the same for the same seed.

use base64::Engine as _;
use chrono::{TimeZone, Utc};

use super::mailbox::{Message, Source};
use super::material::material;

/// What composition needs beyond the message record.
#[derive(Debug, Clone, Copy)]
pub struct ComposeContext<'a> {
    /// The mailbox owner's address (the To: header).
    pub owner: &'a str,
    /// The owner's name.
    pub owner_name: &'a str,
    /// Base URL of the emulated Azure DevOps (for work item links).
    pub ado_base: &'a str,
    /// The Azure DevOps organisation name.
    pub ado_org: &'a str,
}

/// The raw bytes of `message`.
pub fn raw(message: &Message, ctx: ComposeContext<'_>) -> Vec<u8> {
    match &message.source {
        Source::Raw(bytes) => bytes.to_vec(),
        Source::Mime(i) => material()
            .mime
            .get(*i)
            .map(|(_, b)| b.to_vec())
            .unwrap_or_default(),
        Source::Sample { sample, reply } => compose_sample(message, *sample, *reply, ctx),
        Source::WorkItemNotice {
            item,
            title,
            project,
        } => compose_notice(message, *item, title, project, ctx),
    }
}

/// Makes a message unreadable the way broken mailers do: a declared
/// multipart whose boundary never appears, an encoding that does not match,
/// bytes that are not text, and no sender, subject, date or message id. The
/// original's length is kept so sizes still look plausible.
pub fn corrupt(raw: &[u8]) -> Vec<u8> {
    let mut out = b"Content-Type: multipart/mixed; boundary=\"never-used\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    out.extend_from_slice(b"\xff\xfe\x00 =?broken?Q?=ZZ?= !!!\r\n");
    out.resize(raw.len().max(out.len()), b'\xfe');
    out
}

fn rfc2822(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|d| d.to_rfc2822())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 +0000".into())
}

fn b64_lines(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 76 * 2 + 2);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// RFC 2047-encodes a header value when it is not plain ASCII.
fn header_text(value: &str) -> String {
    let clean: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if clean.is_ascii() {
        clean
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())
        )
    }
}

fn html_from_text(text: &str) -> String {
    let mut html = String::from("<html><body>");
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        html.push_str("<p>");
        for c in para.trim().chars() {
            match c {
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '&' => html.push_str("&amp;"),
                '\n' => html.push_str("<br>"),
                c => html.push(c),
            }
        }
        html.push_str("</p>");
    }
    html.push_str("</body></html>");
    html
}

fn domain_of(sender: &str) -> &str {
    sender
        .rsplit('@')
        .next()
        .map(|d| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("example.com")
}

fn compose_sample(message: &Message, sample: usize, reply: u8, ctx: ComposeContext<'_>) -> Vec<u8> {
    let samples = &material().samples;
    let Some(s) = samples.get(sample % samples.len().max(1)) else {
        return Vec::new();
    };
    let boundary = format!("=_ember_{}", message.id);
    let subject = if reply > 0 {
        format!("Re: {}", s.subject)
    } else {
        s.subject.clone()
    };
    let mut h = String::new();
    // The receiving service's verdict on top, as Gmail and Exchange Online
    // add it: the world's own mail is genuinely from its senders.
    let domain = domain_of(&s.sender);
    h.push_str(&format!(
        "Authentication-Results: mx.emulator.invalid; dkim=pass header.d={domain}; \
         spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}\r\n"
    ));
    h.push_str(&format!("From: {}\r\n", header_text(&s.sender)));
    h.push_str(&format!(
        "To: {} <{}>\r\n",
        header_text(ctx.owner_name),
        ctx.owner
    ));
    h.push_str(&format!("Subject: {}\r\n", header_text(&subject)));
    h.push_str(&format!("Date: {}\r\n", rfc2822(message.date_ms)));
    h.push_str(&format!(
        "Message-ID: <{}.{}@mail.emulator.invalid>\r\n",
        message.id, reply
    ));
    if reply > 0 {
        h.push_str(&format!(
            "In-Reply-To: <{}.{}@mail.emulator.invalid>\r\n",
            message.thread_id,
            reply - 1
        ));
        h.push_str(&format!(
            "References: <{}.0@mail.emulator.invalid>\r\n",
            message.thread_id
        ));
    }
    if let Some(list) = &s.list_id {
        h.push_str(&format!("List-Id: {}\r\n", header_text(list)));
        h.push_str("Precedence: list\r\n");
    }
    if s.list_unsubscribe {
        let domain = domain_of(&s.sender);
        h.push_str(&format!(
            "List-Unsubscribe: <mailto:unsubscribe@{domain}>, <https://{domain}/unsubscribe>\r\n"
        ));
    }
    h.push_str("MIME-Version: 1.0\r\n");

    let text_part = format!(
        "Content-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        b64_lines(s.body.as_bytes())
    );
    let html = s.html.map(str::to_owned).or_else(|| {
        (s.label == "promotions" || s.label == "updates").then(|| html_from_text(&s.body))
    });
    // Every seventh message carries a small attachment.
    let attachment = message.id.bytes().map(u32::from).sum::<u32>() % 7 == 0;

    let alternative = match &html {
        Some(html) => format!(
            "Content-Type: multipart/alternative; boundary=\"{boundary}.alt\"\r\n\r\n\
             --{boundary}.alt\r\n{text_part}--{boundary}.alt\r\n\
             Content-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
             --{boundary}.alt--\r\n",
            b64_lines(html.as_bytes())
        ),
        None => text_part,
    };
    let body = if attachment {
        let pdf = format!(
            "%PDF-1.4\n% Statement for {}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
            message.id
        );
        format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\n{alternative}--{boundary}\r\n\
             Content-Type: application/pdf; name=\"statement-{id}.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"statement-{id}.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}--{boundary}--\r\n",
            b64_lines(pdf.as_bytes()),
            id = message.id
        )
    } else {
        alternative
    };
    h.push_str(&body);
    h.into_bytes()
}

fn compose_notice(
    message: &Message,
    item: u32,
    title: &str,
    project: &str,
    ctx: ComposeContext<'_>,
) -> Vec<u8> {
    let url = format!(
        "{}/{}/{}/_workitems/edit/{item}",
        ctx.ado_base.trim_end_matches('/'),
        ctx.ado_org,
        project
    );
    let text = format!(
        "Work item AB#{item} was updated.\r\n\r\n{title}\r\n\r\nView it in Azure DevOps: {url}\r\n\r\n\
         You are receiving this notification because you are subscribed to changes in {project}.\r\n"
    );
    let html = format!(
        "<html><body><p>Work item <b>AB#{item}</b> was updated.</p><p>{}</p>\
         <p><a href=\"{url}\">View work item</a></p></body></html>",
        title.replace('<', "&lt;")
    );
    format!(
        "From: Azure DevOps <azuredevops@microsoft.com>\r\n\
         To: {} <{}>\r\n\
         Subject: {}\r\n\
         Date: {}\r\n\
         Message-ID: <{}@notifications.emulator.invalid>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"ado-{id}\"\r\n\r\n\
         --ado-{id}\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --ado-{id}\r\nContent-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --ado-{id}--\r\n",
        header_text(ctx.owner_name),
        ctx.owner,
        header_text(&format!("Work item {item} - {title}")),
        rfc2822(message.date_ms),
        message.id,
        b64_lines(text.as_bytes()),
        b64_lines(html.as_bytes()),
        id = message.id,
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ComposeContext<'static> {
        ComposeContext {
            owner: "me@example.com",
            owner_name: "Me",
            ado_base: "http://127.0.0.1:1",
            ado_org: "fabrikam",
        }
    }

    fn message(source: Source) -> Message {
        Message {
            id: "18c0ffee00000001".into(),
            thread_id: "18c0ffee00000000".into(),
            labels: 0,
            date_ms: 1_700_000_000_000,
            source,
            deleted: false,
            changed: 0,
        }
    }

    #[test]
    fn composed_samples_parse_back_with_their_headers() {
        for sample in 0..50 {
            let m = message(Source::Sample { sample, reply: 1 });
            let bytes = raw(&m, ctx());
            let parsed = mail_parser::MessageParser::default().parse(&bytes);
            let Some(parsed) = parsed else {
                panic!("sample {sample} does not parse");
            };
            assert!(parsed.subject().unwrap_or_default().starts_with("Re: "));
            assert!(
                parsed.body_text(0).is_some(),
                "sample {sample} has a text body"
            );
            assert_eq!(
                parsed.in_reply_to().as_text(),
                Some("18c0ffee00000000.0@mail.emulator.invalid")
            );
        }
    }

    #[test]
    fn work_item_notices_link_the_item_both_ways() {
        let m = message(Source::WorkItemNotice {
            item: 123,
            title: "Login fails".into(),
            project: "Fabrikam Fiber".into(),
        });
        let bytes = raw(&m, ctx());
        let parsed = mail_parser::MessageParser::default()
            .parse(&bytes)
            .map(|p| p.body_text(0).map(|t| t.into_owned()).unwrap_or_default())
            .unwrap_or_default();
        assert!(parsed.contains("AB#123"));
        assert!(parsed.contains("/fabrikam/Fabrikam Fiber/_workitems/edit/123"));
    }
}
