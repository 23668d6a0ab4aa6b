//! [`SqliteStore`]: orders in an embedded SQLite file (feature `sqlite`).
//!
//! The file is opened in WAL mode with `synchronous = FULL`, so a write that has returned
//! survives a crash of the process or of the machine; the schema is created when a new file is
//! opened, under SQLite's write lock, so two processes opening it at once create it once. Each order
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

mod events;
mod merchants;
mod prune;
mod sql;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use self::writer::Writer;

use self::sql::{DB_NOW_MS, database, unix};
use super::{
    AoidCondition, Change, Claim, EventClaim, EventRecord, OrderStore, PRUNED, Record, RecordState,
    StoreError, Tally, Transition, count, made_by_an_unreleased_build, time_of,
};

/// The schema, created when the store first opens a file. `xorpay_store` numbers it; a
/// later release that changes the schema adds a step from each version to the next.
const SCHEMA: &str = "CREATE TABLE xorpay_orders (
        merchant         TEXT NOT NULL,
        order_id         TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired', 'pruned')),
        aoid             TEXT,
        price_fen        INTEGER NOT NULL CHECK (price_fen >= 0),
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
    CREATE INDEX xorpay_orders_pending ON xorpay_orders (merchant, state, submitted_unix);
    CREATE INDEX xorpay_orders_recent ON xorpay_orders (merchant, created_unix);
    CREATE INDEX xorpay_orders_expired ON xorpay_orders (merchant, state, expired_unix);
    -- Orders by state and when they were fulfilled: pruning reads the paid ones.
    CREATE INDEX xorpay_orders_fulfilled ON xorpay_orders (merchant, state, fulfilled_unix);
    -- A fulfilment claim looks at two short ranges, as an event claim does: the paid orders
    -- never claimed, oldest change first, and the ones whose lease has ended. An order held
    -- under a lease (its hook failing, say) is in neither, however many there are.
    CREATE INDEX xorpay_orders_unfulfilled ON xorpay_orders (merchant, updated_unix, order_id)
        WHERE state = 'paid' AND fulfilled_unix IS NULL AND claimed_until_ms IS NULL;
    CREATE INDEX xorpay_orders_refulfil ON xorpay_orders (merchant, claimed_until_ms)
        WHERE state = 'paid' AND fulfilled_unix IS NULL AND claimed_until_ms IS NOT NULL;
    CREATE INDEX xorpay_orders_attention ON xorpay_orders (merchant, attention) WHERE attention;
    -- An aoid belongs to one order: a re-cut notification cannot give it to another.
    CREATE UNIQUE INDEX xorpay_orders_aoid ON xorpay_orders (merchant, aoid)
        WHERE aoid IS NOT NULL;
    -- The merchant table (store::merchant_table): a platform's merchants and their secrets.
    CREATE TABLE xorpay_merchants (
        name            TEXT NOT NULL PRIMARY KEY,
        aid             TEXT NOT NULL,
        secret          TEXT NOT NULL,
        previous_secret TEXT,
        retired_unix    INTEGER,
        enabled         INTEGER NOT NULL DEFAULT 1,
        updated_unix    INTEGER NOT NULL
    );
    -- Events for the merchant's hook beyond a payment (store::events), one row each.
    CREATE TABLE xorpay_events (
        merchant         TEXT NOT NULL,
        order_id         TEXT NOT NULL,
        kind             TEXT NOT NULL,
        subject          TEXT NOT NULL,
        due_unix         INTEGER NOT NULL,
        done_unix        INTEGER,
        claim_token      TEXT,
        claimed_until_ms INTEGER,
        PRIMARY KEY (merchant, order_id, kind, subject)
    );
    -- A claim looks at two short ranges: the events never claimed, by when they are due, and
    -- the ones claimed before whose lease has ended. An event held under a lease (its hook
    -- failing, say) is in neither, however many there are.
    CREATE INDEX xorpay_events_due ON xorpay_events (merchant, due_unix)
        WHERE done_unix IS NULL AND claimed_until_ms IS NULL;
    CREATE INDEX xorpay_events_retry ON xorpay_events (merchant, claimed_until_ms)
        WHERE done_unix IS NULL AND claimed_until_ms IS NOT NULL;
    CREATE TABLE xorpay_store (schema_version INTEGER NOT NULL);
    INSERT INTO xorpay_store (schema_version) VALUES (2);";

