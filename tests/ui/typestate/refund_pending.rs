// Only a paid order can be refunded: beginning a refund is a method of `Order<_, Paid>`.
use xorpay::order::{Order, Pending};
use xorpay::prelude::*;
use xorpay::time::OffsetDateTime;
use xorpay::Price;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Coffee {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

fn refund(mut pending: Order<Coffee, Pending>) {
    let _ = pending.begin_refund(Price::MIN, OffsetDateTime::now_utc());
}

fn main() {
    let _ = refund;
}
