// `kind` describes the whole request; on a field it is misplaced.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(kind = native)]
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
