//! A platform hosting several shops: one `Payments` per merchant over one shared store, each
//! merchant's notify URL naming it (XorPay's notification does not say which `aid` it is for,
//! so the route picks the secret), against one sandbox hosting both merchants. Both use the
//! same order number; each pays, is notified, refunds and is fulfilled on its own, and a
//! notification sent to the other merchant's route is refused. Run on SQLite and on
//! PostgreSQL.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use xorpay::Notification;
use xorpay::prelude::*;
use xorpay::store::OrderStore;
use xorpay_sandbox::{OrderState, Sandbox};

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Item {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

struct Shop {
    aid: &'static str,
    secret: &'static str,
    /// The store's merchant name.
    name: &'static str,
    price: &'static str,
}

const TEA: Shop = Shop {
    aid: "1000",
    secret: "1a2b3c4d5e6f70819a2b3c4d5e6f7081",
    name: "tea-house",
    price: "12.00",
};
const BOOKS: Shop = Shop {
    aid: "2000",
    secret: "ffeeddccbbaa99887766554433221100",
    name: "book-shop",
    price: "30.00",
};

async fn two_merchants_on_one_store<S>(store: S)
where
    S: OrderStore + Clone + Send + Sync + 'static,
    S: MerchantScoped,
{
    let sandbox = Sandbox::builder()
        .aid(TEA.aid)
        .secret(TEA.secret)
        .more_merchants(&[(BOOKS.aid, BOOKS.secret)])
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = format!("http://{}", listener.local_addr().unwrap());
    let fulfilled = support::world::Counting::default();
    let payments = |shop: &Shop| {
        Payments::<Item>::builder()
            .aid(shop.aid)
            .secret(shop.secret)
            .notify_url(format!("{host}/notify/{}", shop.name))
            .store(store.scoped(shop.name))
            .base_url(sandbox.base_url())
            .hook(fulfilled.clone())
            .no_background()
            .build()
            .unwrap()
    };
    let (tea, books) = (payments(&TEA), payments(&BOOKS));
    // Each router serves its own merchant's notify URL.
    let app = tea.router().merge(books.router());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The same order number at both shops.
    for (shop, payments) in [(&TEA, &tea), (&BOOKS, &books)] {
        let item = Item {
            id: "order-1".into(),
            title: shop.name.into(),
            total: shop.price.parse().unwrap(),
        };
        let _shown_to_the_payer = payments.checkout(item).await.unwrap();
    }
    let tea_order = sandbox.merchant_order(TEA.aid, "order-1").unwrap();
    let books_order = sandbox.merchant_order(BOOKS.aid, "order-1").unwrap();
    assert_ne!(tea_order.aoid, books_order.aoid);
    assert_eq!(
        (tea_order.price.as_str(), books_order.price.as_str()),
        (TEA.price, BOOKS.price)
    );

    for order in [&tea_order, &books_order] {
        sandbox.pay(&order.aoid).await.unwrap();
        let done = sandbox
            .wait_for(&order.aoid, Duration::from_secs(15), |order| {
                order.state == OrderState::Success
            })
            .await
            .unwrap();
        assert_eq!(done.state, OrderState::Success, "{done:?}");
    }
    for (shop, payments, order) in [(&TEA, &tea, &tea_order), (&BOOKS, &books, &books_order)] {
        let Some(StoredOrder::Paid(paid)) = payments.order("order-1").await.unwrap() else {
            panic!("{} order-1 not paid", shop.name);
        };
        assert_eq!(paid.paid_price().fen(), order.price_fen, "{}", shop.name);
        assert_eq!(paid.aoid().unwrap().as_str(), order.aoid, "{}", shop.name);
        assert_eq!(paid.inner().title, shop.name);
    }

    // A genuine notification of the tea house, posted to the book shop's route: verified with
    // the book shop's secret, refused, nothing changed.
    let genuine = sandbox.deliveries(&tea_order.aoid)[0].fields.clone();
    let mut body = xorpay::form::FormBody::new();
    for (key, value) in &genuine {
        body.pair(key, value);
    }
    let tea_secret = AppSecret::new(TEA.secret).unwrap();
    assert!(
        Notification::parse(body.as_str().as_bytes())
            .unwrap()
            .verify(&tea_secret)
            .is_ok()
    );
    let answer = reqwest::Client::new()
        .post(format!("{host}/notify/book-shop"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into_string())
        .send()
        .await
        .unwrap();
    assert!(!answer.status().is_success(), "{}", answer.status());
    let Some(StoredOrder::Paid(paid)) = books.order("order-1").await.unwrap() else {
        panic!("book-shop order-1 changed");
    };
    assert_eq!(paid.aoid().unwrap().as_str(), books_order.aoid);

    // A refund at the tea house reaches the tea house's order only.
    let Some(StoredOrder::Paid(paid)) = tea.order("order-1").await.unwrap() else {
        panic!("tea-house order-1 not paid");
    };
    let refund = tea
        .refund(&paid, "5.00".parse::<Price>().unwrap(), "r-1")
        .await
        .unwrap();
    assert_eq!(refund.amount().fen(), 500);
    assert_eq!(sandbox.order(&tea_order.aoid).unwrap().refunded_fen, 500);
    assert_eq!(sandbox.order(&books_order.aoid).unwrap().refunded_fen, 0);
    let Some(StoredOrder::Paid(paid)) = books.order("order-1").await.unwrap() else {
        panic!("book-shop order-1 changed");
    };
    assert_eq!(paid.refunded(), None);

    // Each shop fulfils its own order once.
    tea.run_hooks().await.unwrap();
    assert_eq!(fulfilled.runs("order-1"), 1);
    books.run_hooks().await.unwrap();
    assert_eq!(fulfilled.runs("order-1"), 2);
    tea.run_hooks().await.unwrap();
    books.run_hooks().await.unwrap();
    assert_eq!(fulfilled.runs("order-1"), 2);
}

/// The two stores' `merchant(name)`, for the generic test.
trait MerchantScoped {
    fn scoped(&self, name: &str) -> Self;
}

impl MerchantScoped for SqliteStore {
    fn scoped(&self, name: &str) -> SqliteStore {
        self.merchant(name)
    }
}

impl MerchantScoped for xorpay::store::PgStore {
    fn scoped(&self, name: &str) -> xorpay::store::PgStore {
        self.merchant(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_merchants_on_one_sqlite_store() {
    let dir = support::TempDir::new("merchants");
    two_merchants_on_one_store(SqliteStore::open(dir.path().join("orders.sqlite")).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_merchants_on_one_postgres_store() {
    let Some(store) = support::postgres::fresh_store().await else {
        return;
    };
    two_merchants_on_one_store(store).await;
}
