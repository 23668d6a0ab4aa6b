// States are types without values: there is no `Paid` to hold or pass around.
use xorpay::order::Paid;

fn main() {
    let _state = Paid;
}
