//! The reading pane and search box on the service layer, over a real
//! temporary store: operators, ranking, highlights, conversations, folders,
//! safe rendering and the remote-content allowlist.

use ember::model::{
    Address, Category, FolderRole, MailView, MessageQuery, NewAccount, ProviderKind, RemoteScope,
    SearchQuery,
};
use ember::service::RemoteDecision;
use ember::store::{self, NewMessage, NewMessageBody};
use ember::sync::SyncSources;
use ember::{Config, Ember, ErrorCode};
use tempfile::TempDir;

const DAY: i64 = 86_400_000;
/// 2024-05-01T00:00:00Z.
const MAY_1: i64 = 1_714_521_600_000;

struct World {
    _dir: TempDir,
    ember: Ember,
    ids: Vec<i64>,
}

fn mail(account: i64, pid: &str, thread: &str, date: i64, from: &str, subject: &str) -> NewMessage {
    NewMessage {
        account_id: account,
        provider_id: pid.into(),
        provider_thread_id: Some(thread.into()),
        subject: subject.into(),
        from: Some(Address {
            name: None,
            address: from.into(),
        }),
        to: vec![Address {
            name: Some("Me".into()),
            address: "me@example.org".into(),
        }],
        date,
        snippet: format!("About {subject}"),
        unread: true,
        folders: vec!["INBOX".into()],
        ..NewMessage::default()
    }
}

/// Five messages: a two-message thread, an attachment, a starred one, an
/// HTML newsletter with a tracking pixel.
async fn world() -> anyhow::Result<World> {
    let dir = tempfile::tempdir()?;
    let ember = Ember::open(Config::new(dir.path()), SyncSources::new()).await?;
    let account = ember
        .add_account(NewAccount {
            provider: ProviderKind::Gmail,
            address: "me@example.org".into(),
            display_name: "Me".into(),
            settings: ember::model::AccountSettings::offline(ember::model::ProviderKind::Gmail),
            sync_enabled: false,
        })
        .await?;
    let store = ember.store();
    let mut tx = store.begin_write().await?;
    store::upsert_folder(
        &mut tx,
        account.id,
        &ember::store::NewFolder {
            provider_id: "INBOX".into(),
            name: "Inbox".into(),
            role: Some("inbox"),
            parent: None,
        },
    )
    .await?;
    store::upsert_folder(
        &mut tx,
        account.id,
        &ember::store::NewFolder {
            provider_id: "Label_1".into(),
            name: "Receipts".into(),
            role: None,
            parent: None,
        },
    )
    .await?;
    let mut messages = vec![
        mail(
            account.id,
            "m1",
            "t1",
            MAY_1 + DAY,
            "ada@example.org",
            "Quarterly report draft",
        ),
        mail(
            account.id,
            "m2",
            "t1",
            MAY_1 + 2 * DAY,
            "bob@example.com",
            "Re: Quarterly report draft",
        ),
        mail(
            account.id,
            "m3",
            "t3",
            MAY_1 - 10 * DAY,
            "ada@example.org",
            "Holiday photos",
        ),
        mail(
            account.id,
            "m4",
            "t4",
            MAY_1 + 5 * DAY,
            "carol@example.net",
            "Budget meeting",
        ),
        mail(
            account.id,
            "m5",
            "t5",
            MAY_1 + 6 * DAY,
            "news@shop.example",
            "Spring sale",
        ),
    ];
    messages[2].has_attachments = true;
    messages[3].starred = true;
    messages[3].unread = false;
    messages[4].folders = vec!["Label_1".into()];
    let mut ids = Vec::new();
    for m in &messages {
        ids.push(store::upsert_message(&mut tx, m).await?);
    }
    store::set_provider_category(&mut tx, ids[4], Category::Promotions).await?;
    let raw = "From: news@shop.example\r\nSubject: Spring sale\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html\r\n\r\n<p onclick=\"x()\">Sale!</p><img src=\"https://t.shop.example/open.gif\" width=1 height=1>\
<script>alert(1)</script>\r\n";
    put_parsed_body(&mut tx, ids[4], raw).await?;
    tx.commit().await?;
    Ok(World {
        _dir: dir,
        ember,
        ids,
    })
}

