//! What every route and task of one sandbox shares ([`Shared`]): its settings, its clock, its
//! books, the route faults in force and the background deliveries. Below the routes, the
//! deliveries and the server, which all use it; it imports only the books and the atoms.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::config::Config;
use crate::faults::RouteFaults;
use crate::ledger::Ledger;
use crate::orders::OrderView;

/// What every route and task of one sandbox shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: String,
    ledger: Mutex<Ledger>,
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
    ) -> Shared {
        Shared {
            config,
            clock: Clock::default(),
            http,
            base_url,
            ledger: Mutex::new(ledger),
            route_faults: Mutex::new(RouteFaults::default()),
            tasks: Mutex::new(JoinSet::new()),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// The books. A panic elsewhere cannot poison them for good: the lock is taken back.
    pub(crate) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
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
