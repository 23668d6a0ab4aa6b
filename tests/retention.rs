//! Retention (`Payments::prune`): after a month, the orders closed long ago are pruned, their
//! payer's data erased and their numbers kept taken; none that is pending, inside XorPay's
//! retry span or reconciliation's window, with a refund in doubt, or owed a hook is touched,
//! whatever age the merchant asks for. On SQLite, PostgreSQL and MariaDB; then the background
//! work pruning by itself.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::world::{Db, World};
use xorpay::prelude::*;
use xorpay::{CheckoutError, HookError, RefundError};
use xorpay_sandbox::{FaultTimes, OrderState, Route, RouteFault};

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn tea(id: &str) -> Tea {
    Tea {
        id: id.into(),
        title: "乌龙茶".into(),
        total: "10.00".parse().unwrap(),
    }
}

/// The shop's hook, failing for one order (its fulfilment keeps failing: it is owed the hook).
#[derive(Clone)]
struct FailsFor(&'static str);

impl Hook<Tea> for FailsFor {
    async fn on(&self, event: Event<'_, Tea>) -> Result<(), HookError> {
        if event.order_id() == self.0 {
            return Err("the warehouse is down".into());
        }
        Ok(())
    }
}

async fn checkout(world: &World<Tea>, id: &str) {
    let _ = world.payments().checkout(tea(id)).await.unwrap();
}

async fn paid(world: &World<Tea>, id: &str) {
    checkout(world, id).await;
    world.pay(id).await;
    world.wait_until(id, OrderState::Success).await;
    world.wait_stored(id, "paid").await;
}

/// Expires the order at XorPay and lets reconciliation record it.
async fn expired(world: &World<Tea>, id: &str) {
    checkout(world, id).await;
    world.sandbox.expire(&world.aoid(id)).unwrap();
    world.clock.advance(xorpay::time::Duration::minutes(3));
    world.payments().reconcile().await.unwrap();
    assert_eq!(world.stored(id).await.unwrap().state_name(), "expired");
}

async fn closed_orders_are_pruned_and_no_other(db: Db) {
    let Some(world) = World::<Tea>::on(db).await else {
        return;
    };
    // The shop's instance that runs the hook.
    let shop = world.another(
        match world.database_url() {
            None => SqliteStore::open(world.db()).unwrap().into(),
            Some(url) => xorpay::store::AnyStore::open(url).await.unwrap(),
        },
        FailsFor("owed"),
    );

    // A month ago: an order paid, fulfilled and partly refunded; one that expired; one paid
    // whose refund's answer was lost; one paid whose fulfilment keeps failing; one pending.
    paid(&world, "paid-old").await;
    world
        .refund("paid-old", "1.00".parse().unwrap(), "k-1")
        .await
        .unwrap();
    expired(&world, "expired-old").await;
    paid(&world, "in-doubt").await;
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let lost = world
        .refund("in-doubt", "2.00".parse().unwrap(), "k-2")
        .await;
    assert!(matches!(lost, Err(RefundError::InDoubt { .. })), "{lost:?}");
    paid(&world, "owed").await;
    checkout(&world, "pending").await;
    let runs = shop.run_hooks().await.unwrap();
    assert!(runs.failed >= 1, "{runs:?}");
    // A month later, the expiry is told (reconciliation has long stopped asking).
    world.clock.advance(xorpay::time::Duration::days(30));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    shop.run_hooks().await.unwrap();
    // Today: an order paid and fulfilled, and one that expired: both closed, but XorPay may
    // still notify the one and reconciliation still asks about the other.
    paid(&world, "paid-today").await;
    expired(&world, "expired-today").await;
    let runs = shop.run_hooks().await.unwrap();
    assert!(runs.done >= 1, "{runs:?}");
    let payer_data_before = raw_rows(&world, "paid-old");

    // However short the age asked for, only the orders closed before the service's window.
    let pruned = world.payments().prune(Duration::ZERO).await.unwrap();
    assert_eq!(pruned.orders, 2, "{pruned}");
    assert_eq!(
        world.payments().prune(Duration::ZERO).await.unwrap().orders,
        0
    );
    for gone in ["paid-old", "expired-old"] {
        assert!(world.stored(gone).await.is_none(), "{gone} is pruned");
        let again = world.payments().checkout(tea(gone)).await;
        assert!(
            matches!(&again, Err(CheckoutError::Duplicate(id)) if id == gone),
            "{gone}: {again:?}"
        );
    }
    for kept in ["in-doubt", "owed", "pending", "paid-today", "expired-today"] {
        assert!(world.stored(kept).await.is_some(), "{kept} is kept");
    }
    // What the store held of the payer is gone from its row (on SQLite, read raw).
    if let (Some(before), Some(after)) = (payer_data_before, raw_rows(&world, "paid-old")) {
        assert!(before.0.contains("乌龙茶") && before.1.contains("paid_price"));
        assert_eq!(after, (String::new(), String::new()));
    }

    // Resolved and told, the refund in doubt's order closes; fulfilled, so does the owed one.
    // An age of a week keeps them and the orders of today for a week, then prunes them.
    world.clock.advance(xorpay::time::Duration::minutes(10));
    world.resolve_refund("in-doubt", "k-2", true).await.unwrap();
    let fixed = world.another(
        match world.database_url() {
            None => SqliteStore::open(world.db()).unwrap().into(),
            Some(url) => xorpay::store::AnyStore::open(url).await.unwrap(),
        },
        FailsFor("nothing"),
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let runs = fixed.run_hooks().await.unwrap();
    assert_eq!((runs.done, runs.failed), (2, 0), "{runs:?}");
    let week = Duration::from_secs(7 * 24 * 3600);
    world.clock.advance(xorpay::time::Duration::days(6));
    assert_eq!(world.payments().prune(week).await.unwrap().orders, 0);
    world
        .clock
        .advance(xorpay::time::Duration::days(1) + xorpay::time::Duration::minutes(1));
    // Until its expiry is told, expired-today is owed the hook.
    assert_eq!(world.payments().prune(week).await.unwrap().orders, 3);
    assert!(world.stored("expired-today").await.is_some());
    fixed.run_hooks().await.unwrap();
    // Its expiry counts from the end of its two hours' life, not from its checkout.
    assert_eq!(world.payments().prune(week).await.unwrap().orders, 0);
    world.clock.advance(xorpay::time::Duration::hours(2));
    assert_eq!(world.payments().prune(week).await.unwrap().orders, 1);
    for gone in ["in-doubt", "owed", "paid-today", "expired-today"] {
        assert!(world.stored(gone).await.is_none(), "{gone} is pruned");
    }
    assert!(world.stored("pending").await.is_some());
}

/// The order's `order_json` and `data_json` as the SQLite file holds them; `None` on a
/// database server.
fn raw_rows(world: &World<Tea>, order_id: &str) -> Option<(String, String)> {
    if world.database_url().is_some() {
        return None;
    }
    let connection = rusqlite::Connection::open(world.db()).unwrap();
    Some(
        connection
            .query_row(
                "SELECT order_json, data_json FROM xorpay_orders WHERE order_id = ?1",
                [order_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap(),
    )
}

support::world::on_every_store!(closed_orders_are_pruned_and_no_other);

/// With `prune_closed_after`, the background work prunes by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_work_prunes_by_itself() {
    let world = World::<Tea>::new().await;
    let shop = world.another(SqliteStore::open(world.db()).unwrap(), FailsFor("nothing"));
    paid(&world, "old").await;
    assert_eq!(shop.run_hooks().await.unwrap().done, 1);
    checkout(&world, "open").await;
    world.clock.advance(xorpay::time::Duration::days(8));
    let background = Payments::<Tea>::builder()
        .aid(world.sandbox.aid())
        .secret(support::SECRET)
        .notify_url(world.notify_url.as_str())
        .store(SqliteStore::open(world.db()).unwrap())
        .base_url(world.sandbox.base_url())
        .clock(world.clock.clone())
        .hook(FailsFor("nothing"))
        .sweep_every(Duration::from_millis(50))
        .prune_closed_after(Duration::from_secs(7 * 24 * 3600))
        .build()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while world.stored("old").await.is_some() {
        assert!(std::time::Instant::now() < deadline, "never pruned");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    background.shutdown().await;
    assert!(world.stored("open").await.is_some());
}
