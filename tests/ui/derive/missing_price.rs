// Every kind signs the price.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = alipay, notify_url = "https://shop.example.com/n")]
struct Order {
    #[xorpay(name)]
    title: String,
    #[xorpay(order_id)]
    id: u64,
}

fn main() {}
