//! The store: schema, pragmas, search index, paging and transactions.

use std::collections::HashSet;
use std::time::Duration;

use ember::model::{MailView, MessageQuery, ProviderKind};
use ember::store::{self, cursors, NewMessageBody, Store};

use crate::support::{add_account, insert_messages, message, temp_store};

async fn search_ids(store: &Store, text: &str) -> anyhow::Result<Vec<i64>> {
    let found = store.search(&ember::search::parse(text)?, 50).await?;
    Ok(found.into_iter().map(|m| m.id).collect())
}

#[tokio::test]
async fn migrations_create_the_schema_on_an_empty_file_and_reopen_cleanly() -> anyhow::Result<()> {
    let (dir, store) = temp_store().await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(store.pool())
            .await?;
    for expected in [
        "accounts",
        "attachments",
        "categories",
        "folders",
        "message_bodies",
        "message_folders",
        "message_search",
        "message_work_items",
        "messages",
        "outbox",
        "remote_content_messages",
        "settings",
        "sync_cursors",
        "threads",
        "work_items",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "table {expected} missing from {tables:?}"
        );
    }
    store.close().await;
    let again = Store::open(&dir.path().join("ember.sqlite3")).await?;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await?;
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count();
    assert_eq!(
        applied, migrations as i64,
        "each migration applied once; reopening must not re-apply them"
    );
    Ok(())
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_foreign_keys() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await?;
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await?;
    assert_eq!(fk, 1, "foreign keys must be enforced");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await?;
    assert_eq!(sync, 1, "synchronous must be NORMAL");
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(store.pool())
        .await?;
    assert!(timeout >= 1000, "busy_timeout is {timeout} ms");
    Ok(())
}

#[tokio::test]
async fn search_follows_inserts_updates_and_deletes() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    let ids = insert_messages(
        &store,
        &[message(account.id, "m1", 1_000, "Quarterly report draft")],
    )
    .await?;
    let id = ids[0];
    assert_eq!(search_ids(&store, "quarterly").await?, vec![id]);
    assert_eq!(
        search_ids(&store, "ada@example.org").await?,
        vec![id],
        "sender is indexed"
    );
    assert_eq!(
        search_ids(&store, "me@example").await?,
        vec![id],
        "recipients are indexed"
    );

    let mut tx = store.begin_write().await?;
    store::put_body(
        &mut tx,
        id,
        &NewMessageBody {
            text: Some("The zebra crossing budget is attached.".into()),
            ..NewMessageBody::default()
        },
    )
    .await?;
    tx.commit().await?;
    assert_eq!(
        search_ids(&store, "zebra").await?,
        vec![id],
        "body is indexed"
    );
    assert_eq!(
        search_ids(&store, "quarterly").await?,
        vec![id],
        "subject still indexed"
    );

    let mut renamed = message(account.id, "m1", 1_000, "Annual summary");
    renamed.snippet = "nothing here".into();
    insert_messages(&store, &[renamed]).await?;
    assert!(
        search_ids(&store, "quarterly").await?.is_empty(),
        "old subject forgotten"
    );
    assert_eq!(search_ids(&store, "annual").await?, vec![id]);
    assert_eq!(
        search_ids(&store, "zebra").await?,
        vec![id],
        "body survives a header update"
    );

    sqlx::query("DELETE FROM message_bodies WHERE message_id = ?")
        .bind(id)
        .execute(store.pool())
        .await?;
    assert!(
        search_ids(&store, "zebra").await?.is_empty(),
        "deleted body forgotten"
    );

    let mut tx = store.begin_write().await?;
    store::put_body(
        &mut tx,
        id,
        &NewMessageBody {
            text: Some("zebra again".into()),
            ..NewMessageBody::default()
        },
    )
    .await?;
    assert!(store::delete_message(&mut tx, account.id, "m1").await?);
    tx.commit().await?;
    assert!(
        search_ids(&store, "zebra").await?.is_empty(),
        "deleted message forgotten"
    );
    assert!(
        search_ids(&store, "annual").await?.is_empty(),
        "deleted message forgotten"
    );
    Ok(())
}

#[tokio::test]
async fn hostile_search_text_is_matched_as_words_not_syntax() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    insert_messages(&store, &[message(account.id, "m1", 1, "NEAR the OR gate")]).await?;
    for text in [
        "\"", "NEAR(", "subject:", "*", ")) OR ((", "a\"b", "-", "^x",
    ] {
        store
            .search(&ember::search::parse(text)?, 10)
            .await
            .map_err(|e| anyhow::anyhow!("search for {text:?} failed: {e}"))?;
    }
    assert_eq!(search_ids(&store, "near( or").await?.len(), 1);
    Ok(())
}

/// Found by the fuzzer (fuzz/fuzz_targets/search_query.rs): `İ` lower-cases
/// to two characters, `i` and a combining dot, and the query's word kept
/// the dot. The index (unicode61, remove_diacritics 2) has `istanbul`; the
/// query and the highlighter now fold the same way, whichever way it is
/// typed.
#[tokio::test]
async fn a_dotted_capital_i_is_found_and_highlighted_either_way_it_is_typed() -> anyhow::Result<()>
{
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    insert_messages(&store, &[message(account.id, "m1", 1, "Trip to İstanbul")]).await?;
    for typed in ["istanbul", "İstanbul", "İSTANBUL", "ista"] {
        let query = ember::search::parse(typed)?;
        for term in &query.terms {
            assert!(
                term.words
                    .iter()
                    .all(|w| w.chars().all(char::is_alphanumeric)),
                "{typed}: {:?}",
                term.words
            );
        }
        assert_eq!(search_ids(&store, typed).await?.len(), 1, "{typed}");
        let terms = query.highlight_terms(ember::search::Field::Subject);
        assert_eq!(
            ember::search::highlight::spans("Trip to İstanbul", &terms).len(),
            1,
            "{typed} highlights the word"
        );
    }
    Ok(())
}

