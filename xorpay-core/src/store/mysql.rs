//! [`MySqlStore`]: orders in MySQL (≥ 8.0) or MariaDB (≥ 10.6) (feature `mysql`), for
//! several instances of one shop on one database.
//!
//! The SQL is what both servers accept; only MariaDB is tested (see the README). Four habits
//! of MySQL that would otherwise change an answer are dealt with here, each with a test in
//! `tests/mysql_traps.rs`:
//!
//! - **Affected rows.** Without the `CLIENT_FOUND_ROWS` flag MySQL counts the rows an
//!   `UPDATE` changed, not the rows it matched, so a change that leaves a row as it was
//!   (flagging an order already flagged) would look refused. Every `UPDATE` here also adds one
//!   to the row's `writes` counter: a matched row is always a changed row, and the answer is
//!   the same whichever way the pool counts.
//! - **Lost updates.** Under REPEATABLE READ, a read followed by a write acts on what the read
//!   saw. The conditions a change rests on (state, price, `aoid`, revision) sit in the
//!   `UPDATE`'s `WHERE`, where InnoDB checks them against the row as it is, under the row's
//!   lock; nothing is read first.
//! - **Collations.** MySQL's default collations fold case and ignore trailing spaces, so
//!   `A-1`, `a-1` and `a-1 ` would be one key. The key columns (merchant, order number,
//!   `aoid`, claim token) are `VARBINARY`: compared byte for byte.
//! - **No `RETURNING`.** MySQL has none and MariaDB none for `UPDATE`: a fulfilment claim
//!   locks its rows (`FOR UPDATE SKIP LOCKED`), marks them with its token and reads them back
//!   by that token, in one transaction.
//!
//! An `UPDATE` assigns its columns left to right, each later assignment seeing the earlier
//! ones' new values (PostgreSQL's see the old row): where a `SET` reads a column it also
//! assigns, it reads it first.
//!
//! The schema is created when the store connects, under a named lock (`GET_LOCK`), so that
//! instances connecting at once create it once. MySQL commits each `CREATE TABLE` on its own,
//! so each step may already be done when a connect that was cut off is followed by the next:
//! every step is written to be run again, and the version is recorded last. TLS goes through
//! rustls (`require_ssl=true` in the URL; the server's certificate is verified against
//! webpki's roots); there is no OpenSSL.

mod events;
mod merchants;
mod pay;
mod prune;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Pool, Row, TxOpts, Value};
use time::OffsetDateTime;

use self::sql::{DB_NOW_MS, database, millis, placeholders, read_committed, unix};
use super::batch::{Answer, Batcher, Payment};
use super::{
    AoidCondition, Change, Claim, EventClaim, EventRecord, OrderStore, PRUNED, Record, RecordState,
    StoreError, Tally, Transition, count, made_by_an_unreleased_build, time_of,
};

