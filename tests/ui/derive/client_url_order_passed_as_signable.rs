// A function that signs orders cannot be given one whose notify_url comes from the client.
use xorpay::prelude::*;
use xorpay::Price;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn sign_it(_request: &impl Signable) {}

fn main() {
    let order = Order { title: "t".into(), total: Price::MIN, id: 1 };
    sign_it(&order);
}
