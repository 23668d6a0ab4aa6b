// A paid order is not deserialised directly: storage goes through StoredOrder, which
// re-checks it against its struct.
use xorpay::order::{Order, Paid};

fn load(json: &str) -> Order<String, Paid> {
    serde_json::from_str(json).unwrap()
}

fn main() {
    let _ = load;
}