/// The steps that create the schema, in order, each harmless to run again: a connect cut off
/// between two of them (each `CREATE` commits on its own) is completed by the next.
/// `xorpay_store` numbers the schema; a later release that changes it adds a step from each
/// version to the next.
const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS xorpay_orders (
        merchant         VARBINARY(255) NOT NULL,
        order_id         VARBINARY(255) NOT NULL,
        state            VARCHAR(8) CHARACTER SET ascii NOT NULL
                         CHECK (state IN ('created', 'pending', 'paid', 'expired', 'pruned')),
        aoid             VARBINARY(255),
        price_fen        BIGINT NOT NULL CHECK (price_fen >= 0),
        revision         BIGINT NOT NULL DEFAULT 0,
        writes           BIGINT NOT NULL DEFAULT 0,
        order_json       LONGTEXT CHARACTER SET utf8mb4 NOT NULL,
        data_json        LONGTEXT CHARACTER SET utf8mb4 NOT NULL,
        created_unix     BIGINT NOT NULL,
        submitted_unix   BIGINT,
        expired_unix     BIGINT,
        check_after_unix BIGINT,
        fulfilled_unix   BIGINT,
        claim_token      VARBINARY(255),
        claimed_until_ms BIGINT,
        attention        BOOLEAN NOT NULL DEFAULT FALSE,
        updated_unix     BIGINT NOT NULL,
        seq              BIGINT NOT NULL AUTO_INCREMENT,
        PRIMARY KEY (merchant, order_id),
        UNIQUE KEY xorpay_orders_seq (seq),
        -- An aoid belongs to one order: a re-cut notification cannot give it to another.
        UNIQUE KEY xorpay_orders_aoid (merchant, aoid),
        KEY xorpay_orders_pending (merchant, state, submitted_unix),
        KEY xorpay_orders_recent (merchant, created_unix),
        KEY xorpay_orders_expired (merchant, state, expired_unix),
        -- Paid orders by when they were fulfilled (for pruning); and, those not fulfilled,
        -- the two short ranges a fulfilment claim looks at, as an event claim does: the
        -- orders never claimed (no lease), oldest change first, and the ones whose lease has
        -- ended. An order held under a lease (its hook failing, say) is in neither.
        KEY xorpay_orders_fulfilment (merchant, state, fulfilled_unix, claimed_until_ms,
                                      updated_unix),
        KEY xorpay_orders_attention (merchant, attention)
    ) ENGINE = InnoDB",
    // The merchant table (store::merchant_table): a platform's merchants and their secrets.
    "CREATE TABLE IF NOT EXISTS xorpay_merchants (
        name            VARBINARY(64) NOT NULL PRIMARY KEY,
        aid             VARBINARY(255) NOT NULL,
        secret          VARBINARY(255) NOT NULL,
        previous_secret VARBINARY(255),
        retired_unix    BIGINT,
        enabled         BOOLEAN NOT NULL DEFAULT TRUE,
        updated_unix    BIGINT NOT NULL
    ) ENGINE = InnoDB",
    // Events for the merchant's hook beyond a payment (store::events), one row each.
    "CREATE TABLE IF NOT EXISTS xorpay_events (
        merchant         VARBINARY(255) NOT NULL,
        order_id         VARBINARY(255) NOT NULL,
        kind             VARCHAR(32) CHARACTER SET ascii NOT NULL,
        subject          VARBINARY(255) NOT NULL,
        due_unix         BIGINT NOT NULL,
        done_unix        BIGINT,
        claim_token      VARBINARY(255),
        claimed_until_ms BIGINT,
        PRIMARY KEY (merchant, order_id, kind, subject),
        -- A claim looks at two short ranges of it: the events never claimed (no lease), by
        -- when they are due, and the ones claimed before whose lease has ended. An event held
        -- under a lease (its hook failing, say) is in neither, however many there are.
        KEY xorpay_events_due (merchant, done_unix, claimed_until_ms, due_unix)
    ) ENGINE = InnoDB",
    "CREATE TABLE IF NOT EXISTS xorpay_store (schema_version INT NOT NULL) ENGINE = InnoDB",
    "INSERT INTO xorpay_store (schema_version)
     SELECT 2 FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM xorpay_store)",
];

/// The version [`SCHEMA`] records in `xorpay_store`.
const SCHEMA_VERSION: i64 = 2;

/// The columns [`SCHEMA`] gives `xorpay_orders`, to tell a table a cut-off connect left from
/// one this store did not make.
const SCHEMA_COLUMNS: usize = 19;

/// The longest key (merchant, order number, `aoid`, claim token) the columns hold, in bytes.
const MAX_KEY: usize = 255;

/// The columns of a record, in [`read_record`]'s order.
const COLUMNS: &str = "order_id, state, aoid, price_fen, revision, order_json, data_json, \
                       created_unix, submitted_unix, expired_unix, fulfilled_unix, attention";

/// An [`OrderStore`] in a MySQL or MariaDB database, shared by any number of instances.
#[derive(Clone)]
pub struct MySqlStore {
    pool: Pool,
    merchant: Arc<str>,
    /// Payments waiting to be written together (see [`batch`](super::batch)).
    payments: Batcher,
}

impl std::fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's options hold the password: never printed.
        f.debug_struct("MySqlStore")
            .field("merchant", &self.merchant)
            .finish_non_exhaustive()
    }
}

/// The error of a write: a duplicate primary key is [`StoreError::Duplicate`], a duplicate
/// on the `aoid` index [`StoreError::AoidTaken`].
fn write_error(error: mysql_async::Error, order_id: &str, aoid: Option<&str>) -> StoreError {
    /// MySQL's `ER_DUP_ENTRY`.
    const DUPLICATE: u16 = 1062;
    match &error {
        mysql_async::Error::Server(server) if server.code == DUPLICATE => {
            // "Duplicate entry '…' for key 'xorpay_orders_aoid'" (MySQL 8 writes the key
            // `xorpay_orders.xorpay_orders_aoid`); the entry itself may hold any text, so
            // only the message's end is read.
            match aoid {
                Some(aoid) if server.message.ends_with("xorpay_orders_aoid'") => {
                    StoreError::AoidTaken {
                        aoid: aoid.to_owned(),
                    }
                }
                _ => StoreError::Duplicate(order_id.to_owned()),
            }
        }
        _ => database(error),
    }
}

