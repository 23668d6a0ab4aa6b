//! The shop's fulfilment: a delivery recorded once per order, however often the service asks
//! (`xorpay::service::guarantees::fulfilment` says how often), in the same
//! database as the orders: a SQLite file for one instance, PostgreSQL for several. Every call
//! is counted, for the tests.

use std::sync::{Arc, Mutex};

use xorpay::prelude::*;

use super::order::ShopOrder;

/// Where deliveries are recorded.
#[derive(Clone)]
pub(crate) enum Deliveries {
    /// A table in the shop's SQLite file.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A table in the shop's PostgreSQL database, shared by every instance.
    Postgres(Arc<tokio_postgres::Client>),
}

fn failed(error: impl std::fmt::Display) -> FulfilError {
    error.to_string().into()
}

impl Deliveries {
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
    pub(crate) async fn postgres(url: &str) -> Result<Deliveries, String> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("delivery database connection ended: {error}");
            }
        });
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
        Ok(Deliveries::Postgres(Arc::new(client)))
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
            Deliveries::Postgres(client) => client
                .query_one(
                    "SELECT COALESCE(SUM(runs), 0)::bigint FROM shop_deliveries
                     WHERE order_id = $1",
                    &[&order_id],
                )
                .await
                .map_or(0, |row| row.get(0)),
        };
        usize::try_from(runs).unwrap_or(0)
    }
}

impl Fulfil<ShopOrder> for Deliveries {
    async fn fulfil(&self, order: &Order<ShopOrder, Paid>) -> Result<(), FulfilError> {
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
            Deliveries::Postgres(client) => client
                .query_one(
                    "INSERT INTO shop_deliveries (order_id, delivered_unix, runs)
                     VALUES ($1, extract(epoch FROM now())::bigint, 1)
                     ON CONFLICT (order_id) DO UPDATE SET runs = shop_deliveries.runs + 1
                     RETURNING runs = 1",
                    &[&id],
                )
                .await
                .map_err(failed)?
                .get(0),
        };
        if first {
            println!("delivered order {id} ({})", order.inner().title);
        }
        Ok(())
    }
}
