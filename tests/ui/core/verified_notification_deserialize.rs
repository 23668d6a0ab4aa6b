// Deserialising would be a way around the signature check, so there is none.
use xorpay::VerifiedNotification;

fn main() {
    let _: VerifiedNotification = serde_json::from_str("{}").unwrap();
}
