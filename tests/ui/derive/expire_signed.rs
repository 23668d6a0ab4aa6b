// An order's lifetime is whole seconds: a signed integer is refused on its field.
use xorpay::prelude::*;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Coffee {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(expire)]
    lifetime: i32,
}

fn main() {}
