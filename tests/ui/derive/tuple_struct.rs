// Fields need names to be mapped.
use xorpay::{Price, XorPayOrder};

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Order(String, Price, u64);

fn main() {}
