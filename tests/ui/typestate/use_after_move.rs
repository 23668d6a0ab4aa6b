// A transition consumes the order: the old state cannot be used afterwards.
use xorpay::order::{Order, Pending};
use xorpay::prelude::*;
use xorpay::{Price, VerifiedNotification};

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

fn confirm_twice(pending: Order<Coffee, Pending>, notification: VerifiedNotification) {
    let _paid = pending.confirm(notification.clone());
    let _again = pending.confirm(notification);
}

fn main() {
    let _ = confirm_twice;
}
