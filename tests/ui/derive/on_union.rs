// A union is not one order.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
union Order {
    id: u64,
    cents: u32,
}

fn main() {}
