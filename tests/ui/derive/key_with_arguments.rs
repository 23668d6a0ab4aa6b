// Field keys are bare words.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price(fen))]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