/// The version [`SCHEMA`] records in `xorpay_store`.
const SCHEMA_VERSION: i64 = 2;

/// The columns of a record, in [`read_record`]'s order.
const COLUMNS: &str = "order_id, state, aoid, price_fen, revision, order_json, data_json, \
                       created_unix, submitted_unix, expired_unix, fulfilled_unix, attention";

/// The fulfilment claim (see [`Claim`]): `?1` token, `?2` lease in milliseconds, `?3` the
/// order's number (`by_number`) or the limit, `?4` merchant. Any order: the oldest changes
/// among the first of two index ranges, the orders never claimed and those whose lease ended
/// (schema: `xorpay_orders_unfulfilled`, `_refulfil`). One order: by its key.
fn claim_sql(by_number: bool) -> String {
    let picked = if by_number {
        format!(
            "order_id = ?3 AND state = 'paid' AND fulfilled_unix IS NULL
             AND (claimed_until_ms IS NULL OR claimed_until_ms <= {DB_NOW_MS})"
        )
    } else {
        format!(
            "order_id IN (
                 SELECT order_id FROM (
                     SELECT * FROM (
                         SELECT order_id, updated_unix FROM xorpay_orders
                         WHERE merchant = ?4 AND state = 'paid' AND fulfilled_unix IS NULL
                           AND claimed_until_ms IS NULL
                         ORDER BY updated_unix, order_id LIMIT ?3)
                     UNION ALL
                     SELECT * FROM (
                         SELECT order_id, updated_unix FROM xorpay_orders
                         WHERE merchant = ?4 AND state = 'paid' AND fulfilled_unix IS NULL
                           AND claimed_until_ms IS NOT NULL
                           AND claimed_until_ms <= {DB_NOW_MS}
                         ORDER BY claimed_until_ms LIMIT ?3))
                 ORDER BY updated_unix, order_id LIMIT ?3)"
        )
    };
    format!(
        "UPDATE xorpay_orders SET claim_token = ?1, claimed_until_ms = {DB_NOW_MS} + ?2
         WHERE merchant = ?4 AND {picked}
         RETURNING {COLUMNS}"
    )
}

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

/// Creates the schema in a file that has none, or checks that the one it finds is this
/// release's. The file may hold the merchant's own tables beside the store's. A file written
/// by a newer release, or by an unreleased version of xorpay before 0.1.0 (which kept its
/// orders in a table named `orders`), is refused with what to do.
fn create_or_check_schema(transaction: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let has_table = |name: &str| -> Result<bool, StoreError> {
        transaction
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
                [name],
                |row| row.get(0),
            )
            .map_err(database)
    };
    if has_table("xorpay_store")? {
        let version: Option<i64> = transaction
            .query_row("SELECT MAX(schema_version) FROM xorpay_store", [], |row| {
                row.get(0)
            })
            .map_err(database)?;
        return match version {
            Some(1) => Err(made_by_an_unreleased_build()),
            Some(SCHEMA_VERSION) => Ok(()),
            _ => Err(StoreError::Database(format!(
                "the file's schema is version {version:?}, written by a newer release of \
                 xorpay than this one (which knows version {SCHEMA_VERSION}): upgrade xorpay"
            ))),
        };
    }
    // The unreleased versions' table: `orders`, with xorpay's price and revision columns.
    let unreleased: bool = transaction
        .query_row(
            "SELECT COUNT(*) = 2 FROM pragma_table_info('orders')
             WHERE name IN ('price_fen', 'revision')",
            [],
            |row| row.get(0),
        )
        .map_err(database)?;
    if unreleased {
        return Err(StoreError::Database(
            "the file was written by an unreleased version of xorpay before 0.1.0, which \
             this release cannot read: delete the file (and its -wal and -shm files) and open \
             it again"
                .to_owned(),
        ));
    }
    if has_table("xorpay_orders")? {
        return Err(StoreError::Database(
            "the file has a table `xorpay_orders` that this store did not make: open another \
             file"
                .to_owned(),
        ));
    }
    transaction.execute_batch(SCHEMA).map_err(database)
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

