// A created order has not been sent: there are no JSAPI parameters to read yet.
use xorpay::order::Order;
use xorpay::prelude::*;
use xorpay::Price;

#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
struct Coffee {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(openid)]
    openid: String,
}

fn main() {
    let order = Order::new(Coffee { id: 1, name: "Latte".into(), price: Price::MIN, openid: "o".into() }).unwrap();
    let _ = order.jsapi_params();
}
