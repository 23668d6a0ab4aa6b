// An enum of orders holds one order struct per variant: a unit variant, a variant with fields
// of its own, two values in one variant, and settings that belong to the structs are refused.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Qr {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

#[derive(XorPayOrder)]
#[xorpay(kind = native)]
enum Order {
    Small,
    Large { qr: Qr },
    Two(Qr, Qr),
    #[xorpay(kind = jsapi)]
    Fine(Qr),
}

fn main() {}
