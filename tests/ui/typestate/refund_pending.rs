// Only a paid order can be refunded.
use xorpay::client::Client;
use xorpay::order::{Order, Pending};
use xorpay::prelude::*;
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

async fn refund(client: &Client, mut pending: Order<Coffee, Pending>) {
    let _ = client.refund(&mut pending, Price::MIN).await;
}

fn main() {
    let _ = refund;
}
