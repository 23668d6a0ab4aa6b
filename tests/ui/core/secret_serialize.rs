// The app secret must never be serialised, not even by accident inside a config struct.
use xorpay::AppSecret;

#[derive(serde::Serialize)]
struct Config {
    secret: AppSecret,
}

fn main() {}