/// Refuses a key longer than its column, before the server is asked (a server outside strict
/// mode would cut it short and store another key).
fn check_key(what: &str, key: &str) -> Result<(), StoreError> {
    match key.len() <= MAX_KEY {
        true => Ok(()),
        false => Err(StoreError::Database(format!(
            "{what} is {} bytes long; the MySQL store keeps at most {MAX_KEY}",
            key.len()
        ))),
    }
}

impl MySqlStore {
    /// Connects to the database at `url` (`mysql://user:password@host:3306/db`, with the
    /// driver's parameters: `require_ssl=true` for TLS, `pool_max=` for the pool's size,
    /// `client_found_rows=` either way), and creates the schema in a database that has none.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL is invalid, the database cannot be reached, or
    /// its xorpay tables were written by another version of xorpay (the message says what
    /// to do).
    ///
    /// The store leaves no state in a session (every transaction it opens ends before the
    /// connection goes back), so the pool hands connections back without resetting them: a
    /// reset is a round trip and empties the connection's cache of prepared statements, so
    /// each statement would be prepared again on each use. `reset_connection=true` in the
    /// URL resets them anyway.
    pub async fn connect(url: &str) -> Result<MySqlStore, StoreError> {
        let mut options = mysql_async::Opts::from_url(url)
            .map_err(|error| StoreError::Database(format!("invalid MySQL URL: {error}")))?;
        if !url.contains("reset_connection=") {
            let pool = options.pool_opts().clone().with_reset_connection(false);
            options = mysql_async::OptsBuilder::from_opts(options)
                .pool_opts(pool)
                .into();
        }
        MySqlStore::with_pool(Pool::new(options)).await
    }

    /// The store on a pool the application already has (a `mysql_async::Pool` of mysql_async
    /// 0.37, the driver this store is built on), creating the schema in a database that has
    /// none. The pool's options are kept as they are: the store's answers do not depend on
    /// them, not even on `client_found_rows`.
    ///
    /// ```no_run
    /// # async fn run(pool: mysql_async::Pool) -> Result<(), xorpay::store::StoreError> {
    /// // `pool` is the application's own, e.g. `mysql_async::Pool::new(url)`.
    /// let store = xorpay::MySqlStore::with_pool(pool.clone()).await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`MySqlStore::connect`].
    pub async fn with_pool(pool: Pool) -> Result<MySqlStore, StoreError> {
        let store = MySqlStore {
            payments: Batcher::start(pay::apply(pool.clone())),
            pool,
            merchant: Arc::from(""),
        };
        store.create_or_check_schema().await?;
        Ok(store)
    }

    /// This store, for one merchant of several sharing the database: its orders are keyed by
    /// `merchant` and order number, so two merchants' order numbers never collide. A store
    /// connected with [`MySqlStore::connect`] is the unnamed merchant's.
    pub fn merchant(&self, merchant: &str) -> MySqlStore {
        MySqlStore {
            pool: self.pool.clone(),
            merchant: Arc::from(merchant),
            payments: self.payments.clone(),
        }
    }

    /// Creates the schema in a database that has none, completes one a cut-off connect left
    /// half made, or checks that the one it finds is this release's; under a named lock, so
    /// that instances connecting at once do it once.
    async fn create_or_check_schema(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.get_conn().await.map_err(database)?;
        let lock = "CONCAT('xorpay_schema.', DATABASE())";
        let locked: Option<Option<i64>> = conn
            .query_first(format!("SELECT GET_LOCK({lock}, 60)"))
            .await
            .map_err(database)?;
        if locked.flatten() != Some(1) {
            return Err(StoreError::Database(
                "could not take the schema lock within 60 s (another instance holds it)".to_owned(),
            ));
        }
        let result = create_or_check_schema(&mut conn).await;
        let released = conn
            .query_drop(format!("DO RELEASE_LOCK({lock})"))
            .await
            .map_err(database);
        result.and(released)
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        self.pool.get_conn().await.map_err(database)
    }

