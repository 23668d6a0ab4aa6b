//! [`SqliteStore`]: orders in an embedded SQLite file (feature `sqlite`).
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a write that has returned
//! survives a crash of the process or of the machine; migrations run when it is opened.
//! Each order is one row: its number, its state, its `aoid`, price and refund revision as
//! columns, and the whole [`StoredOrder`] as JSON. Every change is an `UPDATE … WHERE` the row
//! is still as expected (its state, its price, and for a paid order's record exactly the
//! revision the copy was read at), so concurrent writers cannot both move the same order.
//!
//! SQLite is synchronous: operations run one at a time on tokio's blocking pool, through one
//! connection. Callers wait for their turn on an async semaphore, not on a blocked thread.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::{OrderStore, StoreError, Transition};
use crate::order::{Created, Expired, Order, Paid, Pending, State, StoredOrder};

use crate::request::XorPayOrder;

/// The schema, one entry per version; applied in order on open (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE orders (
        order_id       TEXT PRIMARY KEY NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired')),
        aoid           TEXT,
        price_fen      INTEGER NOT NULL,
        revision       INTEGER NOT NULL DEFAULT 0,
        record         TEXT NOT NULL,
        created_unix   INTEGER NOT NULL,
        submitted_unix INTEGER,
        updated_unix   INTEGER NOT NULL
    );
    CREATE INDEX orders_pending ON orders (state, submitted_unix);
    CREATE INDEX orders_recent ON orders (created_unix);",
    // 2: reconciliation looks at expired orders within a grace window and at created ones,
    // and asks about each open order less often the older it is.
    "ALTER TABLE orders ADD COLUMN expired_unix INTEGER;
    ALTER TABLE orders ADD COLUMN check_after_unix INTEGER;
    UPDATE orders SET expired_unix = updated_unix WHERE state = 'expired';
    CREATE INDEX orders_expired ON orders (state, expired_unix);",
];

/// An [`OrderStore`] for orders of type `O` in a SQLite file.
pub struct SqliteStore<O> {
    connection: Arc<Mutex<Connection>>,
    turn: Arc<Semaphore>,
    orders: PhantomData<fn() -> O>,
}

impl<O> Clone for SqliteStore<O> {
    fn clone(&self) -> Self {
        SqliteStore {
            connection: Arc::clone(&self.connection),
            turn: Arc::clone(&self.turn),
            orders: PhantomData,
        }
    }
}

impl<O> std::fmt::Debug for SqliteStore<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

impl<O> SqliteStore<O> {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened or migrated, or was written by
    /// a newer version of this crate.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore<O>, StoreError> {
        SqliteStore::setup(Connection::open(path).map_err(database)?)
    }

    /// A store in memory, for tests and demos: gone when dropped.
    ///
    /// # Errors
    /// [`StoreError::Database`] when SQLite cannot set it up.
    pub fn in_memory() -> Result<SqliteStore<O>, StoreError> {
        SqliteStore::setup(Connection::open_in_memory().map_err(database)?)
    }

    fn setup(mut connection: Connection) -> Result<SqliteStore<O>, StoreError> {
        // WAL lets readers proceed during a write; FULL syncs every commit, so an
        // acknowledged payment is on disk before XorPay hears "ok".
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(database)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(database)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(database)?;
        // IMMEDIATE takes the write lock first, so two processes opening the file at once
        // cannot both apply a migration.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        let version: i64 = transaction
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(database)?;
        let applied = usize::try_from(version).unwrap_or(usize::MAX);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Database(format!(
                "the store's schema is version {version}, newer than this code knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            transaction.execute_batch(migration).map_err(database)?;
            let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
            transaction
                .pragma_update(None, "user_version", version)
                .map_err(database)?;
        }
        transaction.commit().map_err(database)?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            turn: Arc::new(Semaphore::new(1)),
            orders: PhantomData,
        })
    }

    /// Runs `work` with the connection on the blocking pool, one operation at a time.
    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _turn = self
            .turn
            .acquire()
            .await
            .map_err(|_| StoreError::Database("store closed".to_owned()))?;
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic in an earlier operation cannot leave SQLite half-written (its own
            // transactions see to that), so a poisoned lock is still a usable connection.
            let mut guard = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        })
        .await
        .map_err(database)?
    }

    /// Moves one row to the order's state and record if it is still in one of `from`, at the
    /// same price and `aoid` (where both know one). A moved order's next reconciliation
    /// check starts afresh.
    async fn transition<S: State>(
        &self,
        order: &Order<O, S>,
        from: &'static [&'static str],
    ) -> Result<Transition, StoreError>
    where
        O: Serialize,
    {
        let row = Row::of(order)?;
        self.with(move |connection| {
            let changed = connection
                .execute(
                    "UPDATE orders SET state = ?1, aoid = COALESCE(?2, aoid), record = ?3,
                         submitted_unix = COALESCE(?4, submitted_unix), revision = ?5,
                         expired_unix = ?6, check_after_unix = NULL, updated_unix = ?7
                     WHERE order_id = ?8 AND price_fen = ?9
                       AND (aoid IS NULL OR ?2 IS NULL OR aoid = ?2)
                       AND state IN (SELECT value FROM json_each(?10))",
                    params![
                        row.state,
                        row.aoid,
                        row.record,
                        row.submitted_unix,
                        row.revision,
                        row.expired_unix,
                        now_unix(),
                        row.order_id,
                        row.price_fen,
                        serde_json::Value::from(from.to_vec()).to_string(),
                    ],
                )
                .map_err(database)?;
            Ok(applied(changed))
        })
        .await
    }

    /// The records of the rows a query selects.
    async fn records(
        &self,
        sql: &'static str,
        parameter: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.with(move |connection| {
            let mut statement = connection.prepare(sql).map_err(database)?;
            let rows = statement
                .query_map(params![parameter], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(database)?;
            rows.collect::<Result<_, _>>().map_err(database)
        })
        .await
    }
}

fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn applied(changed: usize) -> Transition {
    if changed == 1 {
        Transition::Applied
    } else {
        Transition::NotApplied
    }
}

fn read_all<O>(rows: Vec<(String, String)>) -> Result<Vec<StoredOrder<O>>, StoreError>
where
    O: XorPayOrder + DeserializeOwned,
{
    rows.iter()
        .map(|(order_id, record)| read(order_id, record))
        .collect()
}

/// The columns of one order.
struct Row {
    order_id: String,
    state: &'static str,
    aoid: Option<String>,
    price_fen: i64,
    revision: i64,
    record: String,
    submitted_unix: Option<i64>,
    expired_unix: Option<i64>,
}

impl Row {
    fn of<O: Serialize, S: State>(order: &Order<O, S>) -> Result<Row, StoreError> {
        let record = serde_json::to_string(order).map_err(database)?;
        Ok(Row {
            order_id: order.order_id().to_owned(),
            state: order.state_name(),
            aoid: order.known_aoid().map(|aoid| aoid.as_str().to_owned()),
            price_fen: i64::try_from(order.price().fen()).unwrap_or(i64::MAX),
            revision: i64::from(order.known_revision()),
            record,
            submitted_unix: order
                .known_submitted_at()
                .map(OffsetDateTime::unix_timestamp),
            expired_unix: order.known_expired_at().map(OffsetDateTime::unix_timestamp),
        })
    }
}

fn read<O>(order_id: &str, record: &str) -> Result<StoredOrder<O>, StoreError>
where
    O: XorPayOrder + DeserializeOwned,
{
    serde_json::from_str(record).map_err(|error| StoreError::Corrupt {
        order_id: order_id.to_owned(),
        reason: error.to_string(),
    })
}

