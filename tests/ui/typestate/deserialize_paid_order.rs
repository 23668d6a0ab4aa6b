// A paid order is not deserialised directly: storage goes through StoredOrder, which
// re-checks it against its struct.
use xorpay::order::{Order, Paid};
use xorpay::prelude::*;
use xorpay::Price;

#[derive(XorPayOrder, serde::Deserialize)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Coffee {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

fn load(json: &str) -> Order<Coffee, Paid> {
    serde_json::from_str(json).unwrap()
}

fn main() {
    let _ = load;
}
