//! Several kinds of payment in one service: a shop's enum of orders (a WeChat QR, WeChat Pay
//! inside WeChat, XorPay's cashier page) checked out by one `Payments`, each sent to its own
//! endpoint with its own `pay_type`, all notified at one route and paid once.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use xorpay::prelude::*;
use xorpay::{PaymentInfo, RequestKind};
use xorpay_sandbox::{DeliveryState, OrderKind, OrderState, Sandbox};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[xorpay(kind = native, notify_url = from_client)]
struct Qr {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    price: Price,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[xorpay(kind = jsapi, notify_url = from_client)]
struct InWeChat {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(openid)]
    openid: String,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone, PartialEq)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct OnXorPaysPage {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    price: Price,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Purchase {
    Qr(Qr),
    WeChat(InWeChat),
    Cashier(OnXorPaysPage),
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_service_checks_out_and_confirms_three_kinds_at_one_route() {
    let sandbox = Sandbox::builder()
        .aid("1000")
        .secret(SECRET)
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/xorpay/notify", listener.local_addr().unwrap());
    let payments = Payments::<Purchase>::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url(&notify_url)
        .store(SqliteStore::in_memory().unwrap())
        .base_url(sandbox.base_url())
        .no_background()
        .build()
        .unwrap();
    let router = payments.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let purchases = [
        Purchase::Qr(Qr {
            id: "qr-1".into(),
            title: "咖啡豆".into(),
            price: price("48.00"),
        }),
        Purchase::WeChat(InWeChat {
            id: "wx-1".into(),
            title: "乌龙茶".into(),
            price: price("26.50"),
            openid: sandbox.issue_openid(),
        }),
        Purchase::Cashier(OnXorPaysPage {
            id: "cashier-1".into(),
            title: "茶具".into(),
            price: price("120.00"),
        }),
    ];
    let kinds: Vec<RequestKind> = purchases.iter().map(XorPayOrder::kind).collect();
    assert_eq!(
        kinds,
        [
            RequestKind::Native,
            RequestKind::Jsapi,
            RequestKind::Cashier
        ]
    );

    // Each kind is sent where it goes, and the payer is shown what that kind pays with.
    for purchase in purchases.iter().cloned() {
        let Checkout::Pending(pending) = payments.checkout(purchase).await.unwrap() else {
            panic!("a fresh order is not paid");
        };
        match (pending.inner(), pending.payment()) {
            (Purchase::Qr(_), PaymentInfo::Qr(text)) => {
                assert!(text.starts_with("weixin://"), "{text}");
            }
            (Purchase::WeChat(_), PaymentInfo::Jsapi(params)) => {
                assert!(params.package.starts_with("prepay_id="), "{params:?}");
            }
            (Purchase::Cashier(_), PaymentInfo::Cashier(page)) => {
                // The cashier order exists at XorPay once the payer's browser opens the page.
                let opened = reqwest::get(&page.url).await.unwrap();
                assert!(opened.status().is_success(), "{}", opened.status());
            }
            (order, payment) => panic!("{order:?} was given {payment:?}"),
        }
    }
    let at_xorpay = |id: &str| sandbox.merchant_order("1000", id).unwrap();
    let sent: Vec<(OrderKind, String, String)> = ["qr-1", "wx-1", "cashier-1"]
        .into_iter()
        .map(|id| {
            let order = at_xorpay(id);
            (order.kind, order.pay_type, order.price)
        })
        .collect();
    assert_eq!(
        sent,
        [
            (OrderKind::Pay, "native".into(), "48.00".into()),
            (OrderKind::Pay, "jsapi".into(), "26.50".into()),
            (OrderKind::Cashier, "jsapi".into(), "120.00".into()),
        ]
    );
    let Purchase::WeChat(in_wechat) = &purchases[1] else {
        unreachable!()
    };
    assert_eq!(
        at_xorpay("wx-1").openid.as_deref(),
        Some(in_wechat.openid.as_str())
    );

    // One route hears every kind's notification; each order is paid once, as its own variant.
    for id in ["qr-1", "wx-1", "cashier-1"] {
        let order = at_xorpay(id);
        assert_eq!(order.notify_url, notify_url);
        sandbox.pay(&order.aoid).await.unwrap();
        let done = sandbox
            .wait_for(&order.aoid, Duration::from_secs(15), |order| {
                order.delivery == DeliveryState::Acknowledged
            })
            .await
            .unwrap();
        assert_eq!(done.state, OrderState::Success);
        assert_eq!(done.deliveries.len(), 1, "{id}: {:?}", done.deliveries);
    }
    for (id, purchase) in ["qr-1", "wx-1", "cashier-1"].into_iter().zip(&purchases) {
        let Some(StoredOrder::Paid(paid)) = payments.order(id).await.unwrap() else {
            panic!("{id} is not paid");
        };
        assert_eq!(paid.inner(), purchase);
        assert_eq!(
            paid.paid_price(),
            match purchase {
                Purchase::Qr(order) => order.price,
                Purchase::WeChat(order) => order.price,
                Purchase::Cashier(order) => order.price,
            }
        );
    }
}
