// A notification confirms a pending order; an order never sent cannot be confirmed.
use xorpay::order::Order;
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

fn confirm(notification: VerifiedNotification) {
    let order = Order::new(Coffee { id: 1, name: "Latte".into(), price: Price::MIN }).unwrap();
    let _ = order.confirm(notification);
}

fn main() {
    let _ = confirm;
}
