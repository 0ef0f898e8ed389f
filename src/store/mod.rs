//! The local SQLite store: one WAL-mode pool that every part of Ember reads
//! and writes through.
//!
//! Readers never wait for the writer (WAL), and writers queue on SQLite's
//! lock rather than failing: every write transaction starts with
//! `BEGIN IMMEDIATE`, so it takes the write lock up front instead of
//! upgrading half-way and dying with `SQLITE_BUSY`, and `busy_timeout` makes
//! a second writer wait its turn. Transactions stay short and never span
//! network I/O; callers batch their rows (see [`WRITE_BATCH`]).

mod accounts;
pub mod cursors;
pub mod drafts;
mod folders;
pub mod health;
mod mail_writes;
mod message_links;
mod messages;
mod new_mail;
pub mod outbox;
mod search;
pub mod settings;
mod work_items;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Sqlite, Transaction};

pub use folders::StoredBody;
pub use mail_writes::{
    delete_message, leave_folder, prune_folders, put_body, set_flags, set_provider_category,
    upsert_folder, upsert_message, FlagChange, NewAttachment, NewFolder, NewMessage,
    NewMessageBody,
};
pub use message_links::put_message_links;
pub use messages::ExportedMessage;
pub use search::{fts_match_expression, RANKED_MATCH_LIMIT};
pub use settings::REMOTE_CONTENT_SENDERS;
pub use work_items::{
    delete_work_item, put_type_states, put_work_item_comments, put_work_item_history,
    upsert_work_item, NewWorkItem,
};

/// The schema's migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "ember.sqlite3";

/// Connections in the pool: one writer at a time plus readers for the UI,
/// the CLI and the categoriser. SQLite gains nothing from more.
pub const MAX_CONNECTIONS: u32 = 4;

/// How long a writer waits for another writer's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a caller waits for a free connection before giving up.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows a sync writes per transaction: large enough to amortise the commit,
/// small enough that the UI's reads and other writers never wait long.
pub const WRITE_BATCH: usize = 500;

/// The largest page any list query returns.
pub const MAX_PAGE: u32 = 500;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("cannot open the database at {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: sqlx::Error,
    },
    /// A schema migration failed; the database is left at its previous version.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was last used by a newer version of Ember, whose
    /// schema this one does not know; it was not touched.
    #[error(
        "the database at {} has schema version {found}, newer than the {known} this version of \
         Ember knows: it was left untouched; use the newer version of Ember (or a backup of \
         the data folder made for this one)",
        .path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its newest applied migration.
        found: i64,
        /// The newest migration this build carries.
        known: i64,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The disk (or the database's size limit) is full: nothing of the
    /// write that met it was kept, and writes work again once there is room.
    #[error("the disk is full: free some space on the disk holding Ember's data folder; nothing was lost, and Ember carries on once there is room ({0})")]
    DiskFull(sqlx::Error),
    /// A row held a value this version cannot read.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// It is not in a state that allows this (a draft already sent).
    #[error("{0}")]
    WrongState(String),
}

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i32 = 13;

impl From<sqlx::Error> for StoreError {
    /// A full disk gets its own variant, so that every layer above can say
    /// so instead of "database error".
    fn from(e: sqlx::Error) -> Self {
        let full = matches!(&e, sqlx::Error::Database(d)
            if d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == SQLITE_FULL));
        if full {
            Self::DiskFull(e)
        } else {
            Self::Database(e)
        }
    }
}

impl StoreError {
    /// Whether the disk (or the database's size limit) was full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::DiskFull(_))
    }

    /// Whether trying again later may succeed (a lock held too long, a pool
    /// momentarily exhausted), as opposed to a fault in the data or the file.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Database(sqlx::Error::PoolTimedOut) => true,
            Self::Database(sqlx::Error::Database(e)) => {
                // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with extended codes.
                e.code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .is_some_and(|c| matches!(c & 0xff, 5 | 6))
            }
            _ => false,
        }
    }
}

/// A write transaction holding SQLite's write lock. Commit it; dropping it
/// rolls back.
pub type WriteTx = Transaction<'static, Sqlite>;

/// The local database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    /// The size limit in pages every connection applies (see
    /// [`Store::set_max_pages`]); [`NO_PAGE_LIMIT`] unless a test lowered it.
    max_pages: Arc<AtomicU32>,
}

