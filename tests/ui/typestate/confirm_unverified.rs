// A parsed but unverified notification cannot confirm a payment.
use xorpay::order::{Order, Pending};
use xorpay::prelude::*;
use xorpay::{Notification, Price};

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

fn confirm(pending: Order<Coffee, Pending>, body: &[u8]) {
    let notification = Notification::parse(body).unwrap();
    let _ = pending.confirm(notification);
}

fn main() {
    let _ = confirm;
}
