//! [`AnyStore::open`]: the store a URL names, so that a shop's configuration picks its
//! database (`sqlite://…`, `postgres://…` or `mysql://…`) without code for each.

use super::{AnyStore, StoreError};

impl AnyStore {
    /// Opens the store `url` names, creating its schema where there is none:
    ///
    /// - `sqlite://orders.sqlite` (a path relative to the working directory),
    ///   `sqlite:///var/lib/shop/orders.sqlite` (an absolute one) or `sqlite::memory:`:
    ///   a `SqliteStore` (feature `sqlite`);
    /// - `postgres://…` or `postgresql://…`: a `PgStore` (feature `postgres`), as
    ///   `PgStore::connect` reads the URL;
    /// - `mysql://…`: a `MySqlStore` (feature `mysql`), as `MySqlStore::connect` reads it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), xorpay::store::StoreError> {
    /// let url = std::env::var("SHOP_DATABASE_URL").unwrap_or("sqlite://orders.sqlite".into());
    /// let store = xorpay::store::AnyStore::open(&url).await?;
    /// # let _ = store;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL names no store, names one whose feature is off
    /// (the message says which), or the store cannot be opened.
    pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "sqlite" => open_sqlite(&url["sqlite:".len()..]).await,
            "postgres" | "postgresql" => open_postgres(url).await,
            "mysql" => open_mysql(url).await,
            // The scheme alone is repeated: the rest may hold a password.
            _ => Err(StoreError::Database(format!(
                "the store URL must start with sqlite://, postgres:// or mysql://, not {:?}",
                format!("{scheme}:")
            ))),
        }
    }
}

/// The error of a URL whose store's feature is off.
#[cfg(not(all(feature = "sqlite", feature = "postgres", feature = "mysql")))]
fn feature_off(scheme: &str, feature: &str) -> StoreError {
    StoreError::Database(format!(
        "{scheme}:// stores need xorpay's feature `{feature}`, which is off in this build"
    ))
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(rest: &str) -> Result<AnyStore, StoreError> {
    if rest == ":memory:" {
        return super::SqliteStore::in_memory().map(AnyStore::from);
    }
    let path = rest.strip_prefix("//").unwrap_or(rest).to_owned();
    if path.is_empty() {
        return Err(StoreError::Database(
            "the sqlite:// URL names no file (sqlite://orders.sqlite, or sqlite::memory:)"
                .to_owned(),
        ));
    }
    tokio::task::spawn_blocking(move || super::SqliteStore::open(path))
        .await
        .map_err(|error| StoreError::Database(error.to_string()))?
        .map(AnyStore::from)
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(_: &str) -> Result<AnyStore, StoreError> {
    Err(feature_off("sqlite", "sqlite"))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<AnyStore, StoreError> {
    super::PgStore::connect(url).await.map(AnyStore::from)
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_: &str) -> Result<AnyStore, StoreError> {
    Err(feature_off("postgres", "postgres"))
}

#[cfg(feature = "mysql")]
async fn open_mysql(url: &str) -> Result<AnyStore, StoreError> {
    super::MySqlStore::connect(url).await.map(AnyStore::from)
}

#[cfg(not(feature = "mysql"))]
async fn open_mysql(_: &str) -> Result<AnyStore, StoreError> {
    Err(feature_off("mysql", "mysql"))
}
