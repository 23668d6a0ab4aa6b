// An order that takes its notify_url from the client cannot be signed on its own.
use xorpay::{AppSecret, Price, Signable, XorPayOrder};

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
    let _ = order.signature(&secret);
}
