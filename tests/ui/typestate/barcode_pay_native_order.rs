// `barcode_pay` charges a scanned code; a QR order has none.
use xorpay::client::Client;
use xorpay::order::Order;
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

async fn charge(client: &Client) {
    let order = Order::new(Coffee { id: 1, name: "Latte".into(), price: Price::MIN }).unwrap();
    let _ = client.barcode_pay(order).await;
}

fn main() {
    let _ = charge;
}
