//! [`SqliteStore`]: orders in an embedded SQLite file (feature `sqlite`).
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a write that has returned
//! survives a crash of the process or of the machine; migrations run when it is opened.
//! Each order is one row: its number, its state, its `aoid` and price as columns for
//! queries, and the whole [`StoredOrder`] as JSON. Every state change is an `UPDATE … WHERE
//! state = '<expected>'`, so concurrent writers cannot both move the same order.
//!
//! SQLite is synchronous: every operation runs on tokio's blocking pool, one at a time
//! through one connection.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{OrderStore, StoreError, Transition};
use crate::order::{Created, Expired, Order, Paid, Pending, State, StoredOrder};
use crate::request::XorPayOrder;

/// The schema, one entry per version; applied in order on open (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &["CREATE TABLE orders (
        order_id     TEXT PRIMARY KEY NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired')),
        aoid         TEXT,
        price_fen    INTEGER NOT NULL,
        record       TEXT NOT NULL,
        created_unix INTEGER NOT NULL,
        submitted_unix INTEGER,
        updated_unix INTEGER NOT NULL
    );
    CREATE INDEX orders_pending ON orders (state, submitted_unix);
    CREATE INDEX orders_recent ON orders (created_unix);"];

/// An [`OrderStore`] in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::setup(Connection::open(path).map_err(database)?)
    }

    /// A store in memory, for tests and demos: gone when dropped.
    ///
    /// # Errors
    /// [`StoreError::Database`] when SQLite cannot set it up.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::setup(Connection::open_in_memory().map_err(database)?)
    }

    fn setup(mut connection: Connection) -> Result<SqliteStore, StoreError> {
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
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(database)?;
        let applied = usize::try_from(version).unwrap_or(0);
        let transaction = connection.transaction().map_err(database)?;
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
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&MutexGuard<'_, Connection>) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let guard = connection
                .lock()
                .map_err(|_| StoreError::Database("connection lock poisoned".to_owned()))?;
            work(&guard)
        })
        .await
        .map_err(database)?
    }

    /// Moves one row to the order's state, replacing its record, if it is still in one of
    /// the states `from` (at most two).
    async fn transition<O: Serialize, S: State>(
        &self,
        order: &Order<O, S>,
        from: [&'static str; 2],
    ) -> Result<Transition, StoreError> {
        let row = Row::of(order)?;
        self.with(move |connection| {
            let changed = connection
                .execute(
                    "UPDATE orders SET state = ?1, aoid = COALESCE(?2, aoid), record = ?3,
                         submitted_unix = COALESCE(?4, submitted_unix), updated_unix = ?5
                     WHERE order_id = ?6 AND state IN (?7, ?8)",
                    params![
                        row.state,
                        row.aoid,
                        row.record,
                        row.submitted_unix,
                        now_unix(),
                        row.order_id,
                        from[0],
                        from[1]
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
    record: String,
    submitted_unix: Option<i64>,
}

impl Row {
    fn of<O: Serialize, S: State>(order: &Order<O, S>) -> Result<Row, StoreError> {
        let record = serde_json::to_string(order).map_err(|error| StoreError::Corrupt {
            order_id: order.order_id().to_owned(),
            reason: error.to_string(),
        })?;
        Ok(Row {
            order_id: order.order_id().to_owned(),
            state: order.state_name(),
            aoid: order.known_aoid().map(|aoid| aoid.as_str().to_owned()),
            price_fen: i64::try_from(order.price().fen()).unwrap_or(i64::MAX),
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

impl<O> OrderStore<O> for SqliteStore
where
    O: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    async fn insert(&self, order: &Order<O, Created>) -> Result<(), StoreError> {
        let row = Row::of(order)?;
        self.with(move |connection| {
            let inserted = connection
                .execute(
                    "INSERT INTO orders (order_id, state, aoid, price_fen, record, created_unix,
                         submitted_unix, updated_unix)
                     VALUES (?1, ?2, NULL, ?3, ?4, ?5, NULL, ?5)
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
        self.transition(order, ["created", "created"]).await
    }

    async fn mark_paid(&self, order: &Order<O, Paid>) -> Result<Transition, StoreError> {
        // From expired too: a payment that arrives late is still money received.
        self.transition(order, ["pending", "expired"]).await
    }

    async fn mark_expired(&self, order: &Order<O, Expired>) -> Result<Transition, StoreError> {
        self.transition(order, ["pending", "pending"]).await
    }

    async fn update_paid(&self, order: &Order<O, Paid>) -> Result<Transition, StoreError> {
        self.transition(order, ["paid", "paid"]).await
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
        let cutoff = cutoff.unix_timestamp();
        let rows: Vec<(String, String)> = self
            .with(move |connection| {
                let mut statement = connection
                    .prepare(
                        "SELECT order_id, record FROM orders
                         WHERE state = 'pending' AND submitted_unix < ?1
                         ORDER BY submitted_unix",
                    )
                    .map_err(database)?;
                let rows = statement
                    .query_map(params![cutoff], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(database)?;
                rows.collect::<Result<_, _>>().map_err(database)
            })
            .await?;
        rows.into_iter()
            .filter_map(|(order_id, record)| match read::<O>(&order_id, &record) {
                Ok(StoredOrder::Pending(order)) => Some(Ok(order)),
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            })
            .collect()
    }

    async fn recent(&self, limit: usize) -> Result<Vec<StoredOrder<O>>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(String, String)> = self
            .with(move |connection| {
                let mut statement = connection
                    .prepare(
                        "SELECT order_id, record FROM orders
                         ORDER BY created_unix DESC, rowid DESC LIMIT ?1",
                    )
                    .map_err(database)?;
                let rows = statement
                    .query_map(params![limit], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(database)?;
                rows.collect::<Result<_, _>>().map_err(database)
            })
            .await?;
        rows.iter()
            .map(|(order_id, record)| read(order_id, record))
            .collect()
    }
}
