// A barcode payment signs the scanned code; without it there is nothing to charge.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = wechat_barcode, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