async fn found(ember: &Ember, text: &str) -> anyhow::Result<Vec<i64>> {
    let hits = ember
        .search(&SearchQuery {
            text: text.into(),
            limit: 50,
        })
        .await?;
    Ok(hits.into_iter().map(|h| h.message.id).collect())
}

#[tokio::test]
async fn operators_narrow_the_search_and_combine_with_text() -> anyhow::Result<()> {
    let w = world().await?;
    let e = &w.ember;
    let [m1, m2, m3, m4, m5] = w.ids[..] else {
        anyhow::bail!("five messages expected");
    };
    assert_eq!(found(e, "from:ada").await?.len(), 2);
    assert_eq!(found(e, "from:ada@example.org holiday").await?, vec![m3]);
    assert_eq!(found(e, "to:me subject:budget").await?, vec![m4]);
    assert_eq!(found(e, "has:attachment").await?, vec![m3]);
    assert_eq!(found(e, "is:starred").await?, vec![m4]);
    assert_eq!(found(e, "is:read").await?, vec![m4]);
    assert_eq!(found(e, "category:promotions").await?, vec![m5]);
    assert_eq!(found(e, "in:receipts").await?, vec![m5]);
    assert_eq!(found(e, "in:inbox before:2024-05-01").await?, vec![m3]);
    let mut after = found(e, "quarterly after:2024-05-02").await?;
    after.sort_unstable();
    assert_eq!(after, vec![m1, m2], "after: includes its own day");
    assert_eq!(found(e, "quarterly -from:bob").await?, vec![m1]);
    assert_eq!(found(e, "\"report draft\" -re").await?, vec![m1]);
    assert!(found(e, "-quarterly").await?.len() == 3);
    Ok(())
}

#[tokio::test]
async fn subject_matches_rank_first_and_come_with_highlights() -> anyhow::Result<()> {
    let w = world().await?;
    let hits = w
        .ember
        .search(&SearchQuery {
            text: "quarterly rep".into(),
            limit: 10,
        })
        .await?;
    assert_eq!(hits.len(), 2);
    let re = hits
        .iter()
        .find(|h| h.message.subject.starts_with("Re:"))
        .ok_or_else(|| anyhow::anyhow!("no reply hit"))?;
    // "Re: Quarterly report draft": Quarterly at 4..13, report (prefix rep) at 14..20.
    assert_eq!(
        re.subject_matches
            .iter()
            .map(|s| (s.start, s.end))
            .collect::<Vec<_>>(),
        vec![(4, 13), (14, 20)]
    );
    assert!(
        !re.snippet_matches.is_empty(),
        "the snippet repeats the subject"
    );
    Ok(())
}

#[tokio::test]
async fn unparseable_queries_fail_with_invalid_query() -> anyhow::Result<()> {
    let w = world().await?;
    for text in ["before:someday", "is:happy", "colour:red"] {
        let err = w
            .ember
            .search(&SearchQuery {
                text: text.into(),
                limit: 10,
            })
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("{text} was accepted"))?;
        assert_eq!(err.code(), ErrorCode::InvalidQuery, "{text}: {err}");
    }
    Ok(())
}

#[tokio::test]
async fn conversations_show_one_row_per_thread_with_its_size() -> anyhow::Result<()> {
    let w = world().await?;
    let page = w
        .ember
        .messages(&MessageQuery {
            view: MailView::Unified,
            before: None,
            limit: 50,
            conversations: true,
        })
        .await?;
    let rows: Vec<(i64, i64)> = page
        .messages
        .iter()
        .map(|m| (m.id, m.thread_size))
        .collect();
    assert_eq!(
        rows,
        vec![(w.ids[4], 1), (w.ids[3], 1), (w.ids[1], 2), (w.ids[2], 1)],
        "the thread shows once, as its newest message"
    );
    let thread_id = page.messages[2]
        .thread_id
        .ok_or_else(|| anyhow::anyhow!("no thread"))?;
    let thread = w.ember.thread(thread_id).await?;
    assert_eq!(
        thread.iter().map(|m| m.summary.id).collect::<Vec<_>>(),
        vec![w.ids[0], w.ids[1]],
        "oldest first"
    );
    Ok(())
}

