//! In-process caches (each replica has its own), on `quick_cache`.
//!
//! Two kinds, for two kinds of value:
//! - [`Versioned`]: keyed by something that changes whenever the value
//!   would (a row id with its version, or the text being rendered), so an
//!   entry is never stale and is only evicted to bound memory.
//! - [`Refreshed`]: values that may be served a little old. When one is
//!   older than its time to live, the reader that notices starts one
//!   refresh in the background and every reader keeps getting the old
//!   value until the new one is in: a refresh never stalls a page, and
//!   many readers arriving together compute it once. A value not cached
//!   yet is computed once too, the others waiting for it.

use std::{
    hash::Hash,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use quick_cache::{Equivalent, sync::Cache};

/// Values that never go stale, bounded in number.
pub struct Versioned<K, V> {
    entries: Cache<K, Arc<V>>,
}

impl<K: Eq + Hash + Clone, V> Versioned<K, V> {
    pub fn new(capacity: usize) -> Self {
        Versioned {
            entries: Cache::new(capacity),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.entries.get(key)
    }

    pub fn insert(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.entries.insert(key, value.clone());
        value
    }

    /// The value for `key`, made by `make` when it is not cached.
    pub fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> Arc<V>
    where
        Q: Hash + Equivalent<K> + ToOwned<Owned = K> + ?Sized,
    {
        let made: Result<_, std::convert::Infallible> = self
            .entries
            .get_or_insert_with(key, || Ok(Arc::new(make())));
        match made {
            Ok(value) => value,
        }
    }
}

/// A cached value with when it was made, and whether a refresh of it is
/// under way.
struct Stamped<V> {
    made: Instant,
    value: Arc<V>,
    refreshing: AtomicBool,
}

impl<V> Stamped<V> {
    fn new(value: V) -> Arc<Self> {
        Arc::new(Stamped {
            made: Instant::now(),
            value: Arc::new(value),
            refreshing: AtomicBool::new(false),
        })
    }
}

/// Values served up to `ttl` old and then refreshed in the background.
pub struct Refreshed<K, V> {
    ttl: Duration,
    entries: Arc<Cache<K, Arc<Stamped<V>>>>,
}

impl<K, V> Refreshed<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Refreshed {
            ttl,
            entries: Arc::new(Cache::new(capacity)),
        }
    }

    /// The value for `key`. `make` computes it: awaited here when nothing is
    /// cached yet, spawned as the one background refresh when the cached
    /// value is older than the time to live.
    pub async fn get<F, Fut, E>(&self, key: K, make: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let guard = match self.entries.get_value_or_guard_async(&key).await {
            Ok(entry) => {
                if entry.made.elapsed() >= self.ttl
                    && !entry.refreshing.swap(true, Ordering::AcqRel)
                {
                    self.refresh(key, entry.clone(), make());
                }
                return Ok(entry.value.clone());
            }
            Err(guard) => guard,
        };
        // When `make` fails the guard is dropped unfilled, and the next
        // reader (or one that waited) tries again.
        let entry = Stamped::new(make().await?);
        let _ = guard.insert(entry.clone());
        Ok(entry.value.clone())
    }

    fn refresh<Fut, E>(&self, key: K, stale: Arc<Stamped<V>>, making: Fut)
    where
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let entries = self.entries.clone();
        tokio::spawn(async move {
            match making.await {
                Ok(value) => entries.insert(key, Stamped::new(value)),
                Err(error) => {
                    // Keep serving the old value; a later reader tries again.
                    tracing::warn!(%error, "could not refresh a cached value");
                    stale.refreshing.store(false, Ordering::Release);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[test]
    fn versioned_values_are_made_once() {
        let cache = Versioned::new(10);
        assert_eq!(*cache.get_or_insert_with(&1, || "a"), "a");
        assert_eq!(*cache.get_or_insert_with(&1, || "changed"), "a");
        let texts: Versioned<String, usize> = Versioned::new(10);
        assert_eq!(*texts.get_or_insert_with("four", || 4), 4);
        assert_eq!(*texts.get_or_insert_with("four", || 5), 4);
    }

    #[tokio::test]
    async fn readers_of_a_stale_value_keep_it_while_one_refresh_runs() {
        let cache: Arc<Refreshed<(), usize>> =
            Arc::new(Refreshed::new(10, Duration::from_millis(20)));
        let made = Arc::new(AtomicUsize::new(0));
        let read = |cache: Arc<Refreshed<(), usize>>, made: Arc<AtomicUsize>| async move {
            let value = cache
                .get((), move || async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, String>(made.fetch_add(1, Ordering::SeqCst) + 1)
                })
                .await;
            *value.expect("made")
        };
        // Ten readers arrive together before anything is cached: one computes.
        let readers: Vec<_> = (0..10)
            .map(|_| tokio::spawn(read(cache.clone(), made.clone())))
            .collect();
        for reader in readers {
            assert_eq!(reader.await.expect("joined"), 1);
        }
        assert_eq!(made.load(Ordering::SeqCst), 1);

        // Once stale, readers get the old value at once; one refresh runs.
        tokio::time::sleep(Duration::from_millis(30)).await;
        for _ in 0..10 {
            let started = Instant::now();
            assert_eq!(read(cache.clone(), made.clone()).await, 1);
            assert!(
                started.elapsed() < Duration::from_millis(40),
                "a reader waited"
            );
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(made.load(Ordering::SeqCst), 2, "one refresh, not ten");
        assert_eq!(read(cache.clone(), made.clone()).await, 2);
    }
}