/// The error of a write that may set `aoid`: the unique index on it refusing is
/// [`StoreError::AoidTaken`].
fn write_error(error: rusqlite::Error, aoid: Option<&str>) -> StoreError {
    match (&error, aoid) {
        (rusqlite::Error::SqliteFailure(failure, Some(message)), Some(aoid))
            if failure.code == rusqlite::ErrorCode::ConstraintViolation
                && message.contains("xorpay_orders.aoid") =>
        {
            StoreError::AoidTaken {
                aoid: aoid.to_owned(),
            }
        }
        _ => database(error),
    }
}

impl SqliteStore {
    /// Opens the store in the file at `path`, creating the file or the store's tables in it
    /// when missing (the merchant's own tables may share the file).
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened, or its xorpay tables were
    /// written by another version of xorpay (the message says what to do).
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
        // WAL lets readers proceed during a write; FULL syncs every commit (what
        // `service::guarantees::acknowledgement` relies on).
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(database)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(database)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(database)?;
        // IMMEDIATE takes the write lock first, so two processes opening a new file at once
        // cannot both create the schema.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database)?;
        create_or_check_schema(&transaction)?;
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
                    "INSERT INTO xorpay_orders (order_id, state, aoid, price_fen, revision, order_json,
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
        let events = events::owned(change.events);
        self.write(move |connection| {
            let (order_id, from, price, revision, to, new_aoid, new_revision, data) = (
                values.0, values.1, values.2, values.3, values.4, values.5, values.6, values.7,
            );
            let (submitted, expired, attention, at) = (values.8, values.9, values.10, values.11);
            let merchant = values.12;
            let changed = connection
                .prepare_cached(
                    "UPDATE xorpay_orders SET
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
                .map_err(|error| write_error(error, new_aoid.as_deref()))?;
            if changed == 0 {
                return Ok(Transition::NotApplied);
            }
            // In the change's savepoint: both are kept, or neither.
            events::record(connection, &merchant, &order_id, &events)?;
            Ok(Transition::Applied)
        })
        .await
    }