#[tokio::test]
async fn folders_carry_roles_and_counts() -> anyhow::Result<()> {
    let w = world().await?;
    let folders = w.ember.folders(None).await?;
    let summary: Vec<(&str, FolderRole, i64, i64)> = folders
        .iter()
        .map(|f| (f.name.as_str(), f.role, f.unread, f.total))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("Inbox", FolderRole::Inbox, 3, 4),
            ("Receipts", FolderRole::Label, 1, 1)
        ]
    );

    // The counts follow reads, moves and deletes (kept by triggers).
    let store = w.ember.store();
    let mut tx = store.begin_write().await?;
    let mut read = mail(
        1,
        "m1",
        "t1",
        MAY_1 + DAY,
        "ada@example.org",
        "Quarterly report draft",
    );
    read.unread = false;
    read.folders = vec!["Label_1".into()];
    store::upsert_message(&mut tx, &read).await?;
    store::delete_message(&mut tx, 1, "m2").await?;
    tx.commit().await?;
    let counts: Vec<(i64, i64)> = w
        .ember
        .folders(None)
        .await?
        .iter()
        .map(|f| (f.unread, f.total))
        .collect();
    assert_eq!(
        counts,
        vec![(1, 2), (1, 2)],
        "inbox lost m1 (moved) and m2 (deleted)"
    );
    let recomputed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT coalesce(sum(m.unread), 0), count(*) FROM message_folders mf
           JOIN messages m ON m.id = mf.message_id GROUP BY mf.folder_id ORDER BY mf.folder_id",
    )
    .fetch_all(store.pool())
    .await?;
    assert_eq!(counts, recomputed);
    Ok(())
}

#[tokio::test]
async fn html_renders_inert_until_remote_content_is_allowed() -> anyhow::Result<()> {
    let w = world().await?;
    let id = w.ids[4];
    let detail = w.ember.message(id).await?;
    assert!(detail.html, "an HTML body is flagged for the pane");
    let blocked = w.ember.render_message(id).await?;
    assert_eq!(blocked.remote_blocked, 1);
    assert!(!blocked.remote_allowed);
    assert!(!blocked.html.contains("t.shop.example"));
    assert!(!blocked.html.contains("<script") && !blocked.html.contains("onclick"));

    let allowed = w
        .ember
        .allow_remote(&RemoteScope::Message { message_id: id })
        .await?
        .ok_or_else(|| anyhow::anyhow!("message scope returns the render"))?;
    assert!(allowed.remote_allowed && allowed.html.contains("https://t.shop.example/open.gif"));

    // Another message of the same sender follows only when the sender is allowed.
    let text_only = w.ember.render_message(w.ids[0]).await?;
    assert!(!text_only.remote_allowed);
    assert!(w
        .ember
        .allow_remote(&RemoteScope::Sender {
            address: "Ada@Example.org".into()
        })
        .await?
        .is_none());
    assert_eq!(
        w.ember.store().remote_content_senders().await?,
        vec!["ada@example.org".to_owned()]
    );
    // Ada's mail carries no provider verdict on its From: her allowance
    // does not apply to it (anyone can write her address).
    assert_eq!(
        w.ember
            .remote_allowed(w.ids[2], "ADA@example.org", None)
            .await?,
        RemoteDecision::SenderUnverified
    );
    assert_eq!(
        w.ember
            .remote_allowed(
                w.ids[2],
                "ADA@example.org",
                Some("mx.google.com; dmarc=pass header.from=example.org")
            )
            .await?,
        RemoteDecision::Allowed
    );
    assert_eq!(
        w.ember
            .remote_allowed(w.ids[3], "carol@example.net", None)
            .await?,
        RemoteDecision::Blocked
    );
    Ok(())
}

