// The variants of an enum of orders take their notify_url from the same place: one from the
// client and one from a constant cannot share a type.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct Qr {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

#[derive(XorPayOrder)]
#[xorpay(kind = alipay, notify_url = "https://shop.example.com/n")]
struct AlipayQr {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

#[derive(XorPayOrder)]
enum Order {
    WeChat(Qr),
    Alipay(AlipayQr),
}

fn main() {}
