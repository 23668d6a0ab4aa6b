// A barcode payment completes or fails at once: it takes no expire.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = alipay_barcode, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(barcode)]
    code: String,
    #[xorpay(expire)]
    ttl: u32,
}

fn main() {}
