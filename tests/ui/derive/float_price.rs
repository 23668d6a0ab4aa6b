// Money is never a float: 0.1 + 0.2 != 0.3, and XorPay signs the exact string.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: f64,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
