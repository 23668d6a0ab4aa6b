//! The shop's hook: a delivery recorded once per paid order, however often the service asks
//! (`xorpay::service::guarantees::fulfilment` says how often), in the same database as the
//! orders (a SQLite file for one instance, PostgreSQL or MySQL for several); every other
//! event (an expiry, a refund settled, an order needing a person) logged. Every delivery call
//! is counted, for the tests.

use std::sync::{Arc, Mutex};

use mysql_async::prelude::Queryable;
use xorpay::prelude::*;

use super::order::ShopOrder;

/// Where deliveries are recorded.
#[derive(Clone)]
pub(crate) enum Deliveries {
    /// A table in the shop's SQLite file.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A table in the shop's PostgreSQL database, shared by every instance.
    Postgres(Arc<Postgres>),
    /// A table in the shop's MySQL database, shared by every instance.
    MySql(mysql_async::Pool),
}

fn failed(error: impl std::fmt::Display) -> HookError {
    error.to_string().into()
}

impl Deliveries {
    /// The delivery table in the database `url` names, as `AnyStore::open` reads it.
    pub(crate) async fn open(url: &str) -> Result<Deliveries, String> {
        if let Some(file) = url.strip_prefix("sqlite://") {
            Deliveries::sqlite(std::path::Path::new(file))
        } else if url.starts_with("mysql:") {
            Deliveries::mysql(url).await
        } else {
            Deliveries::postgres(url).await
        }
    }

    /// The delivery table in the SQLite file at `path`.
    pub(crate) fn sqlite(path: &std::path::Path) -> Result<Deliveries, String> {
        let connection = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS deliveries (
                     order_id TEXT PRIMARY KEY NOT NULL,
                     delivered_unix INTEGER NOT NULL
                 );",
            )
            .map_err(|e| e.to_string())?;
        // The run count came with the lifecycle service; older files lack it.
        let _ = connection.execute(
            "ALTER TABLE deliveries ADD COLUMN runs INTEGER NOT NULL DEFAULT 1",
            [],
        );
        Ok(Deliveries::Sqlite(Arc::new(Mutex::new(connection))))
    }

    /// The delivery table in the PostgreSQL database at `url`.
    async fn postgres(url: &str) -> Result<Deliveries, String> {
        let client = connect_postgres(url).await.map_err(|e| e.to_string())?;
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS shop_deliveries (
                     order_id TEXT PRIMARY KEY,
                     delivered_unix BIGINT NOT NULL,
                     runs INTEGER NOT NULL DEFAULT 1
                 )",
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(Deliveries::Postgres(Arc::new(Postgres {
            url: url.to_owned(),
            client: tokio::sync::Mutex::new(Some(client)),
        })))
    }

    /// The delivery table in the MySQL database at `url`. Its key is binary, so that order
    /// numbers differing in case are two deliveries, as they are two orders.
    async fn mysql(url: &str) -> Result<Deliveries, String> {
        let pool = mysql_async::Pool::from_url(url).map_err(|e| e.to_string())?;
        let mut conn = pool.get_conn().await.map_err(|e| e.to_string())?;
        conn.query_drop(
            "CREATE TABLE IF NOT EXISTS shop_deliveries (
                 order_id VARBINARY(255) PRIMARY KEY,
                 delivered_unix BIGINT NOT NULL,
                 runs INT NOT NULL DEFAULT 1
             ) ENGINE = InnoDB",
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok(Deliveries::MySql(pool))
    }

    /// How often the fulfilment hook ran for an order.
    pub(crate) async fn runs(&self, order_id: &str) -> usize {
        let runs: i64 = match self {
            Deliveries::Sqlite(connection) => {
                let Ok(connection) = connection.lock() else {
                    return 0;
                };
                connection
                    .query_row(
                        "SELECT COALESCE(SUM(runs), 0) FROM deliveries WHERE order_id = ?1",
                        [order_id],
                        |row| row.get(0),
                    )
                    .unwrap_or(0)
            }
            Deliveries::Postgres(postgres) => postgres
                .query_one(
                    "SELECT COALESCE(SUM(runs), 0)::bigint FROM shop_deliveries
                     WHERE order_id = $1",
                    order_id,
                )
                .await
                .map_or(0, |row| row.get(0)),
            Deliveries::MySql(pool) => {
                let Ok(mut conn) = pool.get_conn().await else {
                    return 0;
                };
                conn.exec_first(
                    "SELECT CAST(COALESCE(SUM(runs), 0) AS SIGNED) FROM shop_deliveries
                     WHERE order_id = ?",
                    (order_id,),
                )
                .await
                .ok()
                .flatten()
                .unwrap_or(0)
            }
        };
        usize::try_from(runs).unwrap_or(0)
    }
}

