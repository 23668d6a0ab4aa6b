// One service, one notify route, three kinds: the enum of orders is the service's order type.
use serde::{Deserialize, Serialize};
use xorpay::prelude::*;

#[derive(XorPayOrder, Serialize, Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct Qr {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: String,
}

#[derive(XorPayOrder, Serialize, Deserialize)]
#[xorpay(kind = jsapi, notify_url = from_client)]
struct InWeChat {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: String,
    #[xorpay(openid)]
    openid: String,
}

#[derive(XorPayOrder, Serialize, Deserialize)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct Cashier {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: String,
}

#[derive(XorPayOrder, Serialize, Deserialize)]
enum Purchase {
    Qr(Qr),
    WeChat(InWeChat),
    Cashier(Cashier),
}

fn main() {
    let payments = Payments::<Purchase>::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .notify_url("https://shop.example.com/xorpay/notify")
        .store(SqliteStore::in_memory().unwrap())
        .no_background()
        .build()
        .unwrap();
    let _one_route: axum::Router = payments.router();
}
