//! [`SqliteStore`]: orders in an embedded SQLite file (feature `sqlite`).
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a write that has returned
//! survives a crash of the process or of the machine; migrations run when it is opened, under
//! SQLite's write lock, so two processes opening the file at once apply each once. Each order
//! is one row (see [`Record`]); every change is one `UPDATE … WHERE` the row is still as
//! expected, applied when it changed a row. Fulfilment leases are counted on SQLite's own
//! clock.
//!
//! Writes go to one writer thread that owns the write connection and commits the writes
//! waiting at the same moment in one transaction, one fsync for all (see [`writer`]); each
//! caller still gets its own answer, only after the commit. Reads go to a few read
//! connections of their own on tokio's blocking pool (WAL lets them read while the writer
//! writes), never queued behind an fsync. A store in memory has its one connection, the
//! writer's, for reads too. Statements are prepared once per connection and cached.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use self::writer::Writer;

use super::{
    AoidCondition, Change, Claim, OrderStore, Record, RecordState, StoreError, Transition,
};

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
    // 3: the merchant's struct and the state's data apart (a payment is recorded without
    // reading the row first), the fulfilment record and its claim, and whether a person
    // must act on an order. Paid orders carried over count as fulfilled: the first version
    // fulfilled them in its notify route and its sweep, so handing its whole history to the
    // hook again would deliver every old order twice.
    "CREATE TABLE orders_v3 (
        order_id         TEXT PRIMARY KEY NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired')),
        aoid             TEXT,
        price_fen        INTEGER NOT NULL,
        revision         INTEGER NOT NULL DEFAULT 0,
        order_json       TEXT NOT NULL,
        data_json        TEXT NOT NULL,
        created_unix     INTEGER NOT NULL,
        submitted_unix   INTEGER,
        expired_unix     INTEGER,
        check_after_unix INTEGER,
        fulfilled_unix   INTEGER,
        claim_token      TEXT,
        claimed_until_ms INTEGER,
        attention        INTEGER NOT NULL DEFAULT 0,
        updated_unix     INTEGER NOT NULL
    );
    INSERT INTO orders_v3 (order_id, state, aoid, price_fen, revision, order_json, data_json,
                           created_unix, submitted_unix, expired_unix, check_after_unix,
                           fulfilled_unix, attention, updated_unix)
    SELECT order_id, state, aoid, price_fen, revision, json_extract(record, '$.order'),
           COALESCE(json_extract(record, '$.data'), 'null'), created_unix, submitted_unix,
           expired_unix, check_after_unix, CASE WHEN state = 'paid' THEN updated_unix END,
           state = 'paid' AND (aoid IS NULL OR json_extract(record, '$.data.in_doubt') IS NOT NULL),
           updated_unix
    FROM orders;
    DROP TABLE orders;
    ALTER TABLE orders_v3 RENAME TO orders;
    CREATE INDEX orders_pending ON orders (state, submitted_unix);
    CREATE INDEX orders_recent ON orders (created_unix);
    CREATE INDEX orders_expired ON orders (state, expired_unix);
    CREATE INDEX orders_unfulfilled ON orders (state, fulfilled_unix);
    CREATE INDEX orders_attention ON orders (attention) WHERE attention;",
    // 4: several merchants in one file: orders keyed by merchant and order number. Orders
    // carried over are the unnamed merchant's (`''`), the one a store opened plainly serves.
    "CREATE TABLE orders_v4 (
        merchant         TEXT NOT NULL DEFAULT '',
        order_id         TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired')),
        aoid             TEXT,
        price_fen        INTEGER NOT NULL,
        revision         INTEGER NOT NULL DEFAULT 0,
        order_json       TEXT NOT NULL,
        data_json        TEXT NOT NULL,
        created_unix     INTEGER NOT NULL,
        submitted_unix   INTEGER,
        expired_unix     INTEGER,
        check_after_unix INTEGER,
        fulfilled_unix   INTEGER,
        claim_token      TEXT,
        claimed_until_ms INTEGER,
        attention        INTEGER NOT NULL DEFAULT 0,
        updated_unix     INTEGER NOT NULL,
        PRIMARY KEY (merchant, order_id)
    );
    INSERT INTO orders_v4 (merchant, order_id, state, aoid, price_fen, revision, order_json,
                           data_json, created_unix, submitted_unix, expired_unix,
                           check_after_unix, fulfilled_unix, claim_token, claimed_until_ms,
                           attention, updated_unix)
    SELECT '', order_id, state, aoid, price_fen, revision, order_json, data_json, created_unix,
           submitted_unix, expired_unix, check_after_unix, fulfilled_unix, claim_token,
           claimed_until_ms, attention, updated_unix
    FROM orders ORDER BY rowid;
    DROP TABLE orders;
    ALTER TABLE orders_v4 RENAME TO orders;
    CREATE INDEX orders_pending ON orders (merchant, state, submitted_unix);
    CREATE INDEX orders_recent ON orders (merchant, created_unix);
    CREATE INDEX orders_expired ON orders (merchant, state, expired_unix);
    CREATE INDEX orders_unfulfilled ON orders (merchant, state, fulfilled_unix);
    CREATE INDEX orders_attention ON orders (merchant, attention) WHERE attention;",
    // 5: an aoid belongs to one order (a re-cut notification cannot give it to another).
    "CREATE UNIQUE INDEX orders_aoid ON orders (merchant, aoid) WHERE aoid IS NOT NULL;",
];

