//! The hook beyond "paid": an order expired for good, refunds made and not made (one resolved
//! by hand from an instance without a hook), orders needing a person. Each event is told
//! exactly once, though two instances on one database sweep at once, the service restarts
//! between sweeps and an instance dies holding a claim; an event is told only when due, and
//! one that no longer holds is not told. On SQLite, PostgreSQL and MariaDB.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::world::{Db, World};
use xorpay::RefundError;
use xorpay::prelude::*;
use xorpay::store::{EventClaim, EventRecord, OrderStore};
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

/// Two instances sweep at once (in two tasks, on two threads), then the first restarts and
/// they sweep again.
async fn sweep_from_two_instances_and_a_restart(world: &World<Tea>, second: &Payments<Tea>) {
    for _ in 0..2 {
        let (first, second) = (world.payments(), second.clone());
        let one = tokio::spawn(async move { first.run_hooks().await });
        let two = tokio::spawn(async move { second.run_hooks().await });
        let (one, two) = (one.await.unwrap().unwrap(), two.await.unwrap().unwrap());
        assert_eq!((one.failed, one.taken_over), (0, 0), "{one:?}");
        assert_eq!((two.failed, two.taken_over), (0, 0), "{two:?}");
        world.restart();
    }
}

/// An instance that claims every event due, up to the one of `order_id`, and dies before
/// telling any: its claims are held until its lease (`lease`) ends.
async fn claim_and_die(world: &World<Tea>, order_id: &str, lease: Duration) -> EventRecord {
    let claim = EventClaim {
        now: world.clock.now(),
        token: "an-instance-that-died",
        lease,
    };
    loop {
        let claimed = match world.database_url() {
            None => {
                SqliteStore::open(world.db())
                    .unwrap()
                    .claim_event(&claim)
                    .await
            }
            Some(url) if url.starts_with("postgres") => {
                PgStore::connect(url)
                    .await
                    .unwrap()
                    .claim_event(&claim)
                    .await
            }
            Some(url) => {
                MySqlStore::connect(url)
                    .await
                    .unwrap()
                    .claim_event(&claim)
                    .await
            }
        };
        let event = claimed.unwrap().expect("an event due for the order");
        if event.order_id == order_id {
            return event;
        }
    }
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

    // Once the refund in doubt may be resolved, a person is told. An instance claims that
    // event and dies: nobody tells it until its lease ends, then it is told once.
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let dead = claim_and_die(&world, "doubt", Duration::from_millis(1500)).await;
    assert_eq!(
        (dead.order_id.as_str(), dead.kind.as_str()),
        ("doubt", "refund_in_doubt")
    );
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    let in_doubt = "attention doubt RefundInDoubt { key: \"k-doubt\" }";
    assert_eq!(world.hook.told(in_doubt), 0);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(world.hook.told(in_doubt), 1);
    // Resolved by hand from the operator's command line, an instance without a hook: the
    // instances with one tell it.
    let operator = world.without_hook().await;
    let Some(StoredOrder::Paid(doubt)) = operator.order("doubt").await.unwrap() else {
        panic!("expected doubt paid");
    };
    operator
        .resolve_refund(&doubt, "k-doubt", false)
        .await
        .unwrap();
    sweep_from_two_instances_and_a_restart(&world, &second).await;
    assert_eq!(world.hook.told("refund_not_made doubt k-doubt"), 1);

    // Within the grace window (24 hours from the end of the order's two-hour lifetime) and
    // its hour's margin, the expiry is not final yet; after them, it is.
    world.clock.advance(xorpay::time::Duration::hours(26));
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

/// A refund never sent (XorPay unreachable) is withdrawn, and its key asked again: that
/// attempt, in doubt, is told to a person, though the first one's event was recorded (and
/// found void) before.
async fn a_key_asked_again_after_a_refund_never_sent_is_told_again(db: Db) {
    let Some(world) = World::<Tea>::on(db).await else {
        return;
    };
    paid_tea(&world, "again").await;
    world.restart_unreachable();
    let unsent = world.refund("again", price("1.00"), "k").await;
    assert!(
        matches!(unsent, Err(RefundError::NotSent { .. })),
        "{unsent:?}"
    );
    world.restart();
    world.clock.advance(xorpay::time::Duration::minutes(6));
    world.run_hooks().await;
    assert_eq!(world.hook.others(), []);
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let lost = world.refund("again", price("1.00"), "k").await;
    assert!(matches!(lost, Err(RefundError::InDoubt { .. })), "{lost:?}");
    world.run_hooks().await;
    assert_eq!(world.hook.others(), []);
    world.clock.advance(xorpay::time::Duration::minutes(6));
    world.run_hooks().await;
    assert_eq!(
        world.hook.others(),
        [("attention again RefundInDoubt { key: \"k\" }".to_owned(), 1)]
    );
}

support::world::on_every_store!(
    every_event_is_told_once_across_instances_and_restarts,
    an_event_that_no_longer_holds_is_not_told,
    a_key_asked_again_after_a_refund_never_sent_is_told_again,
);
