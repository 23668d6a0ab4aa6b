//! SqliteStore on its own: migrations, duplicates, conditional transitions, reconciliation
//! candidates, and rows that disagree with themselves.

mod support;

use std::time::Duration;

use support::{app::ShopOrder, sandbox, signed_notification, tempdir};
use xorpay::order::{Order, StoredOrder};
use xorpay::store::{OrderStore, SqliteStore, StoreError, Transition};
use xorpay::time::OffsetDateTime;
use xorpay::{Aid, AppSecret, Notification, Price};

fn order(id: &str) -> Order<ShopOrder> {
    Order::new(ShopOrder {
        id: id.into(),
        title: "Tea".into(),
        price: Price::from_fen(1250).unwrap(),
        openid: "o".into(),
        product: "tea".into(),
    })
    .unwrap()
}

#[tokio::test]
async fn orders_move_only_from_the_state_they_are_in() {
    let dir = tempdir::Dir::new("store");
    let file = dir.path().join("orders.sqlite");
    let store = SqliteStore::<ShopOrder>::open(&file).unwrap();
    // Reopening applies no migration twice.
    drop(SqliteStore::<ShopOrder>::open(&file).unwrap());

    store.insert(&order("a")).await.unwrap();
    assert!(matches!(
        store.insert(&order("a")).await,
        Err(StoreError::Duplicate(id)) if id == "a"
    ));

    // A real pending order, from the sandbox.
    let sandbox = sandbox(Duration::from_secs(60)).await;
    let client = xorpay::client::Client::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new(support::SECRET).unwrap())
        .notify_url("http://127.0.0.1:9/n")
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let payer = sandbox.issue_openid();
    let created = Order::new(ShopOrder {
        id: "b".into(),
        title: "Tea".into(),
        price: Price::from_fen(1250).unwrap(),
        openid: payer,
        product: "tea".into(),
    })
    .unwrap();
    store.insert(&created).await.unwrap();
    let pending = client.submit(created).await.unwrap();
    assert_eq!(
        store.mark_pending(&pending).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.mark_pending(&pending).await.unwrap(),
        Transition::NotApplied
    );

    // Reconciliation candidates: the created order and the pending one, once stale.
    let later = OffsetDateTime::now_utc() + xorpay::time::Duration::minutes(1);
    let earlier = OffsetDateTime::now_utc() - xorpay::time::Duration::minutes(1);
    let due = store.due_for_check(later, later, later, 10).await.unwrap();
    let mut names: Vec<_> = due.iter().map(|o| (o.order_id(), o.state_name())).collect();
    names.sort();
    assert_eq!(names, [("a", "created"), ("b", "pending")]);
    assert!(
        store
            .due_for_check(later, earlier, later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Checked and left open: not due again until the time set.
    store.check_again_at("b", later).await.unwrap();
    let due = store.due_for_check(later - xorpay::time::Duration::seconds(1), later, later, 10);
    assert_eq!(due.await.unwrap().len(), 1);
    // Paging by order number reaches every order.
    let first = store.list(None, 1).await.unwrap();
    assert_eq!(first[0].order_id(), "a");
    let next = store.list(Some("a"), 1).await.unwrap();
    assert_eq!(next[0].order_id(), "b");
    assert!(store.list(Some("b"), 1).await.unwrap().is_empty());

    let aoid = pending.aoid().unwrap().to_string();
    let verified = Notification::parse(signed_notification(&aoid, "b", "12.50").as_bytes())
        .unwrap()
        .verify(&AppSecret::new(support::SECRET).unwrap())
        .unwrap();
    let mut paid = pending.confirm(verified).unwrap();
    assert_eq!(store.mark_paid(&paid).await.unwrap(), Transition::Applied);
    assert_eq!(
        store.mark_paid(&paid).await.unwrap(),
        Transition::NotApplied
    );
    // A copy saves over the revision it was read at (here: unchanged, so nothing changes).
    assert_eq!(
        store.update_paid(&mut paid).await.unwrap(),
        Transition::Applied
    );

    // Two refunds begun from one load (a double click): only the first is saved.
    let load = async || match store.load("b").await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!("expected paid, got {other:?}"),
    };
    let (mut first, mut second) = (load().await, load().await);
    let _first_ticket = first
        .begin_refund(Price::from_fen(100).unwrap(), OffsetDateTime::now_utc())
        .unwrap();
    let _second_ticket = second
        .begin_refund(Price::from_fen(200).unwrap(), OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(
        store.update_paid(&mut first).await.unwrap(),
        Transition::Applied
    );
    assert_eq!(
        store.update_paid(&mut second).await.unwrap(),
        Transition::NotApplied
    );
    assert_eq!(load().await.refund_in_doubt(), Price::from_fen(100).ok());
    assert_eq!(store.recent(10).await.unwrap().len(), 2);

    // A row whose struct was edited to a price other than the one paid is reported, not
    // trusted. (The store is the merchant's own database: a row edited consistently in every
    // field cannot be told from a genuine one.)
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute(
            "UPDATE orders SET record = replace(record, '\"price\":\"12.50\"', '\"price\":\"0.01\"')
             WHERE order_id = 'b'",
            [],
        )
        .unwrap();
    assert!(matches!(
        store.load("b").await,
        Err(StoreError::Corrupt { .. })
    ));
}
