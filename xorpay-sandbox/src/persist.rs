//! The state file of a sandbox that keeps its orders between runs ([`crate::SandboxConfig`]'s
//! `state_file`): the books as JSON, written whole after every change, to a temporary file
//! that is then renamed over the old one, so that a crash leaves the old state or the new one,
//! never half of either.

use std::io;
use std::path::{Path, PathBuf};

use crate::ledger::Ledger;

/// The books kept in `path`, or `None` when there is no such file yet.
///
/// # Errors
/// The file cannot be read, or is not a state file of this sandbox.
pub(crate) fn load(path: &Path) -> io::Result<Option<Ledger>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a sandbox state file: {error}", path.display()),
        )
    })
}

/// Writes the books to `path`.
///
/// # Errors
/// The file or its temporary neighbour cannot be written.
pub(crate) fn save(path: &Path, ledger: &Ledger) -> io::Result<()> {
    let json = serde_json::to_vec(ledger).map_err(io::Error::other)?;
    let temporary = temporary(path);
    std::fs::write(&temporary, json)?;
    std::fs::rename(&temporary, path)
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}