impl<O> OrderStore<O> for SqliteStore<O>
where
    O: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    async fn insert(&self, order: &Order<O, Created>) -> Result<(), StoreError> {
        let row = Row::of(order)?;
        self.with(move |connection| {
            let inserted = connection
                .execute(
                    "INSERT INTO orders (order_id, state, aoid, price_fen, revision, record,
                         created_unix, submitted_unix, updated_unix)
                     VALUES (?1, ?2, NULL, ?3, 0, ?4, ?5, NULL, ?5)
                     ON CONFLICT (order_id) DO NOTHING",
                    params![
                        row.order_id,
                        row.state,
                        row.price_fen,
                        row.record,
                        now_unix()
                    ],
                )
                .map_err(database)?;
            if inserted == 0 {
                return Err(StoreError::Duplicate(row.order_id));
            }
            Ok(())
        })
        .await
    }

    async fn mark_pending(&self, order: &Order<O, Pending>) -> Result<Transition, StoreError> {
        self.transition(order, &["created"]).await
    }

    async fn mark_paid(&self, order: &Order<O, Paid>) -> Result<Transition, StoreError> {
        // From created or expired too: a submission whose answer was lost, or a payment that
        // arrives late, is still money received (the caller has checked it with XorPay).
        self.transition(order, &["created", "pending", "expired"])
            .await
    }

    async fn mark_expired(&self, order: &Order<O, Expired>) -> Result<Transition, StoreError> {
        self.transition(order, &["created", "pending"]).await
    }

    async fn update_paid(&self, order: &mut Order<O, Paid>) -> Result<Transition, StoreError> {
        let row = Row::of(order)?;
        let loaded = i64::from(order.loaded_revision());
        let transition = self
            .with(move |connection| {
                let changed = connection
                    .execute(
                        "UPDATE orders SET aoid = COALESCE(?1, aoid), record = ?2, revision = ?3,
                             updated_unix = ?4
                         WHERE order_id = ?5 AND price_fen = ?6 AND state = 'paid'
                           AND (aoid IS NULL OR aoid = ?1) AND revision = ?7",
                        params![
                            row.aoid,
                            row.record,
                            row.revision,
                            now_unix(),
                            row.order_id,
                            row.price_fen,
                            loaded,
                        ],
                    )
                    .map_err(database)?;
                Ok(applied(changed))
            })
            .await?;
        if transition == Transition::Applied {
            order.__saved();
        }
        Ok(transition)
    }

    async fn load(&self, order_id: &str) -> Result<Option<StoredOrder<O>>, StoreError> {
        let key = order_id.to_owned();
        let record: Option<String> = self
            .with(move |connection| {
                connection
                    .query_row(
                        "SELECT record FROM orders WHERE order_id = ?1",
                        params![key],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(database)
            })
            .await?;
        record.map(|record| read(order_id, &record)).transpose()
    }

    async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<StoredOrder<O>>, StoreError> {
        let (now, stale, expired) = (
            now.unix_timestamp(),
            stale_before.unix_timestamp(),
            expired_since.unix_timestamp(),
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .with(move |connection| {
                let mut statement = connection
                    .prepare_cached(
                        "SELECT order_id, record FROM orders
                         WHERE ((state = 'created' AND created_unix < ?2)
                             OR (state = 'pending' AND submitted_unix < ?2)
                             OR (state = 'expired' AND expired_unix >= ?3))
                           AND (check_after_unix IS NULL OR check_after_unix <= ?1)
                         ORDER BY updated_unix, order_id LIMIT ?4",
                    )
                    .map_err(database)?;
                let rows = statement
                    .query_map(params![now, stale, expired, limit], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .map_err(database)?;
                rows.collect::<Result<Vec<(String, String)>, _>>()
                    .map_err(database)
            })
            .await?;
        read_all(rows)
    }

    async fn check_again_at(&self, order_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let (key, at) = (order_id.to_owned(), at.unix_timestamp());
        self.with(move |connection| {
            connection
                .execute(
                    "UPDATE orders SET check_after_unix = ?2 WHERE order_id = ?1",
                    params![key, at],
                )
                .map(drop)
                .map_err(database)
        })
        .await
    }

    async fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredOrder<O>>, StoreError> {
        let after = after.map(str::to_owned);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .with(move |connection| {
                let mut statement = connection
                    .prepare_cached(
                        "SELECT order_id, record FROM orders
                         WHERE ?1 IS NULL OR order_id > ?1 ORDER BY order_id LIMIT ?2",
                    )
                    .map_err(database)?;
                let rows = statement
                    .query_map(params![after, limit], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(database)?;
                rows.collect::<Result<Vec<(String, String)>, _>>()
                    .map_err(database)
            })
            .await?;
        read_all(rows)
    }

    async fn recent(&self, limit: usize) -> Result<Vec<StoredOrder<O>>, StoreError> {
        let rows = self
            .records(
                "SELECT order_id, record FROM orders
                 ORDER BY created_unix DESC, rowid DESC LIMIT ?1",
                i64::try_from(limit).unwrap_or(i64::MAX),
            )
            .await?;
        read_all(rows)
    }
}
