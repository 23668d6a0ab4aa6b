// A client needs no notify_url: it makes only the calls that move no money.
use xorpay::client::Client;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client: Client = Client::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .build()?;
    let _ = client.openid_url("https://shop.example.com/checkout")?;
    Ok(())
}
