// Money is never a float: there is no conversion from f64.
use xorpay::Price;

fn main() {
    let _ = Price::try_from(12.5_f64);
}