    /// Runs one statement and reads the records it returns.
    async fn select(&self, sql: &str, parameters: Vec<Value>) -> Result<Vec<Record>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<Row> = conn
            .exec(sql, Params::Positional(parameters))
            .await
            .map_err(database)?;
        rows.into_iter().map(read_record).collect()
    }

    /// Runs one statement; returns how many rows it matched (every `UPDATE` here changes each
    /// row it matches: see the module docs).
    async fn execute(&self, sql: &str, parameters: Vec<Value>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        conn.exec_drop(sql, Params::Positional(parameters))
            .await
            .map_err(database)?;
        Ok(conn.affected_rows())
    }

    fn merchant_value(&self) -> Value {
        Value::from(&*self.merchant)
    }
}

/// [`MySqlStore::create_or_check_schema`]'s work, under the lock.
async fn create_or_check_schema(conn: &mut Conn) -> Result<(), StoreError> {
    let tables: Vec<String> = conn
        .query(
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = DATABASE()
               AND table_name IN ('xorpay_orders', 'xorpay_store')",
        )
        .await
        .map_err(database)?;
    let has = |name: &str| tables.iter().any(|table| table == name);
    if has("xorpay_store") {
        let version: Option<Option<i64>> = conn
            .query_first("SELECT MAX(schema_version) FROM xorpay_store")
            .await
            .map_err(database)?;
        match version.flatten() {
            Some(1) => return Err(made_by_an_unreleased_build()),
            Some(SCHEMA_VERSION) => return Ok(()),
            // Created, its version not yet recorded: a connect cut off; go on.
            None => {}
            Some(version) => {
                return Err(StoreError::Database(format!(
                    "the database's schema is version {version}, written by a newer release \
                     of xorpay than this one (which knows version {SCHEMA_VERSION}): upgrade \
                     xorpay"
                )));
            }
        }
    } else if has("xorpay_orders") {
        // Either the first step of a connect that was cut off, or someone else's table.
        let columns: Option<i64> = conn
            .query_first(
                "SELECT COUNT(*) FROM information_schema.columns
                 WHERE table_schema = DATABASE() AND table_name = 'xorpay_orders'
                   AND column_name IN ('merchant', 'order_id', 'state', 'aoid', 'price_fen',
                       'revision', 'writes', 'order_json', 'data_json', 'created_unix',
                       'submitted_unix', 'expired_unix', 'check_after_unix', 'fulfilled_unix',
                       'claim_token', 'claimed_until_ms', 'attention', 'updated_unix', 'seq')",
            )
            .await
            .map_err(database)?;
        if columns != Some(SCHEMA_COLUMNS as i64) {
            return Err(StoreError::Database(
                "the database has a table `xorpay_orders` that this store did not make: \
                 connect to another database"
                    .to_owned(),
            ));
        }
    }
    for step in SCHEMA {
        conn.query_drop(step).await.map_err(database)?;
    }
    Ok(())
}

/// Column `index` of `row`, as `T`.
fn column<T: mysql_async::prelude::FromValue>(
    row: &mut Row,
    index: usize,
) -> Result<T, StoreError> {
    match row.take_opt::<T, usize>(index) {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => Err(database(error)),
        None => Err(StoreError::Database(format!("column {index} missing"))),
    }
}

/// One row as a record; what MySQL cannot hold for us is checked here.
fn read_record(mut row: Row) -> Result<Record, StoreError> {
    let order_id: String = column(&mut row, 0)?;
    let corrupt = |reason: &str| StoreError::Corrupt {
        order_id: order_id.clone(),
        reason: reason.to_owned(),
    };
    let state: String = column(&mut row, 1)?;
    let price_fen: i64 = column(&mut row, 3)?;
    let revision: i64 = column(&mut row, 4)?;
    let created: i64 = column(&mut row, 7)?;
    Ok(Record {
        state: RecordState::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
        aoid: column(&mut row, 2)?,
        price_fen: u64::try_from(price_fen).map_err(|_| corrupt("negative price"))?,
        revision: u32::try_from(revision).map_err(|_| corrupt("revision out of range"))?,
        order: column(&mut row, 5)?,
        data: column(&mut row, 6)?,
        created_at: time_of(&order_id, Some(created))?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        submitted_at: time_of(&order_id, column(&mut row, 8)?)?,
        expired_at: time_of(&order_id, column(&mut row, 9)?)?,
        fulfilled_at: time_of(&order_id, column(&mut row, 10)?)?,
        attention: column(&mut row, 11)?,
        order_id: order_id.clone(),
    })
}

