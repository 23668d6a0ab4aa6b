//! [`Failure`]: why a command could not do its job, as the one line the user reads.

use std::fmt;

/// A command's failure: one line that says what went wrong and what to do. It never holds a
/// secret.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Prints a JSON value on stdout, pretty, for scripts.
pub(crate) fn print_json(value: &serde_json::Value) {
    // A `Value` always serialises.
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// An error with its causes ("error sending request: … connection refused").
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
