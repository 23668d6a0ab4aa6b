// Everything missing is reported in one error, not one per field.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
struct Order {}

fn main() {}