/// Stores a raw message from `from` (with `auth` as its topmost
/// Authentication-Results, if any) through the MIME path a sync takes.
async fn store_raw(
    ember: &Ember,
    pid: &str,
    from: &str,
    auth: Option<&str>,
    html: &str,
) -> anyhow::Result<i64> {
    let mut raw = String::new();
    if let Some(auth) = auth {
        raw.push_str(&format!("Authentication-Results: {auth}\r\n"));
    }
    raw.push_str(&format!(
        "From: {from}\r\nSubject: {pid}\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n{html}\r\n"
    ));
    let account = ember.accounts().await?[0].id;
    let store = ember.store();
    let mut tx = store.begin_write().await?;
    let mut message = mail(account, pid, pid, MAY_1, from, pid);
    message.headers = ember::providers::mime::parse(raw.as_bytes())?.headers;
    let id = store::upsert_message(&mut tx, &message).await?;
    put_parsed_body(&mut tx, id, &raw).await?;
    tx.commit().await?;
    Ok(id)
}

/// Parses `raw` as a sync would and stores its bodies for message `id`.
async fn put_parsed_body(
    tx: &mut sqlx::SqliteConnection,
    id: i64,
    raw: &str,
) -> anyhow::Result<()> {
    let parsed = ember::providers::mime::parse(raw.as_bytes())?;
    store::put_body(
        tx,
        id,
        &NewMessageBody {
            text: parsed.text,
            html: parsed.html,
            raw_size: raw.len() as i64,
            attachments: Vec::new(),
        },
    )
    .await?;
    Ok(())
}

/// Finding 14: "always load from this sender" holds only for mail whose
/// From the provider authenticated (DMARC, or DKIM aligned with From); a
/// forged From gets nothing loaded and the pane is told why. What loads,
/// loads over https.
#[tokio::test]
async fn a_sender_allowance_needs_an_authenticated_from() -> anyhow::Result<()> {
    let w = world().await?;
    let pixel = "<p>Deals</p><img src=\"http://t.shop.example/open.gif\">";
    let genuine = store_raw(
        &w.ember,
        "genuine",
        "news@shop.example",
        Some("mx.google.com; dkim=pass header.i=@shop.example; spf=pass smtp.mailfrom=shop.example; dmarc=pass (p=REJECT) header.from=shop.example"),
        pixel,
    )
    .await?;
    let forged = store_raw(
        &w.ember,
        "forged",
        "news@shop.example",
        Some("mx.google.com; spf=pass smtp.mailfrom=evil.example; dmarc=fail header.from=shop.example"),
        pixel,
    )
    .await?;
    let unchecked = store_raw(&w.ember, "unchecked", "news@shop.example", None, pixel).await?;
    w.ember
        .allow_remote(&RemoteScope::Sender {
            address: "news@shop.example".into(),
        })
        .await?;

    let body = w.ember.render_message(genuine).await?;
    assert!(body.remote_allowed, "the authenticated sender's mail loads");
    assert!(!body.sender_unverified);
    assert!(
        body.html.contains("https://t.shop.example/open.gif"),
        "over https: {}",
        body.html
    );
    for id in [forged, unchecked] {
        let body = w.ember.render_message(id).await?;
        assert!(
            !body.remote_allowed,
            "message {id}: a From anyone can write"
        );
        assert!(body.sender_unverified, "message {id}: the pane says why");
        assert_eq!(body.remote_blocked, 1);
        assert!(!body.html.contains("t.shop.example"), "{}", body.html);
    }
    // Allowing the one message still works, whatever its From.
    let one = w
        .ember
        .allow_remote(&RemoteScope::Message { message_id: forged })
        .await?
        .ok_or_else(|| anyhow::anyhow!("message scope returns the render"))?;
    assert!(one.remote_allowed && !one.sender_unverified);
    Ok(())
}

#[tokio::test]
async fn only_web_and_mail_links_open() -> anyhow::Result<()> {
    let w = world().await?;
    assert_eq!(
        w.ember
            .checked_link("https://a.example/x?utm_source=m&id=1")?,
        "https://a.example/x?id=1"
    );
    let refused = w
        .ember
        .checked_link("javascript:alert(1)")
        .err()
        .ok_or_else(|| anyhow::anyhow!("javascript: accepted"))?;
    assert_eq!(refused.code(), ErrorCode::RefusedLink);
    Ok(())
}
