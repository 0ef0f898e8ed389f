//! Raw RFC 822 bytes (a Gmail `format=raw` body, a Graph `$value`) to what
//! the store keeps: `providers::mime::parse`, the function sync calls, then
//! the stored HTML rendered as the reading pane shows it by default.
#![no_main]

use ember::providers::mime::{self, MAX_TEXT};
use ember::render;
use ember_fuzz::{assert_safe, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: ember_fuzz::self_check(), |data: &[u8]| {
    let Ok(parsed) = mime::parse(data) else {
        return;
    };
    let note = 64;
    assert!(parsed
        .text
        .as_ref()
        .is_none_or(|t| t.len() <= MAX_TEXT + note));
    assert!(parsed.snippet().chars().count() <= mime::SNIPPET_CHARS + 1);
    if let Some(html) = &parsed.html {
        assert_safe(html, Origin::Stored, data);
        let shown = render::render(html, false);
        assert_safe(
            &shown.html,
            Origin::Rendered {
                allow_remote: false,
            },
            data,
        );
    }
});
