//! The merchant table in PostgreSQL: `xorpay_merchants` (see
//! [`merchant_table`](crate::store::merchant_table)), one statement per call.

use super::{PgStore, database};
use crate::store::merchant_table::{MerchantRecord, MerchantTable, check_name};
use crate::store::{AnyStore, StoreError};

/// Adds a merchant, or updates it: a changed secret moves the old one to `previous_secret`,
/// retired now on the database's clock.
const SAVE: &str = "INSERT INTO xorpay_merchants (name, aid, secret, enabled, updated_unix)
     VALUES ($1, $2, $3, $4, extract(epoch FROM now())::bigint)
     ON CONFLICT (name) DO UPDATE SET
         previous_secret = CASE WHEN xorpay_merchants.secret = excluded.secret
             THEN xorpay_merchants.previous_secret ELSE xorpay_merchants.secret END,
         retired_unix = CASE WHEN xorpay_merchants.secret = excluded.secret
             THEN xorpay_merchants.retired_unix ELSE excluded.updated_unix END,
         secret = excluded.secret,
         aid = excluded.aid,
         enabled = excluded.enabled,
         updated_unix = excluded.updated_unix";

impl PgStore {
    /// Adds `merchant` to the merchant table, or updates the row of that name. When its secret
    /// changes, the row keeps the one it replaces as the previous secret, retired now (the
    /// `previous_secret` given here is not used). Committed when it returns.
    ///
    /// # Errors
    /// [`StoreError::Database`] when PostgreSQL fails.
    pub async fn save_merchant(&self, merchant: &MerchantRecord) -> Result<(), StoreError> {
        check_name(&merchant.name)?;
        let secret =
            zeroize::Zeroizing::new(String::from_utf8_lossy(merchant.secret.expose()).into_owned());
        let client = self.pool.get().await.map_err(database)?;
        let statement = client.prepare_cached(SAVE).await.map_err(database)?;
        client
            .execute(
                &statement,
                &[
                    &merchant.name,
                    &merchant.aid,
                    &secret.as_str(),
                    &merchant.enabled,
                ],
            )
            .await
            .map(drop)
            .map_err(database)
    }
}

impl MerchantTable for PgStore {
    async fn merchants(&self) -> Result<Vec<MerchantRecord>, StoreError> {
        let client = self.pool.get().await.map_err(database)?;
        let rows = client
            .query(
                "SELECT name, aid, secret, previous_secret, retired_unix, enabled
                 FROM xorpay_merchants ORDER BY name",
                &[],
            )
            .await
            .map_err(database)?;
        rows.iter()
            .map(|row| {
                let previous: Option<String> = row.get(3);
                let retired: Option<i64> = row.get(4);
                MerchantRecord::from_row(
                    row.get(0),
                    row.get(1),
                    row.get(2),
                    previous.zip(retired),
                    row.get(5),
                )
            })
            .collect()
    }

    fn orders_of(&self, name: &str) -> AnyStore {
        self.merchant(name).into()
    }
}