#[tokio::test]
async fn keyset_pages_cover_every_message_once_newest_first() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    // Dates repeat so that ties must be broken by id.
    let messages: Vec<_> = (0..123)
        .map(|i| {
            message(
                account.id,
                &format!("m{i}"),
                1_000 + (i / 3),
                &format!("s{i}"),
            )
        })
        .collect();
    insert_messages(&store, &messages).await?;

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .messages(&MessageQuery {
                view: MailView::Account {
                    account_id: account.id,
                },
                before,
                limit: 50,
                conversations: false,
            })
            .await?;
        seen.extend(page.messages.iter().map(|m| (m.date, m.id)));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 123);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        123,
        "no row twice"
    );
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, ties by id"
    );
    Ok(())
}

#[tokio::test]
async fn a_reader_is_not_blocked_by_an_open_writer() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    insert_messages(&store, &[message(account.id, "old", 1, "committed")]).await?;

    let mut tx = store.begin_write().await?;
    store::upsert_message(&mut tx, &message(account.id, "new", 2, "uncommitted")).await?;
    // The writer holds the lock; a reader must still answer at once with the
    // committed state (busy_timeout is 5 s, so a blocked read would show).
    let query = MessageQuery {
        view: MailView::Unified,
        before: None,
        limit: 10,
        conversations: false,
    };
    let page = tokio::time::timeout(Duration::from_secs(2), store.messages(&query)).await??;
    let subjects: Vec<_> = page.messages.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects, vec!["committed"]);
    tx.commit().await?;
    let page = store.messages(&query).await?;
    assert_eq!(page.messages.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_second_writer_waits_its_turn_instead_of_failing() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;
    let first = store.begin_write().await?;
    let other = store.clone();
    let second = tokio::spawn(async move {
        let mut tx = other.begin_write().await?;
        store::upsert_message(&mut tx, &message(account.id, "b", 2, "second")).await?;
        tx.commit().await?;
        anyhow::Ok(())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    first.commit().await?;
    second.await??;
    assert_eq!(store.message_count().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_cursor_commits_and_rolls_back_with_its_data() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let account = add_account(&store, ProviderKind::Gmail, "me@example.org").await?;

    let mut tx = store.begin_write().await?;
    store::upsert_message(&mut tx, &message(account.id, "m1", 1, "one")).await?;
    cursors::save(&mut tx, account.id, "history", "100").await?;
    drop(tx); // Abandoned, as when a run is cancelled or the process dies.
    assert_eq!(store.message_count().await?, 0);
    assert_eq!(store.cursor(account.id, "history").await?, None);

    let mut tx = store.begin_write().await?;
    store::upsert_message(&mut tx, &message(account.id, "m1", 1, "one")).await?;
    cursors::save(&mut tx, account.id, "history", "101").await?;
    tx.commit().await?;
    assert_eq!(store.message_count().await?, 1);
    assert_eq!(
        store.cursor(account.id, "history").await?.as_deref(),
        Some("101")
    );
    Ok(())
}

#[tokio::test]
async fn removing_an_account_removes_its_mail_and_index_entries() -> anyhow::Result<()> {
    let (_dir, store) = temp_store().await?;
    let gone = add_account(&store, ProviderKind::Gmail, "gone@example.org").await?;
    let kept = add_account(&store, ProviderKind::Graph, "kept@example.org").await?;
    insert_messages(
        &store,
        &[
            message(gone.id, "a", 1, "alpha"),
            message(kept.id, "b", 2, "alpha"),
        ],
    )
    .await?;
    store.remove_account(gone.id).await?;
    assert_eq!(store.message_count().await?, 1);
    assert_eq!(search_ids(&store, "alpha").await?.len(), 1);
    Ok(())
}

/// A write that meets a full disk leaves no connection of the pool stuck in
/// a transaction: once there is room, every connection writes again
/// (before the fix, the connection whose transaction SQLite rolled back by
/// itself refused every later `BEGIN IMMEDIATE`).
#[tokio::test]
async fn after_a_full_disk_every_connection_of_the_pool_writes_again() -> anyhow::Result<()> {
    let (_dir, store) = crate::support::temp_store().await?;
    crate::full_disk::fill_the_disk(&store).await?;
    // Write transactions that meet the full disk, on each connection in turn.
    for _ in 0..2 * ember::store::MAX_CONNECTIONS {
        let mut tx = store.begin_write().await?;
        let written = sqlx::query("INSERT INTO test_filler VALUES (randomblob(200000))")
            .execute(&mut *tx)
            .await;
        match written.map_err(ember::store::StoreError::from) {
            Ok(_) => panic!("a 200 kB row fitted on a full disk"),
            Err(e) => assert!(e.is_disk_full(), "{e}"),
        }
    }
    crate::full_disk::make_room(&store).await?;
    for i in 0..4 * ember::store::MAX_CONNECTIONS {
        let mut tx = store.begin_write().await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, '1')")
            .bind(format!("after-the-full-disk-{i}"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
