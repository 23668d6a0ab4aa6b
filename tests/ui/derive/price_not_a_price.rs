// An integer is not a price either: is it yuan or fen?
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: u64,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