impl Hook<ShopOrder> for Deliveries {
    async fn on(&self, event: Event<'_, ShopOrder>) -> Result<(), HookError> {
        let order = match event {
            Event::Paid(order) => order,
            // The demo holds no stock and sends no mail: it logs what a shop would act on.
            Event::Expired(order) => {
                tracing::info!(
                    order_id = order.order_id(),
                    "expired for good: stock released"
                );
                return Ok(());
            }
            Event::RefundMade { order, refund } | Event::RefundNotMade { order, refund } => {
                tracing::info!(
                    order_id = order.order_id(),
                    key = refund.key(),
                    made = refund.state() == xorpay::order::RefundState::Made,
                    "refund settled: customer told"
                );
                return Ok(());
            }
            Event::NeedsAttention { order, why } => {
                tracing::warn!(order_id = order.order_id(), %why, "an order needs a person");
                return Ok(());
            }
            _ => return Ok(()),
        };
        let id = order.order_id().to_owned();
        let first = match self {
            Deliveries::Sqlite(connection) => {
                let (connection, id) = (Arc::clone(connection), id.clone());
                tokio::task::spawn_blocking(move || {
                    let connection = connection
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    connection
                        .query_row(
                            "INSERT INTO deliveries (order_id, delivered_unix, runs)
                             VALUES (?1, unixepoch(), 1)
                             ON CONFLICT (order_id) DO UPDATE SET runs = runs + 1
                             RETURNING runs = 1",
                            [&id],
                            |row| row.get::<_, bool>(0),
                        )
                        .map_err(failed)
                })
                .await
                .map_err(failed)??
            }
            Deliveries::Postgres(postgres) => postgres
                .query_one(
                    "INSERT INTO shop_deliveries (order_id, delivered_unix, runs)
                     VALUES ($1, extract(epoch FROM now())::bigint, 1)
                     ON CONFLICT (order_id) DO UPDATE SET runs = shop_deliveries.runs + 1
                     RETURNING runs = 1",
                    &id,
                )
                .await
                .map_err(failed)?
                .get(0),
            // No RETURNING: the row is counted and read back in one transaction, its lock
            // held from the upsert to the commit.
            Deliveries::MySql(pool) => {
                let mut transaction = pool
                    .start_transaction(mysql_async::TxOpts::default())
                    .await
                    .map_err(failed)?;
                transaction
                    .exec_drop(
                        "INSERT INTO shop_deliveries (order_id, delivered_unix, runs)
                         VALUES (?, UNIX_TIMESTAMP(), 1)
                         ON DUPLICATE KEY UPDATE runs = runs + 1",
                        (&id,),
                    )
                    .await
                    .map_err(failed)?;
                let runs: Option<i64> = transaction
                    .exec_first(
                        "SELECT runs FROM shop_deliveries WHERE order_id = ?",
                        (&id,),
                    )
                    .await
                    .map_err(failed)?;
                transaction.commit().await.map_err(failed)?;
                runs == Some(1)
            }
        };
        if first {
            println!("delivered order {id} ({})", order.inner().title());
        }
        Ok(())
    }
}

/// The ledger's PostgreSQL connection, opened again when the server has closed it (a restart,
/// or the connection killed): the next delivery after the database is back records.
pub(crate) struct Postgres {
    url: String,
    client: tokio::sync::Mutex<Option<tokio_postgres::Client>>,
}

impl Postgres {
    /// Runs one statement with one text parameter; returns its one row.
    async fn query_one(
        &self,
        sql: &str,
        parameter: &str,
    ) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
        let mut kept = self.client.lock().await;
        let client = match kept.take() {
            Some(client) if !client.is_closed() => client,
            _ => connect_postgres(&self.url).await?,
        };
        let row = client.query_one(sql, &[&parameter]).await;
        *kept = Some(client);
        row
    }
}

async fn connect_postgres(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("delivery database connection ended: {error}");
        }
    });
    Ok(client)
}
