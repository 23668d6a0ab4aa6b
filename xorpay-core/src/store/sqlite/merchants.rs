//! The merchant table in SQLite: `xorpay_merchants` (see
//! [`merchant_table`](crate::store::merchant_table)), read on a read connection and written
//! through the writer like any order.

use rusqlite::params;

use super::{SqliteStore, database};
use crate::store::merchant_table::{MerchantRecord, MerchantTable, check_name};
use crate::store::{AnyStore, StoreError};

/// The merchants' columns, in [`MerchantRecord::from_row`]'s order.
const SELECT: &str = "SELECT name, aid, secret, previous_secret, retired_unix, enabled
                      FROM xorpay_merchants ORDER BY name";

/// Adds a merchant, or updates it: a changed secret moves the old one to `previous_secret`,
/// retired now on SQLite's clock.
const SAVE: &str = "INSERT INTO xorpay_merchants (name, aid, secret, enabled, updated_unix)
     VALUES (?1, ?2, ?3, ?4, unixepoch())
     ON CONFLICT (name) DO UPDATE SET
         previous_secret = CASE WHEN xorpay_merchants.secret = excluded.secret
             THEN xorpay_merchants.previous_secret ELSE xorpay_merchants.secret END,
         retired_unix = CASE WHEN xorpay_merchants.secret = excluded.secret
             THEN xorpay_merchants.retired_unix ELSE excluded.updated_unix END,
         secret = excluded.secret,
         aid = excluded.aid,
         enabled = excluded.enabled,
         updated_unix = excluded.updated_unix";

impl SqliteStore {
    /// Adds `merchant` to the merchant table, or updates the row of that name. When its secret
    /// changes, the row keeps the one it replaces as the previous secret, retired now (the
    /// `previous_secret` given here is not used). Durable when it returns.
    ///
    /// # Errors
    /// [`StoreError::Database`] when SQLite fails.
    pub async fn save_merchant(&self, merchant: &MerchantRecord) -> Result<(), StoreError> {
        check_name(&merchant.name)?;
        let name = merchant.name.clone();
        let aid = merchant.aid.clone();
        let secret =
            zeroize::Zeroizing::new(String::from_utf8_lossy(merchant.secret.expose()).into_owned());
        let enabled = merchant.enabled;
        self.write(move |connection| {
            connection
                .prepare_cached(SAVE)
                .and_then(|mut statement| {
                    statement.execute(params![name, aid, secret.as_str(), enabled])
                })
                .map(drop)
                .map_err(database)
        })
        .await
    }
}

impl MerchantTable for SqliteStore {
    async fn merchants(&self) -> Result<Vec<MerchantRecord>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(SELECT).map_err(database)?;
            let rows = statement
                .query_map([], |row| {
                    let previous: Option<String> = row.get(3)?;
                    let retired: Option<i64> = row.get(4)?;
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        previous.zip(retired),
                        row.get::<_, bool>(5)?,
                    ))
                })
                .map_err(database)?;
            let mut merchants = Vec::new();
            for row in rows {
                let (name, aid, secret, previous, enabled) = row.map_err(database)?;
                merchants.push(MerchantRecord::from_row(
                    name, aid, secret, previous, enabled,
                )?);
            }
            Ok(merchants)
        })
        .await
    }

    fn orders_of(&self, name: &str) -> AnyStore {
        self.merchant(name).into()
    }
}
