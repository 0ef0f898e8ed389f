//! Untrusted HTML through both steps of `render`: stored by
//! `sanitise_part` as parsing does, then rendered for the reading pane, with
//! remote content blocked or allowed (the first byte chooses). Also the raw
//! HTML rendered directly, as a row stored by an older version would be.
//! The property: nothing in the output could run script, and with remote
//! content blocked nothing could be fetched from the network.
#![no_main]

use ember::render;
use ember_fuzz::{assert_safe, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: ember_fuzz::self_check(), |data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let allow_remote = first & 1 == 1;
    let html = String::from_utf8_lossy(rest);
    let stored = render::sanitise_part(&html);
    assert_safe(&stored, Origin::Stored, data);
    let shown = render::render(&stored, allow_remote);
    assert_safe(&shown.html, Origin::Rendered { allow_remote }, data);
    if !allow_remote {
        let direct = render::render(&html, false);
        assert_safe(
            &direct.html,
            Origin::Rendered {
                allow_remote: false,
            },
            data,
        );
    }
});