fn applied(updated: u64) -> Transition {
    match updated {
        0 => Transition::NotApplied,
        _ => Transition::Applied,
    }
}

fn big(value: u64) -> Value {
    Value::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::NULL, Value::from)
}

impl OrderStore for MySqlStore {
    async fn insert(&self, record: &Record) -> Result<(), StoreError> {
        check_key("the merchant", &self.merchant)?;
        check_key("the order number", &record.order_id)?;
        if let Some(aoid) = &record.aoid {
            check_key("the aoid", aoid)?;
        }
        let mut conn = self.conn().await?;
        conn.exec_drop(
            "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                 order_json, data_json, created_unix, submitted_unix, expired_unix, attention,
                 updated_unix)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            Params::Positional(vec![
                self.merchant_value(),
                Value::from(&record.order_id),
                Value::from(record.state.as_str()),
                text(record.aoid.as_deref()),
                big(record.price_fen),
                Value::from(record.revision),
                Value::from(&record.order),
                Value::from(&record.data),
                unix(record.created_at),
                record.submitted_at.map_or(Value::NULL, unix),
                record.expired_at.map_or(Value::NULL, unix),
                Value::from(record.attention),
                unix(record.created_at),
            ]),
        )
        .await
        .map_err(|error| write_error(error, &record.order_id, record.aoid.as_deref()))
    }

    async fn change(&self, change: &Change<'_>) -> Result<Transition, StoreError> {
        // A notification's payment, with the others waiting: one commit for all.
        if let Some(payment) = Payment::of(change, &self.merchant) {
            match self.payments.pay(payment).await {
                Answer::Applied => return Ok(Transition::Applied),
                Answer::Failed(error) => return Err(error),
                Answer::Alone => {}
            }
        }
        if let Some(aoid) = change.new_aoid {
            check_key("the aoid", aoid)?;
        }
        if change.from.is_empty() {
            return Ok(Transition::NotApplied);
        }
        for event in change.events {
            check_key("an event's subject", event.subject)?;
        }
        let mut parameters = vec![
            // `check_after_unix` first: it reads `state`, which the next assignment changes.
            Value::from(change.to.as_str()),
            Value::from(change.to.as_str()),
            text(change.new_aoid),
            Value::from(change.new_revision),
            Value::from(change.data),
            change.submitted_at.map_or(Value::NULL, unix),
            change.expired_at.map_or(Value::NULL, unix),
            Value::from(change.attention),
            unix(change.at),
            self.merchant_value(),
            Value::from(change.order_id),
            big(change.price_fen),
        ];
        parameters.extend(change.from.iter().map(|state| Value::from(state.as_str())));
        let revision = match change.revision {
            Some(revision) => {
                parameters.push(Value::from(revision));
                "AND revision = ?"
            }
            None => "",
        };
        let aoid = match change.aoid {
            AoidCondition::Any => "",
            AoidCondition::Is(aoid) => {
                parameters.push(Value::from(aoid));
                "AND aoid = ?"
            }
            AoidCondition::UnknownOr(aoid) => {
                parameters.push(Value::from(aoid));
                "AND (aoid IS NULL OR aoid = ?)"
            }
            AoidCondition::Unknown => "AND aoid IS NULL",
        };
        let sql = format!(
            "UPDATE xorpay_orders SET
                 check_after_unix = CASE WHEN state = ? THEN check_after_unix END,
                 state = ?, aoid = COALESCE(?, aoid), revision = ?, data_json = ?,
                 submitted_unix = COALESCE(?, submitted_unix),
                 expired_unix = COALESCE(?, expired_unix), attention = ?, updated_unix = ?,
                 writes = writes + 1
             WHERE merchant = ? AND order_id = ? AND price_fen = ? AND state IN ({})
               {revision} {aoid}",
            placeholders(change.from.len())
        );
        let mut conn = self.conn().await?;
        if change.events.is_empty() {
            conn.exec_drop(sql, Params::Positional(parameters))
                .await
                .map_err(|error| write_error(error, change.order_id, change.new_aoid))?;
            return Ok(applied(conn.affected_rows()));
        }
        // With its events, in one transaction: both are kept, or neither.
        let mut transaction = conn
            .start_transaction(TxOpts::default())
            .await
            .map_err(database)?;
        transaction
            .exec_drop(sql, Params::Positional(parameters))
            .await
            .map_err(|error| write_error(error, change.order_id, change.new_aoid))?;
        let updated = transaction.affected_rows();
        if updated > 0 {
            let merchant = self.merchant_value();
            events::record(&mut transaction, merchant, change.order_id, change.events).await?;
        }
        transaction.commit().await.map_err(database)?;
        Ok(applied(updated))
    }

    async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders
             WHERE merchant = ? AND order_id = ? AND state <> '{PRUNED}'"
        );
        let records = self
            .select(&sql, vec![self.merchant_value(), Value::from(order_id)])
            .await?;
        Ok(records.into_iter().next())
    }

    async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        // One indexed read per kind of order due, so that a pass costs what is due, not the
        // size of the book (an OR across states would scan every order).
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ? AND state = 'created' AND created_unix < ?
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ? AND state = 'pending' AND submitted_unix < ?
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ? AND state = 'expired' AND expired_unix >= ?
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = ? AND attention = TRUE AND state = 'expired'
                   AND (expired_unix IS NULL OR expired_unix < ?)) AS due
             WHERE check_after_unix IS NULL OR check_after_unix <= ?
             ORDER BY updated_unix, order_id LIMIT ?"
        );
        let merchant = self.merchant_value();
        self.select(
            &sql,
            vec![
                merchant.clone(),
                unix(stale_before),
                merchant.clone(),
                unix(stale_before),
                merchant.clone(),
                unix(expired_since),
                merchant,
                unix(expired_since),
                unix(now),
                Value::from(limit),
            ],
        )
        .await
    }

    async fn check_again_at(&self, order_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.execute(
            "UPDATE xorpay_orders SET check_after_unix = ?, writes = writes + 1
             WHERE merchant = ? AND order_id = ?",
            vec![unix(at), self.merchant_value(), Value::from(order_id)],
        )
        .await
        .map(drop)
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = ? AND state <> '{PRUNED}'
             ORDER BY created_unix DESC, seq DESC LIMIT ?"
        );
        self.select(&sql, vec![self.merchant_value(), Value::from(limit)])
            .await
    }

    async fn needing_attention(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = ? AND attention = TRUE
             ORDER BY order_id LIMIT ?"
        );
        self.select(&sql, vec![self.merchant_value(), Value::from(limit)])
            .await
    }

    async fn tally(&self) -> Result<Tally, StoreError> {
        let mut conn = self.conn().await?;
        let row: Option<(i64, Option<i64>, i64, i64)> = conn
            .exec_first(
                "SELECT
                     (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = ? AND state = 'pending'),
                     (SELECT MIN(submitted_unix) FROM xorpay_orders
                      WHERE merchant = ? AND state = 'pending'),
                     (SELECT COUNT(*) FROM xorpay_orders
                      WHERE merchant = ? AND attention = TRUE),
                     (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = ? AND attention = TRUE
                        AND state = 'paid' AND aoid IS NOT NULL)",
                Params::Positional(vec![self.merchant_value(); 4]),
            )
            .await
            .map_err(database)?;
        let (pending, oldest, attention, with_aoid) = row.unwrap_or((0, None, 0, 0));
        Ok(Tally::new(
            count(pending),
            time_of("(oldest pending)", oldest)?,
            count(attention),
            count(with_aoid),
        ))
    }

    async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        if claim.limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.conn().await?;
        let mut transaction = read_committed(&mut conn).await?;
        // The rows are locked as they are picked; rows another claimer holds locked right now
        // are skipped, not waited for. Any order: the oldest changes among the first of two
        // ranges of `xorpay_orders_fulfilment`, the orders never claimed and those whose
        // lease ended. One order: by its key.
        let unfulfilled = "merchant = ? AND state = 'paid' AND fulfilled_unix IS NULL";
        let lease_ended =
            format!("claimed_until_ms IS NOT NULL AND claimed_until_ms <= {DB_NOW_MS}");
        let (merchant, limit) = (self.merchant_value(), Value::from(claim.limit));
        let reads: Vec<(String, &str, Vec<Value>)> = match claim.order_id {
            Some(order_id) => vec![(
                format!(
                    "{unfulfilled} AND order_id = ? AND (claimed_until_ms IS NULL OR {lease_ended})"
                ),
                "order_id",
                vec![merchant, Value::from(order_id), limit],
            )],
            None => vec![
                (
                    format!("{unfulfilled} AND claimed_until_ms IS NULL"),
                    "updated_unix, order_id",
                    vec![merchant.clone(), limit.clone()],
                ),
                (
                    format!("{unfulfilled} AND {lease_ended}"),
                    "claimed_until_ms",
                    vec![merchant, limit],
                ),
            ],
        };
        let mut candidates: Vec<(i64, Vec<u8>)> = Vec::new();
        for (condition, order, parameters) in reads {
            let rows: Vec<(Vec<u8>, i64)> = transaction
                .exec(
                    format!(
                        "SELECT order_id, updated_unix FROM xorpay_orders
                         WHERE {condition}
                         ORDER BY {order} LIMIT ?
                         FOR UPDATE SKIP LOCKED"
                    ),
                    Params::Positional(parameters),
                )
                .await
                .map_err(database)?;
            candidates.extend(
                rows.into_iter()
                    .map(|(order_id, updated)| (updated, order_id)),
            );
        }
        candidates.sort();
        candidates.truncate(claim.limit);
        let picked: Vec<Vec<u8>> = candidates
            .into_iter()
            .map(|(_, order_id)| order_id)
            .collect();
        if picked.is_empty() {
            transaction.commit().await.map_err(database)?;
            return Ok(Vec::new());
        }
        let mut parameters = vec![
            Value::from(claim.token),
            millis(claim.lease),
            self.merchant_value(),
        ];
        let count = picked.len();
        parameters.extend(picked.iter().cloned().map(Value::Bytes));
        transaction
            .exec_drop(
                format!(
                    "UPDATE xorpay_orders SET claim_token = ?,
                         claimed_until_ms = {DB_NOW_MS} + ?, writes = writes + 1
                     WHERE merchant = ? AND order_id IN ({})",
                    placeholders(count)
                ),
                Params::Positional(parameters),
            )
            .await
            .map_err(database)?;
        // Read back by their keys (the token has no index: by it, every order would be read).
        let mut parameters = vec![self.merchant_value(), Value::from(claim.token)];
        parameters.extend(picked.into_iter().map(Value::Bytes));
        let rows: Vec<Row> = transaction
            .exec(
                format!(
                    "SELECT {COLUMNS} FROM xorpay_orders
                     WHERE merchant = ? AND claim_token = ? AND order_id IN ({})
                     ORDER BY updated_unix, order_id",
                    placeholders(count)
                ),
                Params::Positional(parameters),
            )
            .await
            .map_err(database)?;
        transaction.commit().await.map_err(database)?;
        rows.into_iter().map(read_record).collect()
    }

    async fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        let changed = self
            .execute(
                "UPDATE xorpay_orders SET fulfilled_unix = ?, claim_token = NULL,
                     claimed_until_ms = NULL, writes = writes + 1
                 WHERE merchant = ? AND order_id = ? AND claim_token = ?
                   AND fulfilled_unix IS NULL",
                vec![
                    unix(at),
                    self.merchant_value(),
                    Value::from(order_id),
                    Value::from(token),
                ],
            )
            .await?;
        Ok(match changed {
            1 => Transition::Applied,
            _ => Transition::NotApplied,
        })
    }

    async fn claim_event(&self, claim: &EventClaim<'_>) -> Result<Option<EventRecord>, StoreError> {
        events::claim(&self.pool, &self.merchant, claim).await
    }

    async fn finish_event(
        &self,
        event: &EventRecord,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        events::finish(&self.pool, &self.merchant, event, token, unix(at)).await
    }

    async fn release_event(
        &self,
        event: &EventRecord,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        events::release(&self.pool, &self.merchant, event, token, retry_after).await
    }

    async fn prune(&self, before: OffsetDateTime, limit: usize) -> Result<u64, StoreError> {
        prune::prune(
            &self.pool,
            self.merchant_value(),
            before.unix_timestamp(),
            limit,
        )
        .await
    }

    async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        self.execute(
            &format!(
                "UPDATE xorpay_orders SET claim_token = NULL,
                     claimed_until_ms = {DB_NOW_MS} + ?, writes = writes + 1
                 WHERE merchant = ? AND order_id = ? AND claim_token = ?"
            ),
            vec![
                millis(retry_after),
                self.merchant_value(),
                Value::from(order_id),
                Value::from(token),
            ],
        )
        .await
        .map(drop)
    }
}
