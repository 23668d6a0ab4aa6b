// A refund's amount is a `Price`: a string from a form is parsed first.
use xorpay::prelude::*;

#[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

async fn refund(payments: &Payments<Coffee>, paid: &Order<Coffee, Paid>, amount: String) {
    let _ = payments.refund(paid, amount, "refund-1").await;
}

fn main() {
    let _ = refund;
}