/// SQLite's own ceiling on a database's pages (it clamps larger values).
const NO_PAGE_LIMIT: u32 = u32::MAX - 1;

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema
    /// up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        // Before anything may write (WAL set-up, migrations, the optimiser
        // on close): a database from a newer version is left byte for byte
        // as it was.
        refuse_newer_schema(path).await?;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory")
            .optimize_on_close(true, None);
        let max_pages = Arc::new(AtomicU32::new(NO_PAGE_LIMIT));
        let limit = max_pages.clone();
        let pool = SqlitePoolOptions::new()
            .after_connect(move |conn, _| {
                let pages = limit.load(Ordering::SeqCst);
                Box::pin(async move {
                    if pages != NO_PAGE_LIMIT {
                        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            // A statement or COMMIT that meets a full disk can make SQLite
            // roll the whole transaction back by itself; sqlx's ROLLBACK
            // then fails, its count of open transactions stays at one, and
            // every later `BEGIN IMMEDIATE` on that connection failed with
            // "attempted to call begin_with at non-zero transaction depth"
            // long after the disk had room again. Idle connections are in
            // no transaction (the pool's ping runs any rollback queued by a
            // dropped transaction first), so one that says it is, is
            // replaced.
            .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            path: path.to_owned(),
            max_pages,
        })
    }

    /// Caps the database at `pages` pages (SQLite's `max_page_count`) on
    /// every connection, present and future, so that writes past it fail as
    /// on a full disk; `None` lifts the cap. For tests of a full disk: the
    /// disk itself cannot be filled on demand. A cap below the pages already
    /// used leaves the database at its size.
    pub async fn set_max_pages(&self, pages: Option<u32>) -> Result<(), StoreError> {
        let pages = pages.unwrap_or(NO_PAGE_LIMIT);
        self.max_pages.store(pages, Ordering::SeqCst);
        // Holding each connection while setting the next reaches them all:
        // the pool opens new ones (which apply the cap themselves) as needed.
        let mut held = Vec::with_capacity(MAX_CONNECTIONS as usize);
        for _ in 0..MAX_CONNECTIONS {
            let mut conn = self.pool.acquire().await?;
            sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                .execute(&mut *conn)
                .await?;
            held.push(conn);
        }
        Ok(())
    }

    /// The pages the database uses now (`PRAGMA page_count`).
    pub async fn page_count(&self) -> Result<u32, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction with `BEGIN IMMEDIATE`.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Closes every connection, checkpointing the WAL. Waits for connections
    /// in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether [`Store::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }
}

/// Fails with [`StoreError::NewerSchema`] when the database at `path` has
/// migrations applied that this build does not carry. Reads through a
/// read-only connection, so it writes nothing; a missing file or one
/// without a migrations table (a new or empty database) passes.
async fn refuse_newer_schema(path: &Path) -> Result<(), StoreError> {
    use sqlx::{ConnectOptions as _, Connection as _};
    if !path.exists() {
        return Ok(());
    }
    // Without a write-ahead log beside it the file holds everything, and
    // is read as immutable: even a read-only connection would otherwise
    // leave new -wal and -shm files behind. With one, its pages count.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let immutable = !Path::new(&wal).exists();
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let mut conn = SqliteConnectOptions::from_str("sqlite:")
        .map_err(open_err)?
        .filename(path)
        .read_only(true)
        .immutable(immutable)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(open_err)?;
    let has_table: bool = sqlx::query_scalar(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut conn)
    .await?;
    let found: Option<i64> = if has_table {
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await?
    } else {
        None
    };
    conn.close().await?;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    match found {
        Some(found) if found > known => Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            known,
        }),
        _ => Ok(()),
    }
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Clamps a caller's page size into `1..=MAX_PAGE`.
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE))
}

#[cfg(test)]
mod migration_tests {
    use super::MIGRATOR;

    /// Every migration ever released, with (the start of) the checksum
    /// sqlx records when a database applies it. sqlx refuses a database
    /// whose applied migration changed, so a released migration must never
    /// be edited: add a new one, and a line here for it (the failure
    /// message prints it). This once happened: 0003 was extended with the
    /// folder counts a commit after it first landed, which stranded the
    /// databases made in between.
    const RELEASED: &[(i64, &str)] = &[
        (1, "890d5ab7"),
        (3, "ecb4b156"),
        (4, "4e211436"),
        (5, "f98754db"),
        (6, "c469f6d6"),
    ];

    #[test]
    fn released_migrations_are_never_edited() {
        for migration in MIGRATOR.iter() {
            let checksum: String = migration
                .checksum
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let short = &checksum[..8];
            match RELEASED.iter().find(|(v, _)| *v == migration.version) {
                Some((_, pinned)) => assert_eq!(
                    short, *pinned,
                    "migration {} ({}) changed after release: add a new migration instead",
                    migration.version, migration.description
                ),
                None => panic!(
                    "migration {} is not pinned: add ({}, \"{short}\") to RELEASED",
                    migration.version, migration.version
                ),
            }
        }
        assert_eq!(
            MIGRATOR.iter().count(),
            RELEASED.len(),
            "a pinned migration is gone"
        );
    }
}
