// Two notify URLs: the struct's constant and a field. Which one would XorPay call?
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(notify_url)]
    callback: String,
}

fn main() {}
