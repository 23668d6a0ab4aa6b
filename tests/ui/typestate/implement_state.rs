// The order states are fixed: a new one cannot be added.
use xorpay::order::State;

enum Shipped {}

impl State for Shipped {
    type Data = ();
    const NAME: &'static str = "shipped";
}

fn main() {}
