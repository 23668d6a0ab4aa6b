// A barcode belongs to barcode payments; on a jsapi order it would be sent but never used.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(openid)]
    openid: String,
    #[xorpay(barcode)]
    code: String,
}

fn main() {}
