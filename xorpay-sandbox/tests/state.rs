//! A sandbox that keeps its orders in a state file: a restart loses nothing. Orders, their
//! states and the order-number rules survive; an unpaid order can still be paid; a delivery
//! that had not ended starts its schedule again; a file that is not a state file is refused.

#[macro_use]
mod common;

use std::time::Duration;

use common::{Endpoint, Receiver, Req, SECRET, create, query2};
use xorpay_sandbox::{DeliveryState, OrderState, Sandbox};

/// A temporary directory, removed when dropped.
struct Dir(std::path::PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "xorpay-sandbox-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn keeping(file: &std::path::Path) -> Sandbox {
    builder!()
        .retry_unit(Duration::from_millis(20))
        .state_file(file)
        .build()
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restarted_sandbox_has_every_order_and_can_still_take_payments() {
    let dir = Dir::new("state");
    let file = dir.0.join("sandbox.json");
    let receiver = Receiver::ok().await;
    let first = keeping(&file).await;
    let order = |id: &str| {
        Req::new(Endpoint::Pay, "native", id)
            .set("notify_url", &receiver.url)
            .set("price", "3.20")
            .signed(SECRET)
    };
    let paid = create(&first, &order("kept-paid")).await;
    let unpaid = create(&first, &order("kept-unpaid")).await;
    first.pay(&paid).await.unwrap();
    let acknowledged = first
        .wait_for(&paid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(acknowledged.state, OrderState::Success);
    first.shutdown().await;

    let second = keeping(&file).await;
    let kept = second.order(&paid).expect("the paid order is kept");
    assert_eq!(kept.state, OrderState::Success);
    assert_eq!(kept.order_id, "kept-paid");
    assert_eq!(kept.payment, acknowledged.payment);
    assert_eq!(
        query2(&second, "kept-unpaid").await,
        "new",
        "the unpaid order is kept"
    );
    // The order-number rules still know both: the same request re-finds the unpaid order.
    assert_eq!(create(&second, &order("kept-unpaid")).await, unpaid);
    second.pay(&unpaid).await.unwrap();
    let now_paid = second
        .wait_for(&unpaid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(now_paid.state, OrderState::Success);
}

#[tokio::test]
async fn a_delivery_under_way_at_shutdown_starts_again_after_the_restart() {
    let dir = Dir::new("delivery");
    let file = dir.0.join("sandbox.json");
    // The merchant's endpoint is down while the first run delivers.
    let down = Receiver::failing(usize::MAX, 503).await;
    let first = keeping(&file).await;
    let req = Req::new(Endpoint::Pay, "native", "resume-1")
        .set("notify_url", &down.url)
        .signed(SECRET);
    let aoid = create(&first, &req).await;
    first.pay(&aoid).await.unwrap();
    let tried = first
        .wait_for(&aoid, Duration::from_secs(10), |o| !o.deliveries.is_empty())
        .await
        .unwrap();
    assert_eq!(tried.delivery, DeliveryState::InProgress);
    first.shutdown().await;
    let attempts = down.arrivals();
    let second = keeping(&file).await;
    let retried = second
        .wait_for(&aoid, Duration::from_secs(10), |o| {
            o.deliveries.len() > tried.deliveries.len()
        })
        .await
        .unwrap();
    assert!(retried.deliveries.len() > tried.deliveries.len());
    assert!(down.arrivals() > attempts);
}

#[tokio::test]
async fn a_file_that_is_not_a_state_file_is_refused() {
    let dir = Dir::new("corrupt");
    let file = dir.0.join("sandbox.json");
    std::fs::write(&file, b"{\"orders\": 7}").unwrap();
    let refused = builder!().state_file(&file).build().start().await;
    let Err(error) = refused else {
        panic!("a corrupt state file is refused")
    };
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        error.to_string().contains("not a sandbox state file"),
        "{error}"
    );
    // Nothing was written over it.
    assert_eq!(std::fs::read(&file).unwrap(), b"{\"orders\": 7}");
}
