//! The hook beyond "paid": an order expired for good, refunds made and not made (one resolved
//! by hand), orders needing a person. Each event is told exactly once, though two instances on
//! one database sweep at once and the service restarts between sweeps; an event is told only
//! when due, and one that no longer holds is not told. On SQLite, PostgreSQL and MariaDB.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::world::{Db, World};
use xorpay::RefundError;
use xorpay::prelude::*;
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

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn tea(id: &str) -> Tea {
    Tea {
        id: id.into(),
        title: "乌龙茶".into(),
        total: price("10.00"),
    }
}

async fn paid_tea(world: &World<Tea>, id: &str) {
    let _ = world.payments().checkout(tea(id)).await.unwrap();
    world.pay(id).await;
    world.wait_until(id, OrderState::Success).await;
    world.wait_stored(id, "paid").await;
}

/// Two instances sweep at once, then the first restarts and they sweep again.
async fn sweep_from_two_instances_and_a_restart(world: &World<Tea>, second: &Payments<Tea>) {
    let first = world.payments();
    let (one, two) = tokio::join!(first.run_hooks(), second.run_hooks());
    one.unwrap();
    two.unwrap();
    world.restart();
    let first = world.payments();
    let (one, two) = tokio::join!(first.run_hooks(), second.run_hooks());
    one.unwrap();
    two.unwrap();
}

async fn every_event_is_told_once_across_instances_and_restarts(db: Db) {
    let Some(world) = World::<Tea>::on(db).await else {
        return;
    };
    let second = world.second_instance().await;

    // A refund made, one XorPay refuses, one whose answer is lost.
    for id in ["made", "refused", "doubt"] {
        paid_tea(&world, id).await;
    }
    world.refund("made", price("1.00"), "k-made").await.unwrap();
    // XorPay refuses it (its secret is not the one the refund is signed with: sign_error).
    world
        .sandbox
        .rotate_secret("ffffffffffffffffffffffffffffffff");
    let refused = world.refund("refused", price("2.00"), "k-refused").await;
    assert!(
        matches!(refused, Err(RefundError::NotMade { .. })),
        "{refused:?}"
    );
    world.sandbox.rotate_secret(support::SECRET);
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let lost = world.refund("doubt", price("3.00"), "k-doubt").await;
    assert!(matches!(lost, Err(RefundError::InDoubt { .. })), "{lost:?}");
    // An order XorPay holds as fee_error, and one that expires.
    let _ = world.payments().checkout(tea("fee")).await.unwrap();
    let _ = world.payments().checkout(tea("gone")).await.unwrap();
    world
        .sandbox
        .pay_fee_short(&world.aoid("fee"))
        .await
        .unwrap();
    world.sandbox.expire(&world.aoid("gone")).unwrap();
    world.clock.advance(xorpay::time::Duration::minutes(3));
    world.payments().reconcile().await.unwrap();
    assert_eq!(world.stored("gone").await.unwrap().state_name(), "expired");

    sweep_from_two_instances_and_a_restart(&world, &second).await;
    // Told now: the payments, the refunds made or not, the fee_error. Not yet: the refund in
    // doubt (a person is told only once it may be resolved) and the expiry (a payment may
    // still turn it paid within the grace window).
    for id in ["made", "refused", "doubt"] {
        assert_eq!(world.hook.runs(id), 1, "{id}");
    }
    assert_eq!(
        world.hook.others(),
        [
            ("attention fee FeeError".to_owned(), 1),
            ("refund_made made k-made".to_owned(), 1),
            ("refund_not_made refused k-refused".to_owned(), 1),
        ]
    );

    // Once the refund in doubt may be resolved, a person is told; resolved by hand as not
    // made, the hook is told that too.
    world.clock.advance(xorpay::time::Duration::minutes(5));
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(
        world
            .hook
            .told("attention doubt RefundInDoubt { key: \"k-doubt\" }"),
        1
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    world
        .resolve_refund("doubt", "k-doubt", false)
        .await
        .unwrap();
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(world.hook.told("refund_not_made doubt k-doubt"), 1);

    // Just before the grace window (24 hours from the end of the order's two-hour lifetime)
    // is over, the expiry is not final yet; just after, it is.
    world.clock.advance(xorpay::time::Duration::hours(25));
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(world.hook.told("expired gone -"), 0);
    world.clock.advance(xorpay::time::Duration::hours(1));
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    // Once every claim's lease (2 s here) is over, nothing told is told again: each was
    // recorded, not merely claimed.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(
        world.hook.others(),
        [
            (
                "attention doubt RefundInDoubt { key: \"k-doubt\" }".to_owned(),
                1
            ),
            ("attention fee FeeError".to_owned(), 1),
            ("expired gone -".to_owned(), 1),
            ("refund_made made k-made".to_owned(), 1),
            ("refund_not_made doubt k-doubt".to_owned(), 1),
            ("refund_not_made refused k-refused".to_owned(), 1),
        ]
    );
    for id in ["made", "refused", "doubt"] {
        assert_eq!(world.hook.runs(id), 1, "{id}");
    }
}

