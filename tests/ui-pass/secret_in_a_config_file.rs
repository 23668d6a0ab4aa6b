// A configuration read from a file may hold the app secret: `AppSecret` deserialises (and is
// checked as by `AppSecret::new`). Writing it back is refused (see ui/core/secret_serialize).
use xorpay::AppSecret;

#[derive(serde::Deserialize)]
struct Config {
    aid: String,
    secret: AppSecret,
}

fn main() {
    let config: Config =
        serde_json::from_str(r#"{"aid":"1000","secret":"0123456789abcdef0123456789abcdef"}"#)
            .unwrap();
    let _ = (config.aid, config.secret);
}
