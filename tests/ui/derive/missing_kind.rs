// The request kind decides the endpoint and the required fields; it must be named.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
