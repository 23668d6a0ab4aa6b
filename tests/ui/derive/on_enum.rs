// An enum is not one order.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
enum Order {
    Small,
    Large,
}

fn main() {}
