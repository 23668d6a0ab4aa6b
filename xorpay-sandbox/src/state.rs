//! What every route and task of one sandbox shares ([`Shared`]): its settings, its clock, its
//! books, the route faults in force and the background deliveries. Below the routes, the
//! deliveries and the server, which all use it; it imports only the books and the atoms.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::Config;
use crate::faults::RouteFaults;
use crate::ledger::Ledger;
use crate::orders::OrderView;
use crate::persist;

/// What every route and task of one sandbox shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    ledger: Mutex<Ledger>,
    /// Where the books are kept between runs, if anywhere.
    state_file: Option<PathBuf>,
    route_faults: Mutex<RouteFaults>,
    tasks: Mutex<JoinSet<()>>,
    runtime: tokio::runtime::Handle,
}

impl Shared {
    pub(crate) fn new(
        config: Config,
        http: reqwest::Client,
        base_url: String,
        ledger: Ledger,
        state_file: Option<PathBuf>,
    ) -> Shared {
        Shared {
            config,
            clock: Clock::default(),
            http,
            base_url,
            ledger: Mutex::new(ledger),
            state_file,
            route_faults: Mutex::new(RouteFaults::default()),
            tasks: Mutex::new(JoinSet::new()),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// The books. A panic elsewhere cannot poison them for good: the lock is taken back. With
    /// a state file, the books are saved when a change to them is let go of.
    pub(crate) fn ledger(&self) -> LedgerGuard<'_> {
        LedgerGuard {
            books: self.ledger.lock().unwrap_or_else(PoisonError::into_inner),
            state_file: self.state_file.as_deref(),
            changed: false,
        }
    }

    pub(crate) fn route_faults(&self) -> MutexGuard<'_, RouteFaults> {
        self.route_faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a background task (a notification delivery) that ends with the sandbox.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(task, &self.runtime);
    }

    pub(crate) fn view(&self, aoid: &str) -> Option<OrderView> {
        self.ledger().view(aoid, self.clock.now())
    }

    /// Aborts every background task.
    pub(crate) fn stop_tasks(&self) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_all();
    }
}

/// The books, locked; saved to the state file, if any, when let go of after a change.
pub(crate) struct LedgerGuard<'a> {
    books: MutexGuard<'a, Ledger>,
    state_file: Option<&'a Path>,
    changed: bool,
}

impl Deref for LedgerGuard<'_> {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.books
    }
}

impl DerefMut for LedgerGuard<'_> {
    fn deref_mut(&mut self) -> &mut Ledger {
        self.changed = true;
        &mut self.books
    }
}

impl Drop for LedgerGuard<'_> {
    fn drop(&mut self) {
        if let (true, Some(path)) = (self.changed, self.state_file) {
            // Saved under the lock, so that the file always holds the latest books.
            if let Err(error) = persist::save(path, &self.books) {
                eprintln!(
                    "xorpay-sandbox: cannot save the state to {}: {error}",
                    path.display()
                );
            }
        }
    }
}
