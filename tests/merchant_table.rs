//! Merchants from a table: one process serving two merchants whose credentials are rows of
//! the store's merchant table, changed while it runs. The tea house rotates its secret with
//! a payment's notification still being retried (signed with the old secret) and a new one
//! signed with the new; the book shop is disabled with an order open (its late notification
//! still pays it; a new checkout is refused, nothing stored or sent); a notification for a
//! merchant the table does not have is refused with 404, logged, nothing written; and no
//! notification reads the table (the reads are counted).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use support::{Captured, TempDir};
use xorpay::CheckoutError;
use xorpay::merchants::Merchants;
use xorpay::prelude::*;
use xorpay::store::{AnyStore, MerchantRecord, MerchantTable, OrderStore, StoreError};
use xorpay_sandbox::{DeliveryState, OrderState, Sandbox};

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = from_client)]
struct Item {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn item(id: &str) -> Item {
    Item {
        id: id.to_owned(),
        title: "茶".to_owned(),
        total: "8.00".parse().unwrap(),
    }
}

const TEA_AID: &str = "1000";
const TEA_SECRET: &str = "1a2b3c4d5e6f70819a2b3c4d5e6f7081";
const TEA_NEXT: &str = "8f7e6d5c4b3a29180f1e2d3c4b5a6978";
const BOOKS_AID: &str = "2000";
const BOOKS_SECRET: &str = "ffeeddccbbaa99887766554433221100";

/// The store's merchant table, its reads counted.
#[derive(Clone)]
struct Counted {
    store: SqliteStore,
    reads: Arc<AtomicUsize>,
}

impl MerchantTable for Counted {
    async fn merchants(&self) -> Result<Vec<MerchantRecord>, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.store.merchants().await
    }

    fn orders_of(&self, name: &str) -> AnyStore {
        self.store.orders_of(name)
    }
}

fn merchant(name: &str, aid: &str, secret: &str) -> MerchantRecord {
    MerchantRecord::new(name, aid, AppSecret::new(secret).unwrap()).unwrap()
}

