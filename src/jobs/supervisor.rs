//! The server's background jobs as one supervised set. Each job gets a stop
//! signal it checks between passes; a job that panics is logged and started
//! again after a pause; shutdown asks every job to stop and waits for them,
//! within a deadline, before the process exits.

use std::{future::Future, time::Duration};

use tokio::task::{AbortHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// The signal a job watches: cancelled when the server shuts down.
pub type Stop = CancellationToken;

pub struct Jobs {
    set: JoinSet<()>,
    stop: Stop,
    restart_after: Duration,
}

/// Aborts a job's task when its supervisor is dropped, so no job outlives
/// the set.
struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Jobs {
    /// An empty set; a job that panics starts again after `restart_after`.
    pub fn new(restart_after: Duration) -> Jobs {
        Jobs {
            set: JoinSet::new(),
            stop: CancellationToken::new(),
            restart_after,
        }
    }

    /// Starts the job `name`. `run` makes one run of it; it should return
    /// soon after `stop` is cancelled.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, run: F)
    where
        F: Fn(Stop) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stop = self.stop.clone();
        let restart_after = self.restart_after;
        self.set.spawn(async move {
            loop {
                let attempt = tokio::spawn(run(stop.clone()));
                let _abort = AbortOnDrop(attempt.abort_handle());
                match attempt.await {
                    Ok(()) => return,
                    Err(error) if error.is_panic() => {
                        let panic = error.into_panic();
                        let message = panic
                            .downcast_ref::<&str>()
                            .map(|text| (*text).to_owned())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a panic without a message".to_owned());
                        tracing::error!(
                            job = name,
                            panic = %message,
                            restart_in_seconds = restart_after.as_secs(),
                            "a background job panicked; it will start again"
                        );
                        tokio::select! {
                            () = tokio::time::sleep(restart_after) => {}
                            () = stop.cancelled() => return,
                        }
                    }
                    Err(_) => return,
                }
            }
        });
    }

    /// Tells every job to stop and waits for them up to `deadline`; those
    /// still running then are aborted. Returns how many had to be aborted.
    pub async fn shutdown(mut self, deadline: Duration) -> usize {
        self.stop.cancel();
        let stopped = tokio::time::timeout(deadline, async {
            while self.set.join_next().await.is_some() {}
        })
        .await;
        if stopped.is_ok() {
            return 0;
        }
        let left = self.set.len();
        tracing::warn!(
            jobs = left,
            deadline_seconds = deadline.as_secs(),
            "background jobs did not stop in time; abandoning them"
        );
        self.set.abort_all();
        while self.set.join_next().await.is_some() {}
        left
    }
}

/// Waits for the next tick of `ticker`, or returns false when `stop` comes
/// first: the loop head of every periodic job.
pub async fn next_tick(ticker: &mut tokio::time::Interval, stop: &Stop) -> bool {
    tokio::select! {
        _ = ticker.tick() => true,
        () = stop.cancelled() => false,
    }
}

/// The wait before retry number `attempts` (from 1) of something that
/// failed: `first`, doubling each time, never more than `most`.
pub fn backoff(attempts: i32, first: chrono::Duration, most: chrono::Duration) -> chrono::Duration {
    let doublings = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    (first * (1_i32 << doublings)).min(most)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    #[tokio::test]
    async fn a_job_that_panics_is_started_again_and_every_job_stops_on_shutdown() {
        let mut jobs = Jobs::new(Duration::from_millis(10));
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        jobs.spawn("flaky", move |stop| {
            let runs = counted.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run fails");
                }
                stop.cancelled().await;
            }
        });
        jobs.spawn("ticker", |stop| async move {
            let mut ticker = tokio::time::interval(Duration::from_millis(5));
            while next_tick(&mut ticker, &stop).await {}
        });
        // A panic's message (and backtrace, when asked for) takes a moment.
        for _ in 0..500 {
            if runs.load(Ordering::SeqCst) >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "started again after the panic"
        );
        assert_eq!(
            jobs.shutdown(Duration::from_secs(1)).await,
            0,
            "both stopped"
        );
    }

    #[tokio::test]
    async fn a_job_that_ignores_the_stop_is_aborted_at_the_deadline() {
        let mut jobs = Jobs::new(Duration::from_secs(1));
        jobs.spawn("stubborn", |_stop| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
        });
        let started = std::time::Instant::now();
        assert_eq!(jobs.shutdown(Duration::from_millis(50)).await, 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
