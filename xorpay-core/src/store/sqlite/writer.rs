//! The one writer of a SQLite store: a thread that owns the write connection and commits the
//! writes waiting for it together (group commit).
//!
//! Callers queue a write (a closure over the connection) with a reply channel. The thread
//! takes the first waiting write and every other one already queued, up to [`BATCH`], and
//! applies them in one `BEGIN IMMEDIATE … COMMIT`: each inside its own savepoint, so a write
//! that fails is rolled back alone and its caller gets its own error, while the others go on.
//! With `synchronous = FULL` the commit is one fsync for the whole batch, and every caller
//! hears its answer only after it: a commit that fails reaches every caller of that batch as
//! an error, never as a success. The queue holds at most [`QUEUE`] writes (callers beyond
//! wait: back-pressure, not memory growth). When the last handle is dropped the thread
//! applies what is queued and stops; a write that panics is rolled back and reaches its own
//! caller as an error, and the thread goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

/// The most writes committed together.
pub(super) const BATCH: usize = 64;

/// The most writes waiting for the writer.
pub(super) const QUEUE: usize = 1024;

/// A handle on the writer thread; cloning shares it.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `connection` (its schema checked already).
    pub(super) fn start(connection: Connection) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("xorpay-sqlite-writer".to_owned())
            .spawn(move || run(&connection, queue))
            .map_err(|error| StoreError::Database(error.to_string()))?;
        Ok(Writer { jobs })
    }

    /// Applies `work` in the next batch and returns its result once that batch is committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(Write { work, reply }))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database("the store's writer stopped before answering".to_owned())
}

/// A queued write, its result type erased.
trait Job: Send {
    /// Runs the write; says whether it succeeded, and how to answer once the commit is known.
    fn run(self: Box<Self>, connection: &Connection) -> (bool, Finish);
    /// Answers without running (the batch could not start).
    fn fail(self: Box<Self>, error: &str);
}

/// Answers a caller with the outcome of its batch's commit (`Err` holds why it failed).
type Finish = Box<dyn FnOnce(Result<(), &str>) + Send>;

struct Write<F, T> {
    work: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<F, T> Job for Write<F, T>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, connection: &Connection) -> (bool, Finish) {
        let Write { work, reply } = *self;
        let result = work(connection);
        let succeeded = result.is_ok();
        let finish = move |committed: Result<(), &str>| {
            let answer = match committed {
                Ok(()) => result,
                Err(reason) => Err(StoreError::Database(format!("commit failed: {reason}"))),
            };
            // A caller that went away does not want its answer.
            let _ = reply.send(answer);
        };
        (succeeded, Box::new(finish))
    }

    fn fail(self: Box<Self>, error: &str) {
        let _ = self.reply.send(Err(StoreError::Database(error.to_owned())));
    }
}

/// The writer thread: one batch after another until every handle is gone and the queue is
/// empty.
fn run(connection: &Connection, mut queue: mpsc::Receiver<Box<dyn Job>>) {
    let mut waiting: Vec<Box<dyn Job>> = Vec::with_capacity(BATCH);
    while let Some(first) = queue.blocking_recv() {
        waiting.push(first);
        while waiting.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => waiting.push(job),
                Err(_) => break,
            }
        }
        commit_batch(connection, &mut waiting);
    }
}

