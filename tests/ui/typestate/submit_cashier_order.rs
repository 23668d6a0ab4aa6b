// A cashier order is a page for the payer's browser, not an API call: `submit` refuses it.
use xorpay::client::Client;
use xorpay::order::Order;
use xorpay::prelude::*;
use xorpay::Price;

#[derive(XorPayOrder)]
#[xorpay(kind = cashier, notify_url = "https://shop.example.com/n")]
struct Counter {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

async fn submit(client: &Client) {
    let order = Order::new(Counter { id: 1, name: "Tea".into(), price: Price::MIN }).unwrap();
    let _ = client.submit(order).await;
}

fn main() {
    let _ = submit;
}