#[tokio::test]
async fn merchants_rotated_disabled_and_unknown_while_the_process_runs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = Sandbox::builder()
        .aid(TEA_AID)
        .secret(TEA_SECRET)
        .more_merchants(&[(BOOKS_AID, BOOKS_SECRET)])
        .retry_unit(Duration::from_millis(100))
        .build()
        .start()
        .await
        .unwrap();
    let dir = TempDir::new("merchant-table");
    let store = SqliteStore::open(dir.path().join("platform.sqlite")).unwrap();
    store
        .save_merchant(&merchant("tea-house", TEA_AID, TEA_SECRET))
        .await
        .unwrap();
    store
        .save_merchant(&merchant("book-shop", BOOKS_AID, BOOKS_SECRET))
        .await
        .unwrap();
    let table = Counted {
        store: store.clone(),
        reads: Arc::default(),
    };

    // The platform's notify route, behind a switch: closed, it answers 503 (a deploy, an
    // outage), and XorPay keeps retrying.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let base_url = sandbox.base_url().to_owned();
    let merchants = Merchants::<Item>::builder(table.clone(), format!("{host}/xorpay/notify"))
        .each_merchant(move |payments| payments.base_url(&base_url).no_background())
        .no_background_refresh()
        .build()
        .await
        .unwrap();
    assert_eq!(merchants.names(), ["book-shop", "tea-house"]);
    let open = Arc::new(AtomicBool::new(false));
    let gate = open.clone();
    let app = merchants.router().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let open = gate.load(Ordering::SeqCst);
            async move {
                if open {
                    next.run(request).await
                } else {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
                }
            }
        },
    ));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Orders at both merchants, each signed with its merchant's secret.
    for (name, id) in [("tea-house", "tea-1"), ("book-shop", "book-1")] {
        let Checkout::Pending(_) = merchants.checkout(name, item(id)).await.unwrap() else {
            panic!("{id} is not pending");
        };
    }
    let tea_1 = sandbox.merchant_order(TEA_AID, "tea-1").unwrap();
    let book_1 = sandbox.merchant_order(BOOKS_AID, "book-1").unwrap();
    assert_eq!(tea_1.notify_url, format!("{host}/xorpay/notify/tea-house"));
    assert_eq!(book_1.notify_url, format!("{host}/xorpay/notify/book-shop"));

    // tea-1 is paid while the route is closed: its notification, signed with the old secret,
    // is retried.
    sandbox.pay(&tea_1.aoid).await.unwrap();
    sandbox
        .wait_for(&tea_1.aoid, Duration::from_secs(10), |order| {
            order.deliveries.iter().any(|d| d.status == Some(503))
        })
        .await
        .unwrap();

    // The tea house resets its secret in XorPay's dashboard, and the platform updates its row;
    // the book shop is disabled with book-1 open.
    sandbox.rotate_secret(TEA_NEXT);
    store
        .save_merchant(&merchant("tea-house", TEA_AID, TEA_NEXT))
        .await
        .unwrap();
    store
        .save_merchant(&merchant("book-shop", BOOKS_AID, BOOKS_SECRET).enabled(false))
        .await
        .unwrap();
    let rows = store.merchants().await.unwrap();
    let tea_row = rows.iter().find(|row| row.name == "tea-house").unwrap();
    assert!(tea_row.previous_secret.is_some(), "the old secret is kept");
    merchants.refresh().await.unwrap();

    // A disabled merchant takes no new order: nothing stored, nothing sent.
    let refused = merchants.checkout("book-shop", item("book-2")).await;
    assert!(
        matches!(refused, Err(CheckoutError::NotTakingOrders)),
        "{refused:?}"
    );
    let book_shop = merchants.get("book-shop").unwrap();
    assert!(book_shop.order("book-2").await.unwrap().is_none());
    assert!(sandbox.merchant_order(BOOKS_AID, "book-2").is_none());
    // Nor does a merchant the table does not have.
    let unknown = merchants.checkout("ghost", item("ghost-1")).await;
    assert!(
        matches!(&unknown, Err(CheckoutError::UnknownMerchant(name)) if name == "ghost"),
        "{unknown:?}"
    );

    // tea-2, after the rotation, is signed with the new secret, and paid too; so is book-1,
    // at the disabled book shop.
    let Checkout::Pending(_) = merchants
        .checkout("tea-house", item("tea-2"))
        .await
        .unwrap()
    else {
        panic!("tea-2 is not pending");
    };
    let tea_2 = sandbox.merchant_order(TEA_AID, "tea-2").unwrap();
    sandbox.pay(&tea_2.aoid).await.unwrap();
    sandbox.pay(&book_1.aoid).await.unwrap();

    // The route opens: every notification is heard, without reading the table once.
    let reads = table.reads.load(Ordering::SeqCst);
    open.store(true, Ordering::SeqCst);
    for (merchant, aid, order) in [
        ("tea-house", TEA_AID, &tea_1),
        ("tea-house", TEA_AID, &tea_2),
        ("book-shop", BOOKS_AID, &book_1),
    ] {
        let done = sandbox
            .wait_for(&order.aoid, Duration::from_secs(20), |order| {
                order.delivery == DeliveryState::Acknowledged
            })
            .await
            .unwrap();
        assert_eq!(done.state, OrderState::Success, "{}", order.order_id);
        let payments = merchants.get(merchant).unwrap();
        let Some(StoredOrder::Paid(paid)) = payments.order(&order.order_id).await.unwrap() else {
            panic!("{} is not paid at {merchant}", order.order_id);
        };
        assert_eq!(paid.aoid().unwrap().as_str(), order.aoid);
        assert_eq!(
            sandbox.merchant_order(aid, &order.order_id).unwrap().aoid,
            order.aoid
        );
    }
    let notifications: usize = [&tea_1, &tea_2, &book_1]
        .iter()
        .map(|order| sandbox.order(&order.aoid).unwrap().deliveries.len())
        .sum();
    assert!(notifications >= 4, "{notifications} notifications");
    assert_eq!(table.reads.load(Ordering::SeqCst), reads);

    // A genuine notification posted to a merchant the table does not have: 404, logged,
    // nothing written.
    let genuine = sandbox.deliveries(&book_1.aoid)[0].fields.clone();
    let mut body = xorpay::form::FormBody::new();
    for (key, value) in &genuine {
        body.pair(key, value);
    }
    let answer = reqwest::Client::new()
        .post(format!("{host}/xorpay/notify/ghost"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.as_str().to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let answered = merchants.answer("ghost", body.as_str().as_bytes()).await;
    assert_eq!((answered.status(), answered.body()), (404, "refused"));
    let log = captured.text();
    assert!(
        log.contains("merchant not in the merchant table") && log.contains("ghost"),
        "{log}"
    );
    assert!(store.merchant("ghost").recent(10).await.unwrap().is_empty());
    assert_eq!(table.reads.load(Ordering::SeqCst), reads);
}
