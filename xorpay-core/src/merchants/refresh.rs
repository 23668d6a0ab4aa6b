//! Reading the merchant table into the registry: what changed since the last read is built,
//! closed or dropped, and the rest kept as it is (its service, its background work, its
//! requests in flight). Also the background loop that refreshes on a timer.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, Weak};

use super::registry::{Inner, Served};
use crate::service::{Payments, ServiceOrder};
use crate::store::{MerchantRecord, StoreError};

/// Reads the table and serves what it says. One refresh runs at a time; a merchant whose
/// service cannot be built is logged and keeps its previous service, if it had one.
pub(super) async fn refresh<O: ServiceOrder>(inner: &Inner<O>) -> Result<(), StoreError> {
    let _turn = inner.refreshing.lock().await;
    let records = inner.table.merchants().await?;
    let mut current: HashMap<String, (Payments<O>, MerchantRecord)> = inner
        .served
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(name, served)| {
            (
                name.clone(),
                (served.payments.clone(), served.record.clone()),
            )
        })
        .collect();
    let mut next = HashMap::new();
    for record in records {
        let payments = match current.remove(&record.name) {
            Some((payments, served)) if same_service(&served, &record) => payments,
            previous => match build(inner, &record) {
                Ok(payments) => {
                    tracing::info!(merchant = %record.name, "merchant served from the merchant table");
                    payments
                }
                Err(error) => {
                    tracing::error!(
                        merchant = %record.name,
                        %error,
                        "merchant's row in the merchant table not used; its previous settings are kept"
                    );
                    if let Some((payments, served)) = previous {
                        next.insert(
                            record.name,
                            Served {
                                payments,
                                record: served,
                            },
                        );
                    }
                    continue;
                }
            },
        };
        payments.take_orders(record.enabled);
        next.insert(record.name.clone(), Served { payments, record });
    }
    for name in current.keys() {
        tracing::info!(merchant = %name, "merchant no longer in the merchant table: not served");
    }
    *inner.served.write().unwrap_or_else(PoisonError::into_inner) = next;
    Ok(())
}

/// Whether a merchant's service built from `served` serves `record` as well: the same aid
/// and secrets (whether it is enabled is a switch on the service, not a rebuild).
fn same_service(served: &MerchantRecord, record: &MerchantRecord) -> bool {
    let previous = |record: &MerchantRecord| {
        record
            .previous_secret
            .as_ref()
            .map(|(secret, at)| (secret.expose().to_vec(), *at))
    };
    served.aid == record.aid
        && served.secret.expose() == record.secret.expose()
        && previous(served) == previous(record)
}

/// A merchant's service, from its row and the platform's settings.
fn build<O: ServiceOrder>(
    inner: &Inner<O>,
    record: &MerchantRecord,
) -> Result<Payments<O>, crate::ConfigError> {
    let builder = Payments::<O>::builder()
        .aid(record.aid.clone())
        .secrets(record.secret.clone(), record.previous_secret.clone())
        .notify_url(format!("{}/{}", inner.notify_base, record.name))
        .store(inner.table.orders_of(&record.name));
    (inner.configure)(builder).build()
}

/// Refreshes every `every` until the last handle of the registry is dropped.
pub(super) fn start_background<O: ServiceOrder>(inner: &Arc<Inner<O>>, every: Duration) {
    let weak: Weak<Inner<O>> = Arc::downgrade(inner);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            if let Err(error) = refresh(&inner).await {
                tracing::error!(%error, "the merchant table could not be read; serving what was read before");
            }
        }
    });
}