/// The columns of a record, in [`read_record`]'s order.
const COLUMNS: &str = "order_id, state, aoid, price_fen, revision, order_json, data_json, \
                       created_unix, submitted_unix, expired_unix, fulfilled_unix, attention";

/// SQLite's clock in milliseconds, for fulfilment leases.
const DB_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// How many read connections a store on a file keeps.
const READERS: usize = 4;

/// An [`OrderStore`] in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    /// `None` in memory: the writer's connection serves reads too.
    readers: Option<Arc<Readers>>,
    merchant: Arc<str>,
}

/// The read connections of a store on a file.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    available: Semaphore,
}

impl Readers {
    fn open(path: &Path) -> Result<Connection, StoreError> {
        let connection = Connection::open(path).map_err(database)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(database)?;
        connection
            .pragma_update(None, "query_only", true)
            .map_err(database)?;
        Ok(connection)
    }

    /// Runs `work` on an idle read connection, on the blocking pool.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _turn = self
            .available
            .acquire()
            .await
            .map_err(|_| StoreError::Database("store closed".to_owned()))?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        // A connection lost to a panic is opened again.
        let connection = match idle {
            Some(connection) => connection,
            None => Readers::open(&self.path)?,
        };
        let (connection, result) = tokio::task::spawn_blocking(move || {
            let result = work(&connection);
            (connection, result)
        })
        .await
        .map_err(database)?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connection);
        result
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("merchant", &self.merchant)
            .finish_non_exhaustive()
    }
}

fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

/// The error of a write that may set `aoid`: the unique index on it refusing is
/// [`StoreError::AoidTaken`].
fn write_error(error: rusqlite::Error, aoid: Option<&str>) -> StoreError {
    match (&error, aoid) {
        (rusqlite::Error::SqliteFailure(failure, Some(message)), Some(aoid))
            if failure.code == rusqlite::ErrorCode::ConstraintViolation
                && message.contains("orders.aoid") =>
        {
            StoreError::AoidTaken {
                aoid: aoid.to_owned(),
            }
        }
        _ => database(error),
    }
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened or migrated, or was written by
    /// a newer version of this crate.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let mut store = SqliteStore::setup(Connection::open(path).map_err(database)?)?;
        let idle = (0..READERS)
            .map(|_| Readers::open(path))
            .collect::<Result<Vec<_>, _>>()?;
        store.readers = Some(Arc::new(Readers {
            path: path.to_owned(),
            idle: Mutex::new(idle),
            available: Semaphore::new(READERS),
        }));
        Ok(store)
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
            writer: Writer::start(connection)?,
            readers: None,
            merchant: Arc::from(""),
        })
    }

    /// This store, for one merchant of several sharing the file: its orders are keyed by
    /// `merchant` and order number, so two merchants' order numbers never collide. A store
    /// opened with [`SqliteStore::open`] is the unnamed merchant's.
    pub fn merchant(&self, merchant: &str) -> SqliteStore {
        SqliteStore {
            writer: self.writer.clone(),
            readers: self.readers.clone(),
            merchant: Arc::from(merchant),
        }
    }

    /// Applies `work` in the writer's next batch; returns once that batch is committed.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(work).await
    }

    /// Runs `work`, which only reads, on a read connection (the writer's, in memory).
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.readers {
            Some(readers) => readers.read(work).await,
            None => self.writer.write(work).await,
        }
    }

    /// The merchant, as a query parameter.
    fn merchant_value(&self) -> rusqlite::types::Value {
        self.merchant.to_string().into()
    }

    /// The records a query selects, with its parameters.
    async fn select(
        &self,
        sql: String,
        parameters: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<Record>, StoreError> {
        self.read(move |connection| records(connection, &sql, parameters))
            .await
    }
}

/// The records a statement returns.
fn records(
    connection: &Connection,
    sql: &str,
    parameters: Vec<rusqlite::types::Value>,
) -> Result<Vec<Record>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(database)?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(parameters), read_record)
        .map_err(database)?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(database)?
        .into_iter()
        .collect()
}

