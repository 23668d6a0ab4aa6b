//! The merchant table in MySQL and MariaDB: `xorpay_merchants` (see
//! [`merchant_table`](crate::store::merchant_table)), one statement per call. Its text
//! columns are binary, so that a secret changed only in case is a change.

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Row, Value};

use super::{MySqlStore, column, database};
use crate::store::merchant_table::{MerchantRecord, MerchantTable, check_name};
use crate::store::{AnyStore, StoreError};

/// Adds a merchant, or updates it: a changed secret moves the old one to `previous_secret`,
/// retired now on the database's clock. MySQL assigns left to right, each assignment seeing
/// the ones before: `previous_secret` and `retired_unix` read the old `secret`, so they come
/// first. (`VALUES()` is what MariaDB understands; MySQL 8 warns that it is deprecated.)
const SAVE: &str = "INSERT INTO xorpay_merchants (name, aid, secret, enabled, updated_unix)
     VALUES (?, ?, ?, ?, TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP()))
     ON DUPLICATE KEY UPDATE
         previous_secret = IF(secret = VALUES(secret), previous_secret, secret),
         retired_unix = IF(secret = VALUES(secret), retired_unix, VALUES(updated_unix)),
         secret = VALUES(secret),
         aid = VALUES(aid),
         enabled = VALUES(enabled),
         updated_unix = VALUES(updated_unix)";

impl MySqlStore {
    /// Adds `merchant` to the merchant table, or updates the row of that name. When its secret
    /// changes, the row keeps the one it replaces as the previous secret, retired now (the
    /// `previous_secret` given here is not used). Committed when it returns.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database fails.
    pub async fn save_merchant(&self, merchant: &MerchantRecord) -> Result<(), StoreError> {
        check_name(&merchant.name)?;
        let secret = zeroize::Zeroizing::new(merchant.secret.expose().to_vec());
        let mut conn = self.conn().await?;
        conn.exec_drop(
            SAVE,
            Params::Positional(vec![
                Value::from(&merchant.name),
                Value::from(&merchant.aid),
                Value::Bytes(secret.to_vec()),
                Value::from(merchant.enabled),
            ]),
        )
        .await
        .map_err(database)
    }
}

impl MerchantTable for MySqlStore {
    async fn merchants(&self) -> Result<Vec<MerchantRecord>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<Row> = conn
            .query(
                "SELECT name, aid, secret, previous_secret, retired_unix, enabled
                 FROM xorpay_merchants ORDER BY name",
            )
            .await
            .map_err(database)?;
        rows.into_iter()
            .map(|mut row| {
                let name: String = column(&mut row, 0)?;
                let previous: Option<String> = column(&mut row, 3)?;
                let retired: Option<i64> = column(&mut row, 4)?;
                MerchantRecord::from_row(
                    name.clone(),
                    column(&mut row, 1)?,
                    column(&mut row, 2)?,
                    previous.zip(retired),
                    column(&mut row, 5)?,
                )
            })
            .collect()
    }

    fn orders_of(&self, name: &str) -> AnyStore {
        self.merchant(name).into()
    }
}
