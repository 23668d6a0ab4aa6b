//! A PostgreSQL database for the tests that need one: `XORPAY_POSTGRES_URL` names it
//! (`./scripts/test.sh` starts a throwaway cluster and sets it). Without it those tests say
//! why and return; with `XORPAY_REQUIRE_POSTGRES=1` (as CI sets) a missing database fails them
//! instead, so they never pass silently.

use xorpay::store::PgStore;

/// The database's URL, or `None` with the reason printed.
pub(crate) fn url() -> Option<String> {
    match std::env::var("XORPAY_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("XORPAY_REQUIRE_POSTGRES").is_err(),
                "XORPAY_REQUIRE_POSTGRES is set, but XORPAY_POSTGRES_URL names no database"
            );
            eprintln!(
                "skipped: no PostgreSQL (set XORPAY_POSTGRES_URL; ./scripts/test.sh starts one)"
            );
            None
        }
    }
}

/// A URL for a schema of its own in the test database, created empty: every test gets its
/// own tables.
pub(crate) async fn fresh_schema_url() -> Option<String> {
    let url = url()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("the test database answers");
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    drop(client);
    let _ = connection.await;
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// A store on a schema of its own.
pub(crate) async fn fresh_store() -> Option<PgStore> {
    let url = fresh_schema_url().await?;
    Some(PgStore::connect(&url).await.unwrap())
}

/// Restarts the test server with the command `XORPAY_POSTGRES_RESTART` names
/// (`./scripts/test.sh` sets it); `None`, with the reason printed, without one (a failure
/// under `XORPAY_REQUIRE_POSTGRES`).
pub(crate) fn restart() -> Option<()> {
    super::restart_server("XORPAY_POSTGRES_RESTART", "XORPAY_REQUIRE_POSTGRES")
}