    async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders
             WHERE merchant = ?2 AND order_id = ?1 AND state <> '{PRUNED}'"
        );
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
        // One indexed read per kind of order due, so that a pass costs what is due, not the
        // size of the book (an OR across states would scan every order).
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ?5 AND state = 'created' AND created_unix < ?2
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ?5 AND state = 'pending' AND submitted_unix < ?2
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ?5 AND state = 'expired' AND expired_unix >= ?3
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ?5 AND attention AND +state = 'expired'
                   AND (expired_unix IS NULL OR expired_unix < ?3))
             WHERE check_after_unix IS NULL OR check_after_unix <= ?1
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
                    "UPDATE xorpay_orders SET check_after_unix = ?2 WHERE merchant = ?3 AND order_id = ?1",
                )
                .and_then(|mut statement| statement.execute(params![key, at, &*merchant]))
                .map(drop)
                .map_err(database)
        })
        .await
    }

    async fn recent(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = ?2 AND state <> '{PRUNED}'
             ORDER BY created_unix DESC, rowid DESC LIMIT ?1"
        );
        self.select(sql, vec![limit(limit_to).into(), self.merchant_value()])
            .await
    }

    async fn needing_attention(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = ?2 AND attention
             ORDER BY order_id LIMIT ?1"
        );
        self.select(sql, vec![limit(limit_to).into(), self.merchant_value()])
            .await
    }

    async fn tally(&self) -> Result<Tally, StoreError> {
        let merchant = self.merchant.to_string();
        self.read(move |connection| {
            // One statement: one snapshot. The planner would count the flagged paid orders
            // through the index of every paid order: the few flagged ones are read instead.
            let (pending, oldest, attention, with_aoid): (i64, Option<i64>, i64, i64) = connection
                .prepare_cached(
                    "SELECT
                         (SELECT COUNT(*) FROM xorpay_orders
                          WHERE merchant = ?1 AND state = 'pending'),
                         (SELECT MIN(submitted_unix) FROM xorpay_orders
                          WHERE merchant = ?1 AND state = 'pending'),
                         (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = ?1 AND attention),
                         (SELECT COUNT(*) FROM xorpay_orders
                          INDEXED BY xorpay_orders_attention
                          WHERE merchant = ?1 AND attention
                            AND state = 'paid' AND aoid IS NOT NULL)",
                )
                .and_then(|mut statement| {
                    statement.query_row([&merchant], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })
                })
                .map_err(database)?;
            Ok(Tally::new(
                count(pending),
                time_of("(oldest pending)", oldest)?,
                count(attention),
                count(with_aoid),
            ))
        })
        .await
    }

    async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        if claim.limit == 0 {
            return Ok(Vec::new());
        }
        let sql = claim_sql(claim.order_id.is_some());
        let lease = crate::store::lease_millis(claim.lease);
        let which: rusqlite::types::Value = match claim.order_id {
            Some(order_id) => order_id.to_owned().into(),
            None => limit(claim.limit).into(),
        };
        let parameters = vec![
            claim.token.to_owned().into(),
            lease.into(),
            which,
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
                    "UPDATE xorpay_orders SET fulfilled_unix = ?3, claim_token = NULL,
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

    async fn claim_event(&self, claim: &EventClaim<'_>) -> Result<Option<EventRecord>, StoreError> {
        events::claim(&self.writer, &self.merchant, claim).await
    }

    async fn finish_event(
        &self,
        event: &EventRecord,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        events::finish(&self.writer, &self.merchant, event, token, unix(at)).await
    }

    async fn release_event(
        &self,
        event: &EventRecord,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        events::release(&self.writer, &self.merchant, event, token, retry_after).await
    }

    async fn prune(&self, before: OffsetDateTime, limit_to: usize) -> Result<u64, StoreError> {
        prune::prune(&self.writer, &self.merchant, unix(before), limit(limit_to)).await
    }

    async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        let (key, token) = (order_id.to_owned(), token.to_owned());
        let retry = crate::store::lease_millis(retry_after);
        let merchant = Arc::clone(&self.merchant);
        let sql = format!(
            "UPDATE xorpay_orders SET claim_token = NULL, claimed_until_ms = {DB_NOW_MS} + ?3
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of SQLite's plan for `sql` on a new database (no `ANALYZE` yet, as in
    /// production), its `n` parameters bound to NULL.
    fn plan(sql: &str, n: usize) -> Vec<String> {
        let connection = Connection::open_in_memory().unwrap();
        connection.execute_batch(SCHEMA).unwrap();
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let nulls = vec![rusqlite::types::Value::Null; n];
        statement
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Claims read their own short index ranges: no scan of the table, and no sort of every
    /// row waiting (an order or event held under a lease is in neither range).
    #[test]
    fn claims_read_their_partial_indexes() {
        let claims = [
            (
                claim_sql(false),
                4,
                ["xorpay_orders_unfulfilled", "xorpay_orders_refulfil"],
            ),
            (
                events::claim_sql(),
                4,
                ["xorpay_events_due", "xorpay_events_retry"],
            ),
        ];
        for (sql, n, indexes) in claims {
            let plan = plan(&sql, n);
            for index in indexes {
                assert!(
                    plan.iter()
                        .any(|line| line.contains(&format!("USING INDEX {index}"))),
                    "{index} unused: {plan:#?}"
                );
            }
            assert!(
                !plan
                    .iter()
                    .any(|line| line.starts_with("SCAN xorpay_") && !line.contains("INDEX")),
                "a table scan: {plan:#?}"
            );
        }
        let by_number = plan(&claim_sql(true), 4);
        assert!(
            by_number.iter().any(|line| line.contains("PRIMARY KEY")
                || line.contains("sqlite_autoindex_xorpay_orders")),
            "{by_number:#?}"
        );
    }
}
