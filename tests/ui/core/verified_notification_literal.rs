// A VerifiedNotification can only come out of Notification::verify.
use xorpay::{Aoid, Price, VerifiedNotification};

fn forge(aoid: Aoid, pay_price: Price) -> VerifiedNotification {
    VerifiedNotification { aoid, pay_price }
}

fn main() {
    let _ = forge;
}
