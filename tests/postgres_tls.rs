//! TLS to PostgreSQL through rustls, against the throwaway server of the test command (Debian
//! starts it with `ssl = on` and its snakeoil certificate). A URL that asks for TLS gets it,
//! with the certificate verified: against an unrelated root the connection is refused, never
//! continued in the clear.

mod support;

use xorpay::store::{PgStore, StoreError};

fn with(url: &str, extra: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{extra}")
}

/// The server's certificate file, or why this server cannot show TLS.
async fn server_certificate(url: &str) -> Result<String, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|error| error.to_string())?;
    tokio::spawn(connection);
    let ssl: String = client
        .query_one("SHOW ssl", &[])
        .await
        .map_err(|error| error.to_string())?
        .get(0);
    if ssl != "on" {
        return Err("the server runs without TLS (ssl = off)".to_owned());
    }
    let file: String = client
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .map_err(|error| error.to_string())?
        .get(0);
    Ok(file)
}

#[tokio::test]
async fn tls_is_used_and_verified_when_the_url_asks_for_it() {
    let Some(url) = support::postgres::url() else {
        return;
    };
    let plain = with(&url, "sslmode=disable");
    let certificate = match server_certificate(&plain).await {
        Ok(file) => file,
        Err(reason) if std::env::var_os("XORPAY_REQUIRE_POSTGRES").is_none() => {
            eprintln!("skipped: {reason}");
            return;
        }
        Err(reason) => panic!("XORPAY_REQUIRE_POSTGRES is set but {reason}"),
    };

    // An unrelated root: the handshake happens and the server's certificate is refused.
    let untrusted = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/untrusted-ca.pem");
    let refused = PgStore::connect(&with(
        &url,
        &format!("sslmode=require&sslrootcert={untrusted}"),
    ))
    .await
    .map(|_| ());
    let Err(StoreError::Database(message)) = refused else {
        panic!("connected although the server's certificate is not trusted: {refused:?}");
    };
    assert!(
        message.contains("TLS handshake") && message.contains("UnknownIssuer"),
        "{message}"
    );

    // The server's own certificate as the root: connected over TLS, migrations applied.
    let store = PgStore::connect(&with(
        &url,
        &format!("sslmode=require&sslrootcert={certificate}"),
    ))
    .await;
    match store {
        Ok(_) => {}
        // Debian names its snakeoil certificate after the machine; where that is not the
        // host the URL uses, verification rightly refuses it for the name.
        Err(StoreError::Database(message)) if message.contains("NotValidForName") => {
            eprintln!("the server's certificate does not name the URL's host: {message}");
        }
        Err(error) => panic!("TLS with the server's certificate as root failed: {error}"),
    }
    // Plain, when the URL says so.
    PgStore::connect(&plain).await.unwrap();
}