/// Applies and commits `waiting` (emptied), answering every caller.
fn commit_batch(connection: &Connection, waiting: &mut Vec<Box<dyn Job>>) {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        let reason = error.to_string();
        for job in waiting.drain(..) {
            job.fail(&reason);
        }
        return;
    }
    let mut finishes: Vec<Finish> = Vec::with_capacity(waiting.len());
    let mut broken: Option<String> = None;
    for job in waiting.drain(..) {
        if let Some(reason) = &broken {
            job.fail(reason);
            continue;
        }
        if let Err(error) = connection.execute_batch("SAVEPOINT job") {
            broken = Some(error.to_string());
            job.fail(&error.to_string());
            continue;
        }
        let ran = catch_unwind(AssertUnwindSafe(|| job.run(connection)));
        let (succeeded, finish) = match ran {
            Ok(ran) => ran,
            // The write panicked: its reply went with it, so its caller hears an error.
            Err(_) => (false, Box::new(|_: Result<(), &str>| {}) as Finish),
        };
        let end = if succeeded {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        finishes.push(finish);
        if let Err(error) = connection.execute_batch(end) {
            // The transaction is not what the batch thinks it is: nothing of it may count.
            broken = Some(error.to_string());
        }
    }
    let committed = match broken {
        Some(reason) => Err(reason),
        None => connection
            .execute_batch("COMMIT")
            .map_err(|error| error.to_string()),
    };
    if committed.is_err() && !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    for finish in finishes {
        finish(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> (Writer, std::path::PathBuf) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("xorpay-writer-{}-{n}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
            )
            .unwrap();
        (Writer::start(connection).unwrap(), path)
    }

    fn insert(key: &'static str) -> impl FnOnce(&Connection) -> Result<(), StoreError> {
        move |connection| {
            connection
                .execute("INSERT INTO t (k, v) VALUES (?1, 1)", [key])
                .map(drop)
                .map_err(|error| StoreError::Database(error.to_string()))
        }
    }

    fn count(path: &std::path::Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap()
    }

    /// Holds the writer in its first batch until `release` is sent, so that what is queued
    /// meanwhile goes into the next batch together.
    fn hold(
        writer: &Writer,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), StoreError>>,
    ) {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let writer = writer.clone();
        let held = tokio::spawn(async move {
            writer
                .write(move |_| {
                    let _ = wait.recv();
                    Ok(())
                })
                .await
        });
        (release, held)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_is_rolled_back_alone_in_its_batch() {
        let (writer, path) = writer();
        let (release, held) = hold(&writer);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let batch = [
            tokio::spawn({
                let writer = writer.clone();
                async move { writer.write(insert("a")).await }
            }),
            tokio::spawn({
                let writer = writer.clone();
                // The same key twice: the second insert fails, inside one savepoint.
                async move {
                    writer
                        .write(|connection| {
                            insert("b")(connection)?;
                            insert("b")(connection)
                        })
                        .await
                }
            }),
            tokio::spawn({
                let writer = writer.clone();
                async move { writer.write(insert("c")).await }
            }),
        ];
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        let mut answers = Vec::new();
        for task in batch {
            answers.push(task.await.unwrap().is_ok());
        }
        assert_eq!(answers, [true, false, true]);
        // a and c, not the half of b's write that succeeded.
        assert_eq!(count(&path), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_fails_every_caller_of_its_batch() {
        let (writer, path) = writer();
        let (release, held) = hold(&writer);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let good = tokio::spawn({
            let writer = writer.clone();
            async move { writer.write(insert("a")).await }
        });
        // A write that ends the batch's transaction under it: the batch cannot commit.
        let breaking = tokio::spawn({
            let writer = writer.clone();
            async move {
                writer
                    .write(|connection| {
                        connection
                            .execute_batch("ROLLBACK")
                            .map_err(|error| StoreError::Database(error.to_string()))
                    })
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
        assert!(good.await.unwrap().is_err(), "a false success");
        assert!(breaking.await.unwrap().is_err());
        assert_eq!(count(&path), 0);
        // The writer goes on.
        writer.write(insert("d")).await.unwrap();
        assert_eq!(count(&path), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_reaches_its_caller_as_an_error_and_the_writer_goes_on() {
        let (writer, path) = writer();
        let panicked = writer
            .write(|connection| -> Result<(), StoreError> {
                insert("a")(connection)?;
                panic!("a bug in a write");
            })
            .await;
        assert!(panicked.is_err());
        writer.write(insert("b")).await.unwrap();
        assert_eq!(count(&path), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_each_get_their_own_answer() {
        let (writer, path) = writer();
        let keys: Vec<&'static str> = (0..200)
            .map(|n| &*Box::leak(format!("k{}", n % 150).into_boxed_str()))
            .collect();
        let tasks: Vec<_> = keys
            .iter()
            .map(|&key| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.write(insert(key)).await.is_ok() })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            succeeded += usize::from(task.await.unwrap());
        }
        // 150 distinct keys, 50 repeats refused one by one.
        assert_eq!(succeeded, 150);
        assert_eq!(count(&path), 150);
    }
}
