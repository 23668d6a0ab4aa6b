// `price` names a field's role; on the struct it means nothing.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, price, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
