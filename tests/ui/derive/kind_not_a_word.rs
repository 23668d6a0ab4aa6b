// A kind is one of the listed words; a number or a bare `kind` is refused once, not cascaded.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = 3, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
