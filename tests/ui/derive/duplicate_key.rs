// The same key twice on the struct is a mistake, even with the same value.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
#[xorpay(kind = native)]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
