//! [`SqliteStore`]: orders in an embedded SQLite file (feature `sqlite`).
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a write that has returned
//! survives a crash of the process or of the machine; migrations run when it is opened.
//! Each order is one row: its number, its state, its `aoid`, price and refund revision as
//! columns, and the whole [`StoredOrder`] as JSON. Every change is an `UPDATE … WHERE` the row
//! is still as expected (its state, its price, and for refunds an older revision), so
//! concurrent writers cannot both move the same order.
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
const MIGRATIONS: &[&str] = &["CREATE TABLE orders (
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
    CREATE INDEX orders_recent ON orders (created_unix);"];

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

    /// Replaces one row's state and record if it is still in one of `from`, at the same
    /// price, and (for a paid order) at an older revision.
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
                         updated_unix = ?6
                     WHERE order_id = ?7 AND price_fen = ?8
                       AND (aoid IS NULL OR ?2 IS NULL OR aoid = ?2)
                       AND state IN (SELECT value FROM json_each(?9))
                       AND (state != 'paid' OR revision < ?5)",
                    params![
                        row.state,
                        row.aoid,
                        row.record,
                        row.submitted_unix,
                        row.revision,
                        now_unix(),
                        row.order_id,
                        row.price_fen,
                        serde_json::Value::from(from.to_vec()).to_string(),
                    ],
                )
                .map_err(database)?;
            Ok(if changed == 1 {
                Transition::Applied
            } else {
                Transition::NotApplied
            })
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

/// The columns of one order.
struct Row {
    order_id: String,
    state: &'static str,
    aoid: Option<String>,
    price_fen: i64,
    revision: i64,
    record: String,
    submitted_unix: Option<i64>,
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
        self.transition(order, &["pending"]).await
    }

    async fn update_paid(&self, order: &Order<O, Paid>) -> Result<Transition, StoreError> {
        self.transition(order, &["paid"]).await
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

    async fn pending_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Vec<Order<O, Pending>>, StoreError> {
        let rows = self
            .records(
                "SELECT order_id, record FROM orders
                 WHERE state = 'pending' AND submitted_unix < ?1 ORDER BY submitted_unix",
                cutoff.unix_timestamp(),
            )
            .await?;
        rows.into_iter()
            .map(|(order_id, record)| match read::<O>(&order_id, &record)? {
                StoredOrder::Pending(order) => Ok(order),
                other => Err(StoreError::Corrupt {
                    order_id,
                    reason: format!("the row says pending, its record {}", other.state_name()),
                }),
            })
            .collect()
    }

    async fn recent(&self, limit: usize) -> Result<Vec<StoredOrder<O>>, StoreError> {
        let rows = self
            .records(
                "SELECT order_id, record FROM orders
                 ORDER BY created_unix DESC, rowid DESC LIMIT ?1",
                i64::try_from(limit).unwrap_or(i64::MAX),
            )
            .await?;
        rows.iter()
            .map(|(order_id, record)| read(order_id, record))
            .collect()
    }
}
