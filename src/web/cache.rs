//! Small in-process caches for values that are costly to compute and safe
//! to serve a little stale or that never go stale (keyed by version).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// One value, recomputed when older than its time to live.
pub struct Expiring<T> {
    ttl: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Expiring<T> {
    pub fn new(ttl: Duration) -> Self {
        Expiring {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The cached value if fresh.
    pub fn get(&self) -> Option<Arc<T>> {
        let slot = self
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let mut slot = self
            .slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some((Instant::now(), value.clone()));
        value
    }
}

/// Values keyed by something that changes whenever the value would (such as
/// a row id with its version), so entries never go stale; the map is simply
/// emptied when it grows past `capacity`.
pub struct Versioned<K, V> {
    capacity: usize,
    map: Mutex<HashMap<K, Arc<V>>>,
}

impl<K: Eq + Hash, V> Versioned<K, V> {
    pub fn new(capacity: usize) -> Self {
        Versioned {
            capacity,
            map: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(key).cloned()
    }

    pub fn insert(&self, key: K, value: V) -> Arc<V> {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.len() >= self.capacity {
            map.clear();
        }
        let value = Arc::new(value);
        map.insert(key, value.clone());
        value
    }

    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> Arc<V> {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(value) = map.get(&key) {
            return value.clone();
        }
        if map.len() >= self.capacity {
            map.clear();
        }
        let value = Arc::new(make());
        map.insert(key, value.clone());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiring_values_expire() {
        let cache = Expiring::new(Duration::from_millis(0));
        cache.put(1);
        assert_eq!(cache.get(), None);
        let cache = Expiring::new(Duration::from_secs(60));
        cache.put(2);
        assert_eq!(cache.get().as_deref(), Some(&2));
    }

    #[test]
    fn versioned_values_are_made_once_and_bounded() {
        let cache = Versioned::new(2);
        assert_eq!(*cache.get_or_insert_with(1, || "a"), "a");
        assert_eq!(*cache.get_or_insert_with(1, || "changed"), "a");
        cache.get_or_insert_with(2, || "b");
        cache.get_or_insert_with(3, || "c");
        assert_eq!(
            *cache.get_or_insert_with(1, || "again"),
            "again",
            "emptied when full"
        );
    }
}
