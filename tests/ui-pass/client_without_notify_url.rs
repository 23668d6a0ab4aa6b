// A client needs no notify_url when its orders carry their own: `notify_url` is optional.
use xorpay::client::Client;
use xorpay::{Aid, AppSecret};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _client: Client = Client::builder()
        .aid(Aid::new("1000")?)
        .secret(AppSecret::new("0123456789abcdef0123456789abcdef")?)
        .build()?;
    Ok(())
}
