//! What one index generation lets a search reuse (a word's expansion, a visibility's set of
//! documents), kept until the generation changes: every commit starts a new one, so nothing
//! kept can outlive the documents it was computed from.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Values of one index generation by key; beyond `bound` entries the cache starts over (a
/// bound on memory, not a policy: a generation lasts until the next commit).
pub struct GenerationCache<K, V> {
    generation: u64,
    entries: HashMap<K, Arc<V>>,
    bound: usize,
}

impl<K: Hash + Eq, V> GenerationCache<K, V> {
    pub fn new(bound: usize) -> Self {
        GenerationCache {
            generation: 0,
            entries: HashMap::new(),
            bound,
        }
    }

    fn at(&mut self, generation: u64) -> &mut HashMap<K, Arc<V>> {
        if self.generation != generation {
            self.generation = generation;
            self.entries.clear();
        }
        &mut self.entries
    }
}

/// The value kept under `key` for `generation`, or `compute`d (outside the lock: two searches
/// may compute the same value at once, and the second one's is kept) and kept.
pub fn kept_or<K: Hash + Eq, V, E>(
    cache: &Mutex<GenerationCache<K, V>>,
    generation: u64,
    key: K,
    compute: impl FnOnce() -> Result<V, E>,
) -> Result<Arc<V>, E> {
    if let Some(v) = cache.lock().expect("lock").at(generation).get(&key) {
        return Ok(v.clone());
    }
    let value = Arc::new(compute()?);
    let mut cache = cache.lock().expect("lock");
    let bound = cache.bound;
    let entries = cache.at(generation);
    if entries.len() >= bound {
        entries.clear();
    }
    entries.insert(key, value.clone());
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_for_its_generation_only_and_within_the_bound() {
        let cache = Mutex::new(GenerationCache::new(2));
        let get = |generation, key: &str, value: u32| {
            *kept_or(&cache, generation, key.to_owned(), || Ok::<_, ()>(value)).unwrap()
        };
        assert_eq!(get(1, "a", 10), 10);
        assert_eq!(get(1, "a", 11), 10, "kept");
        assert_eq!(get(2, "a", 12), 12, "a new generation starts over");
        assert_eq!(get(2, "b", 20), 20);
        assert_eq!(get(2, "c", 30), 30, "past the bound the cache starts over");
        assert_eq!(get(2, "a", 13), 13);
        let failed: Result<Arc<u32>, &str> = kept_or(&cache, 2, "d".to_owned(), || Err("no"));
        assert_eq!(failed.unwrap_err(), "no");
    }
}
