//! What a person types outside the composer's fields (the command line's
//! `--to` and `--body`), turned into what a draft holds: recipient lists
//! read by the same parser that reads incoming headers, and plain text as
//! the HTML body the editor would have produced.

use mail_parser::{HeaderValue, MessageParser};

use super::{escape, valid_address, ComposeError};
use crate::model::Address;

/// Recipients as typed in a To line: `a@x.example`, `Name <a@x.example>`,
/// `"Last, First" <a@x.example>`, several separated by commas. Every
/// address must be one.
pub fn parse_recipients(text: &str) -> Result<Vec<Address>, ComposeError> {
    if text.contains(['\r', '\n']) {
        return Err(ComposeError::BadAddress(text.to_owned()));
    }
    let header = format!("To: {text}\r\n\r\n");
    let message = MessageParser::default()
        .parse_headers(header.as_bytes())
        .ok_or_else(|| ComposeError::BadAddress(text.to_owned()))?;
    let mut out = Vec::new();
    if let Some(HeaderValue::Address(list)) = message.header("To") {
        for a in list.iter() {
            let address = a.address().unwrap_or_default().trim().to_owned();
            if !valid_address(&address) {
                return Err(ComposeError::BadAddress(
                    a.address().or(a.name()).unwrap_or(text).to_owned(),
                ));
            }
            out.push(Address {
                name: a
                    .name()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
                address,
            });
        }
    }
    if out.is_empty() && !text.trim().is_empty() {
        return Err(ComposeError::BadAddress(text.to_owned()));
    }
    Ok(out)
}

/// Plain text as the editor's HTML: a paragraph per blank-line-separated
/// block, line breaks kept, everything escaped.
pub fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(|block| block.trim_matches('\n'))
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let lines: Vec<String> = block.lines().map(escape).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_read_as_a_to_header_is() {
        let list =
            parse_recipients("sam@x.example, \"Rivera, Alex\" <alex@y.example>, Zoë <z@ü.example>")
                .unwrap();
        let got: Vec<(Option<&str>, &str)> = list
            .iter()
            .map(|a| (a.name.as_deref(), a.address.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (None, "sam@x.example"),
                (Some("Rivera, Alex"), "alex@y.example"),
                (Some("Zoë"), "z@ü.example"),
            ]
        );
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for bad in ["not an address", "a@b.example\r\nBcc: evil@x.example", "<>"] {
            assert!(parse_recipients(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_recipients("").unwrap(), Vec::new());
    }

    #[test]
    fn text_becomes_escaped_paragraphs() {
        assert_eq!(
            text_to_html("Hi <Sam>,\nsee below.\n\n\nThanks & bye\n"),
            "<p>Hi &lt;Sam&gt;,<br>see below.</p><p>Thanks &amp; bye</p>"
        );
    }
}
