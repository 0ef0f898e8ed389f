//! Filling the disk on demand, for the tests of a full disk in both test
//! binaries (tests/core and, through `#[path]`, tests/emulator): SQLite's
//! `max_page_count` is lowered to the pages the database has, and the
//! free pages are filled with blobs, as another program filling the disk
//! would; the next write that needs a page fails with `SQLITE_FULL`.

use ember::store::{Store, StoreError};

/// Fills the database up to its present size.
pub async fn fill_the_disk(store: &Store) -> anyhow::Result<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS test_filler (blob BLOB)")
        .execute(store.pool())
        .await?;
    let pages = store.page_count().await?;
    store.set_max_pages(Some(pages)).await?;
    for size in [16_000, 4_000, 1_000, 200, 50] {
        for _ in 0..100_000 {
            let inserted = sqlx::query("INSERT INTO test_filler VALUES (randomblob(?))")
                .bind(size)
                .execute(store.pool())
                .await;
            match inserted.map_err(StoreError::from) {
                Ok(_) => {}
                Err(e) if e.is_disk_full() => break,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Gives the space back: the cap lifted, the filler gone.
pub async fn make_room(store: &Store) -> anyhow::Result<()> {
    store.set_max_pages(None).await?;
    sqlx::query("DROP TABLE test_filler")
        .execute(store.pool())
        .await?;
    Ok(())
}