/// An event that no longer holds when it falls due is not told: a refund in doubt resolved
/// before a person would be told, an expired order paid late within the grace window.
async fn an_event_that_no_longer_holds_is_not_told(db: Db) {
    let Some(world) = World::<Tea>::on(db).await else {
        return;
    };
    paid_tea(&world, "doubt").await;
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let lost = world.refund("doubt", price("3.00"), "k-doubt").await;
    assert!(matches!(lost, Err(RefundError::InDoubt { .. })), "{lost:?}");
    let _ = world.payments().checkout(tea("late")).await.unwrap();
    world.sandbox.expire(&world.aoid("late")).unwrap();
    world.clock.advance(xorpay::time::Duration::minutes(5));
    tokio::time::sleep(Duration::from_millis(600)).await;
    world
        .resolve_refund("doubt", "k-doubt", true)
        .await
        .unwrap();
    // The late order expired, then its payer pays after all.
    world.payments().reconcile().await.unwrap();
    assert_eq!(world.stored("late").await.unwrap().state_name(), "expired");
    world.sandbox.pay_late(&world.aoid("late")).await.unwrap();
    world.wait_stored("late", "paid").await;
    world.clock.advance(xorpay::time::Duration::hours(27));
    world.run_hooks().await;
    assert_eq!(world.hook.runs("late"), 1);
    assert_eq!(
        world.hook.others(),
        [("refund_made doubt k-doubt".to_owned(), 1)]
    );
}

/// Without a hook nothing is recorded for one: a hook added later is not told of the past.
#[tokio::test]
async fn a_service_without_a_hook_records_no_events() {
    let world = World::<Tea>::new().await;
    let _ = world.payments().checkout(tea("gone")).await.unwrap();
    world.sandbox.expire(&world.aoid("gone")).unwrap();
    let store = SqliteStore::open(world.db()).unwrap();
    let bare = Payments::<Tea>::builder()
        .aid(world.sandbox.aid())
        .secret(support::SECRET)
        .notify_url(world.notify_url.as_str())
        .store(store)
        .base_url(world.sandbox.base_url())
        .clock(world.clock.clone())
        .no_background()
        .build()
        .unwrap();
    world.clock.advance(xorpay::time::Duration::minutes(3));
    bare.reconcile().await.unwrap();
    assert_eq!(world.stored("gone").await.unwrap().state_name(), "expired");
    world.clock.advance(xorpay::time::Duration::hours(27));
    world.run_hooks().await;
    assert_eq!(world.hook.others(), []);
}

macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::Postgres).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::MySql).await;
                }
            )*
        }
    };
}

on_every_store!(
    every_event_is_told_once_across_instances_and_restarts,
    an_event_that_no_longer_holds_is_not_told,
);
