// Several mistakes are reported in one build, each on its own tokens.
use xorpay::XorPayOrder;

#[derive(XorPayOrder)]
#[xorpay(kind = native)]
struct Order {
    #[xorpay(nme)]
    title: String,
    #[xorpay(price)]
    total: f32,
    #[xorpay(order_id = "x")]
    id: u64,
    #[xorpay(openid)]
    openid: String,
}

fn main() {}
