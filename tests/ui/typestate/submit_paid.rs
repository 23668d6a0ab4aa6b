// A paid order cannot be submitted again.
use xorpay::client::Client;
use xorpay::order::{Order, Paid};
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

async fn resubmit(client: &Client, paid: Order<Coffee, Paid>) {
    let _ = client.submit(paid).await;
}

fn main() {
    let _ = resubmit;
}
