// `to_request` on an order that takes its notify_url from the client: the error says how to
// attach it.
use xorpay::prelude::*;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {
    let order = Order { title: "t".into(), total: Price::MIN, id: 1 };
    let secret = AppSecret::new("secret").unwrap();
    let _ = order.to_request(&secret);
}