fn unix(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

fn time_of(order_id: &str, seconds: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    seconds
        .map(|seconds| {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|error| StoreError::Corrupt {
                order_id: order_id.to_owned(),
                reason: error.to_string(),
            })
        })
        .transpose()
}

/// One row as a record; what SQLite cannot hold for us is checked here.
fn read_record(row: &Row<'_>) -> rusqlite::Result<Result<Record, StoreError>> {
    let order_id: String = row.get(0)?;
    let state: String = row.get(1)?;
    let price_fen: i64 = row.get(3)?;
    let revision: i64 = row.get(4)?;
    let created: i64 = row.get(7)?;
    let (submitted, expired, fulfilled): (Option<i64>, Option<i64>, Option<i64>) =
        (row.get(8)?, row.get(9)?, row.get(10)?);
    let corrupt = |reason: &str| StoreError::Corrupt {
        order_id: order_id.clone(),
        reason: reason.to_owned(),
    };
    let record = (|| {
        Ok(Record {
            state: RecordState::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
            aoid: row.get(2).map_err(database)?,
            price_fen: u64::try_from(price_fen).map_err(|_| corrupt("negative price"))?,
            revision: u32::try_from(revision).map_err(|_| corrupt("revision out of range"))?,
            order: row.get(5).map_err(database)?,
            data: row.get(6).map_err(database)?,
            created_at: time_of(&order_id, Some(created))?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
            submitted_at: time_of(&order_id, submitted)?,
            expired_at: time_of(&order_id, expired)?,
            fulfilled_at: time_of(&order_id, fulfilled)?,
            attention: row.get(11).map_err(database)?,
            order_id: order_id.clone(),
        })
    })();
    Ok(record)
}

fn fen(price_fen: u64) -> i64 {
    i64::try_from(price_fen).unwrap_or(i64::MAX)
}

fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl OrderStore for SqliteStore {
    async fn insert(&self, record: &Record) -> Result<(), StoreError> {
        let record = record.clone();
        let merchant = Arc::clone(&self.merchant);
        self.write(move |connection| {
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO orders (order_id, state, aoid, price_fen, revision, order_json,
                         data_json, created_unix, submitted_unix, expired_unix, attention,
                         updated_unix, merchant)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?8, ?12)
                     ON CONFLICT (merchant, order_id) DO NOTHING",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        record.order_id,
                        record.state.as_str(),
                        record.aoid,
                        fen(record.price_fen),
                        record.revision,
                        record.order,
                        record.data,
                        unix(record.created_at),
                        record.submitted_at.map(unix),
                        record.expired_at.map(unix),
                        record.attention,
                        &*merchant,
                    ])
                })
                .map_err(|error| write_error(error, record.aoid.as_deref()))?;
            if inserted == 0 {
                return Err(StoreError::Duplicate(record.order_id));
            }
            Ok(())
        })
        .await
    }

    async fn change(&self, change: &Change<'_>) -> Result<Transition, StoreError> {
        let (aoid_mode, aoid) = match change.aoid {
            AoidCondition::Any => (0, None),
            AoidCondition::Is(aoid) => (1, Some(aoid.to_owned())),
            AoidCondition::UnknownOr(aoid) => (2, Some(aoid.to_owned())),
            AoidCondition::Unknown => (3, None),
        };
        let from: Vec<&'static str> = change.from.iter().map(|state| state.as_str()).collect();
        let values = (
            change.order_id.to_owned(),
            serde_json::Value::from(from).to_string(),
            fen(change.price_fen),
            change.revision,
            change.to.as_str(),
            change.new_aoid.map(str::to_owned),
            change.new_revision,
            change.data.to_owned(),
            change.submitted_at.map(unix),
            change.expired_at.map(unix),
            change.attention,
            unix(change.at),
            Arc::clone(&self.merchant),
        );
        self.write(move |connection| {
            let (order_id, from, price, revision, to, new_aoid, new_revision, data) = (
                values.0, values.1, values.2, values.3, values.4, values.5, values.6, values.7,
            );
            let (submitted, expired, attention, at) = (values.8, values.9, values.10, values.11);
            let merchant = values.12;
            connection
                .prepare_cached(
                    "UPDATE orders SET
                         check_after_unix = CASE WHEN state = ?5 THEN check_after_unix END,
                         state = ?5, aoid = COALESCE(?6, aoid), revision = ?7, data_json = ?8,
                         submitted_unix = COALESCE(?9, submitted_unix),
                         expired_unix = COALESCE(?10, expired_unix), attention = ?11,
                         updated_unix = ?12
                     WHERE merchant = ?15 AND order_id = ?1 AND price_fen = ?3
                       AND state IN (SELECT value FROM json_each(?2))
                       AND (?4 IS NULL OR revision = ?4)
                       AND CASE ?13 WHEN 0 THEN 1 WHEN 1 THEN aoid = ?14
                                    WHEN 2 THEN aoid IS NULL OR aoid = ?14
                                    ELSE aoid IS NULL END",
                )
                .and_then(|mut statement| {
                    // SQLite counts every row the WHERE matched, changed values or not.
                    statement.execute(params![
                        order_id,
                        from,
                        price,
                        revision,
                        to,
                        new_aoid,
                        new_revision,
                        data,
                        submitted,
                        expired,
                        attention,
                        at,
                        aoid_mode,
                        aoid,
                        &*merchant,
                    ])
                })
                .map(|changed| match changed {
                    0 => Transition::NotApplied,
                    _ => Transition::Applied,
                })
                .map_err(|error| write_error(error, new_aoid.as_deref()))
        })
        .await
    }

    async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM orders WHERE merchant = ?2 AND order_id = ?1");
        let records = self
            .select(sql, vec![order_id.to_owned().into(), self.merchant_value()])
            .await?;
        Ok(records.into_iter().next())
    }

    async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit_to: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM orders
             WHERE merchant = ?5
               AND ((state = 'created' AND created_unix < ?2)
                 OR (state = 'pending' AND submitted_unix < ?2)
                 OR (state = 'expired' AND (expired_unix >= ?3 OR attention)))
               AND (check_after_unix IS NULL OR check_after_unix <= ?1)
             ORDER BY updated_unix, order_id LIMIT ?4"
        );
        self.select(
            sql,
            vec![
                unix(now).into(),
                unix(stale_before).into(),
                unix(expired_since).into(),
                limit(limit_to).into(),
                self.merchant_value(),
            ],
        )
        .await
    }

    async fn check_again_at(&self, order_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let (key, at) = (order_id.to_owned(), unix(at));
        let merchant = Arc::clone(&self.merchant);
        self.write(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE orders SET check_after_unix = ?2 WHERE merchant = ?3 AND order_id = ?1",
                )
                .and_then(|mut statement| statement.execute(params![key, at, &*merchant]))
                .map(drop)
                .map_err(database)
        })
        .await
    }

    async fn recent(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM orders WHERE merchant = ?2
             ORDER BY created_unix DESC, rowid DESC LIMIT ?1"
        );
        self.select(sql, vec![limit(limit_to).into(), self.merchant_value()])
            .await
    }

    async fn needing_attention(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM orders WHERE merchant = ?2 AND attention
             ORDER BY order_id LIMIT ?1"
        );
        self.select(sql, vec![limit(limit_to).into(), self.merchant_value()])
            .await
    }

    async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "UPDATE orders SET claim_token = ?1,
                 claimed_until_ms = {DB_NOW_MS} + ?2
             WHERE merchant = ?5 AND order_id IN (
                 SELECT order_id FROM orders
                 WHERE merchant = ?5 AND state = 'paid' AND fulfilled_unix IS NULL
                   AND (claimed_until_ms IS NULL OR claimed_until_ms <= {DB_NOW_MS})
                   AND (?3 IS NULL OR order_id = ?3)
                 ORDER BY updated_unix, order_id LIMIT ?4)
             RETURNING {COLUMNS}"
        );
        let lease = i64::try_from(claim.lease.as_millis()).unwrap_or(i64::MAX);
        let order_id: rusqlite::types::Value = claim.order_id.map(str::to_owned).into();
        let parameters = vec![
            claim.token.to_owned().into(),
            lease.into(),
            order_id,
            limit(claim.limit).into(),
            self.merchant_value(),
        ];
        self.write(move |connection| records(connection, &sql, parameters))
            .await
    }

    async fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        let (key, token, at) = (order_id.to_owned(), token.to_owned(), unix(at));
        let merchant = Arc::clone(&self.merchant);
        self.write(move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE orders SET fulfilled_unix = ?3, claim_token = NULL,
                         claimed_until_ms = NULL
                     WHERE merchant = ?4 AND order_id = ?1 AND claim_token = ?2
                       AND fulfilled_unix IS NULL",
                )
                .and_then(|mut statement| statement.execute(params![key, token, at, &*merchant]))
                .map_err(database)?;
            Ok(if changed == 1 {
                Transition::Applied
            } else {
                Transition::NotApplied
            })
        })
        .await
    }

    async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        let (key, token) = (order_id.to_owned(), token.to_owned());
        let retry = i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX);
        let merchant = Arc::clone(&self.merchant);
        let sql = format!(
            "UPDATE orders SET claim_token = NULL, claimed_until_ms = {DB_NOW_MS} + ?3
             WHERE merchant = ?4 AND order_id = ?1 AND claim_token = ?2"
        );
        self.write(move |connection| {
            connection
                .prepare_cached(&sql)
                .and_then(|mut statement| statement.execute(params![key, token, retry, &*merchant]))
                .map(drop)
                .map_err(database)
        })
        .await
    }
}
