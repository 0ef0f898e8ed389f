//! A Gmail API answer (bytes as the HTTP body arrives) to what sync does
//! with it: decoded into the client's own types with serde_json as
//! `Http::send_json` does, then `messages.list` pages into the full-sync
//! plan, `history.list` pages into the incremental plan, and `messages.get`
//! (in both formats the sync asks for) into the change the writer stores.
#![no_main]

use std::collections::HashMap;

use ember::providers::gmail::client::{HistoryPage, ListPage, Message};
use ember::providers::gmail::convert::{self, Format};
use ember::providers::gmail::plan::{self, Op};
use ember::sync::Change;
use ember_fuzz::{assert_safe, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: ember_fuzz::self_check(), |data: &[u8]| {
    if let Ok(page) = serde_json::from_slice::<ListPage>(data) {
        let ids: Vec<String> = page.messages.iter().map(|m| m.id.clone()).collect();
        let local: HashMap<String, i64> = ids.iter().skip(1).map(|id| (id.clone(), 0)).collect();
        let ops = plan::plan_full(&ids, &local, Some(0));
        assert!(ops.len() >= ids.len());
    }
    if let Ok(page) = serde_json::from_slice::<HistoryPage>(data) {
        let ops = plan::plan_incremental(&page.history);
        // One op per message at most.
        let mut ids: Vec<&str> = ops
            .iter()
            .map(|op| match op {
                Op::Fetch(id) | Op::SetLabels(id, _) | Op::Delete(id) => id.as_str(),
            })
            .collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "a message planned twice: {ops:?}");
    }
    if let Ok(message) = serde_json::from_slice::<Message>(data) {
        for format in [Format::Raw, Format::Metadata] {
            let id = message.id.clone();
            match convert::convert(7, &id, Ok(message.clone()), format) {
                Ok(Change::Message { row, body, .. }) => {
                    assert_eq!(row.provider_id, id);
                    if let Some(html) = body.as_ref().and_then(|b| b.html.as_deref()) {
                        assert_safe(html, Origin::Stored, data);
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("a decoded message stopped the run: {e}"),
            }
        }
    }
});
