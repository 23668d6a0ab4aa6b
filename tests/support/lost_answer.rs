//! A loopback proxy in front of a database server that loses one answer after the server has
//! committed. A connection whose client sends `armed_by` (the text of the statement that
//! records a payment) is armed; the first armed connection to send a message that holds
//! `cut_at` (the commit, or for a statement that is its own transaction, any message) has it
//! relayed to the server, the server's answer read and dropped, and the connection closed
//! both ways. The client cannot know whether its write committed; it did.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;

/// Where a connection is: relaying, armed by the statement, or waiting for the answer to drop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Relaying,
    Armed,
    Cutting,
}

/// The running proxy.
pub(crate) struct LostAnswer {
    /// `host:port` to give the client instead of the server's.
    pub(crate) address: String,
    fired: Arc<AtomicBool>,
}

impl LostAnswer {
    /// A proxy to `server` (`host:port`), losing the answer as the module says.
    pub(crate) async fn start(
        server: &str,
        armed_by: &'static [u8],
        cut_at: &'static [u8],
    ) -> LostAnswer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let fired = Arc::new(AtomicBool::new(false));
        let (server, shared) = (server.to_owned(), Arc::clone(&fired));
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(upstream) = TcpStream::connect(&server).await else {
                    continue;
                };
                tokio::spawn(relay(
                    client,
                    upstream,
                    armed_by,
                    cut_at,
                    Arc::clone(&shared),
                ));
            }
        });
        LostAnswer { address, fired }
    }

    /// Whether an answer was lost.
    pub(crate) fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

/// Relays one connection both ways, cutting it as the module says.
async fn relay(
    client: TcpStream,
    server: TcpStream,
    armed_by: &'static [u8],
    cut_at: &'static [u8],
    fired: Arc<AtomicBool>,
) {
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let phase = Arc::new(Mutex::new(Phase::Relaying));
    let up = {
        let phase = Arc::clone(&phase);
        async move {
            let mut buffer = vec![0; 64 * 1024];
            loop {
                let read = match from_client.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                let chunk = &buffer[..read];
                {
                    let mut phase = phase.lock().await;
                    if *phase == Phase::Relaying
                        && !fired.load(Ordering::SeqCst)
                        && contains(chunk, armed_by)
                    {
                        *phase = Phase::Armed;
                    } else if *phase == Phase::Armed
                        && contains(chunk, cut_at)
                        && !fired.swap(true, Ordering::SeqCst)
                    {
                        *phase = Phase::Cutting;
                    }
                }
                if to_server.write_all(chunk).await.is_err() {
                    break;
                }
            }
        }
    };
    let down = async move {
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let read = match from_server.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            if *phase.lock().await == Phase::Cutting {
                // The server has answered: it has committed. The answer is lost.
                break;
            }
            if to_client.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    };
    // Either side ending ends both: the sockets close as the halves are dropped.
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
