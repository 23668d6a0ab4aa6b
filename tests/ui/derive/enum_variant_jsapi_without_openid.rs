// An enum of orders keeps each kind's checks: its jsapi struct still needs an openid.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct Qr {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = from_client)]
struct InWeChat {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

#[derive(XorPayOrder)]
enum Order {
    Qr(Qr),
    WeChat(InWeChat),
}

fn main() {}
