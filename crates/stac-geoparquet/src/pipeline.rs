//! An ordered parallel map for the writer: the calling thread produces jobs
//! and consumes their results in order; `threads` workers run the work in
//! between (parsing JSON, building Arrow arrays), at most [`AHEAD`] jobs per
//! worker ahead of the consumer, so memory stays bounded.
//!
//! The consumer sees exactly the results a sequential loop would, in the
//! same order; after the first error (from the producer, the consumer or a
//! panicking worker) nothing more is consumed and the workers stop.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError, mpsc};

use crate::error::Result;

/// Jobs in flight per worker.
const AHEAD: usize = 2;

/// Run `work` over every job `next` produces on `threads` workers, and feed
/// the results to `sink` in the order the jobs were produced. A panic in
/// `work` becomes `panicked(message)`, consumed in its place.
pub(crate) fn ordered<I: Send, O: Send>(
    threads: usize,
    mut next: impl FnMut() -> Result<Option<I>>,
    work: impl Fn(I) -> O + Sync,
    panicked: impl Fn(String) -> O + Sync,
    mut sink: impl FnMut(O) -> Result<()>,
) -> Result<()> {
    let threads = threads.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, I)>(threads);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, O)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let (work_rx, work, panicked) = (&work_rx, &work, &panicked);
            scope.spawn(move || {
                loop {
                    let job = work_rx
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok((seq, input)) = job else { return };
                    let out = catch_unwind(AssertUnwindSafe(|| work(input)))
                        .unwrap_or_else(|p| panicked(panic_message(&*p)));
                    if done_tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut work_tx = Some(work_tx);
        let result = drive(threads, &mut work_tx, &done_rx, &mut next, &mut sink);
        // Closing the queue stops the workers; the scope joins them.
        work_tx.take();
        result
    })
}

/// The calling thread's loop of [`ordered`]: feed jobs while the window
/// allows, consume results in order.
fn drive<I, O>(
    threads: usize,
    work_tx: &mut Option<mpsc::SyncSender<(usize, I)>>,
    done_rx: &mpsc::Receiver<(usize, O)>,
    next: &mut impl FnMut() -> Result<Option<I>>,
    sink: &mut impl FnMut(O) -> Result<()>,
) -> Result<()> {
    let window = threads * AHEAD;
    let mut ready: BTreeMap<usize, O> = BTreeMap::new();
    let (mut sent, mut consumed) = (0usize, 0usize);
    let mut end: Option<Result<()>> = None;
    loop {
        while let Some(out) = ready.remove(&consumed) {
            consumed += 1;
            sink(out)?;
        }
        if end.is_none() && sent < consumed + window {
            match next() {
                Ok(Some(job)) => {
                    let tx = work_tx.as_ref().expect("open until the end");
                    if tx.send((sent, job)).is_err() {
                        return Err(stopped());
                    }
                    sent += 1;
                }
                Ok(None) => end = Some(Ok(())),
                Err(e) => end = Some(Err(e)),
            }
            continue;
        }
        if consumed == sent {
            return end.unwrap_or(Ok(()));
        }
        match done_rx.recv() {
            Ok((seq, out)) => {
                ready.insert(seq, out);
            }
            Err(_) => return Err(stopped()),
        }
    }
}

fn stopped() -> crate::error::GeoParquetError {
    crate::error::GeoParquetError::Parquet {
        path: std::path::PathBuf::new(),
        message: "the writer's worker threads stopped".into(),
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come in job order whatever the thread count and the time
    /// each job takes; an error stops the consumer at that job.
    #[test]
    fn results_in_order_and_errors_stop() {
        for threads in [1, 2, 5] {
            let mut i = 0u64;
            let mut got = Vec::new();
            ordered(
                threads,
                || {
                    i += 1;
                    Ok((i <= 50).then_some(i))
                },
                |n| {
                    std::thread::sleep(std::time::Duration::from_micros((n * 37) % 200));
                    n * 2
                },
                |_| 0,
                |n| {
                    got.push(n);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(got, (1..=50).map(|n| n * 2).collect::<Vec<_>>());
        }
        let mut i = 0u64;
        let mut got = Vec::new();
        let e = ordered(
            2,
            || {
                i += 1;
                Ok(Some(i))
            },
            |n| {
                if n == 7 {
                    panic!("job seven");
                }
                Ok(n)
            },
            Err,
            |r: std::result::Result<u64, String>| match r {
                Ok(n) => {
                    got.push(n);
                    Ok(())
                }
                Err(m) => Err(crate::error::GeoParquetError::Parquet {
                    path: std::path::PathBuf::new(),
                    message: m,
                }),
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("job seven"), "{e}");
        assert_eq!(got, (1..7).collect::<Vec<_>>());
    }
}
