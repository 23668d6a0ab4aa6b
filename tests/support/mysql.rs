//! A MySQL or MariaDB database for the tests that need one: `XORPAY_MYSQL_URL` names it
//! (`./scripts/test.sh` starts a throwaway MariaDB and sets it). Without it those tests say
//! why and return; with `XORPAY_REQUIRE_MYSQL=1` (as CI sets) a missing database fails them
//! instead, so they never pass silently.

use mysql_async::prelude::Queryable;
use xorpay::store::MySqlStore;

/// The database's URL, or `None` with the reason printed.
pub(crate) fn url() -> Option<String> {
    match std::env::var("XORPAY_MYSQL_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("XORPAY_REQUIRE_MYSQL").is_err(),
                "XORPAY_REQUIRE_MYSQL is set, but XORPAY_MYSQL_URL names no database"
            );
            eprintln!("skipped: no MySQL (set XORPAY_MYSQL_URL; ./scripts/test.sh starts one)");
            None
        }
    }
}

/// A connection to the test server, for a test's own statements.
pub(crate) async fn connect(url: &str) -> mysql_async::Conn {
    mysql_async::Conn::from_url(url)
        .await
        .expect("the test database answers")
}

/// A URL for a database of its own on the test server, created empty: every test gets its
/// own tables.
pub(crate) async fn fresh_database_url() -> Option<String> {
    let url = url()?;
    let database = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = connect(&url).await;
    conn.query_drop(format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
    let (server, query) = match url.split_once('?') {
        Some((server, query)) => (server, format!("?{query}")),
        None => (url.as_str(), String::new()),
    };
    let server = server.rsplit_once('/').map_or(server, |(server, _)| server);
    Some(format!("{server}/{database}{query}"))
}

/// `url` with `client_found_rows` set as given: whether the driver counts an `UPDATE`'s
/// matched rows (`true`) or its changed rows (`false`, MySQL's default).
pub(crate) fn with_found_rows(url: &str, found_rows: bool) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}client_found_rows={found_rows}")
}

/// A store on a database of its own, its driver counting affected rows as `found_rows` says.
pub(crate) async fn fresh_store(found_rows: bool) -> Option<MySqlStore> {
    let url = fresh_database_url().await?;
    Some(
        MySqlStore::connect(&with_found_rows(&url, found_rows))
            .await
            .unwrap(),
    )
}

/// Restarts the test server with the command `XORPAY_MYSQL_RESTART` names
/// (`scripts/with_mariadb.sh` sets it); `None`, with the reason printed, without one (a
/// failure under `XORPAY_REQUIRE_MYSQL`).
pub(crate) fn restart() -> Option<()> {
    super::restart_server("XORPAY_MYSQL_RESTART", "XORPAY_REQUIRE_MYSQL")
}
