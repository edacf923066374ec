//! [`Recent`]: a map with a capacity that keeps the newest entries. Inserting into a full map
//! forgets the entry inserted (or refreshed) longest ago, so the model stays right about the
//! newest activity, which is what subscribers see; what is forgotten is the oldest channel,
//! most likely one whose end was missed.
//!
//! The model looks a channel up in these maps for nearly every AMI event, so they hash with
//! foldhash (randomly seeded per map) rather than SipHash: the keys are uniqueids, channel and
//! device names that Asterisk makes, not free text of a client.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use foldhash::fast::RandomState;

/// A map of at most `cap` entries; a full map forgets its oldest entry to take a new one.
///
/// Order is kept in a queue of `(generation, key)`; entries removed or refreshed leave stale
/// slots behind, which are skipped when evicting and compacted away when they outnumber the
/// live entries, so memory stays within a constant factor of `cap`.
#[derive(Clone, Debug)]
pub struct Recent<K, V> {
    map: HashMap<K, (u64, V), RandomState>,
    order: VecDeque<(u64, K)>,
    next: u64,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V> Recent<K, V> {
    /// An empty map holding at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::default(),
            order: VecDeque::new(),
            next: 0,
            cap: cap.max(1),
        }
    }

    /// Inserts or replaces `key` (it becomes the newest); returns the entry forgotten to make
    /// room, if one was.
    pub fn insert(&mut self, key: K, value: V) -> Option<(K, V)> {
        let evicted = if self.map.contains_key(&key) {
            None
        } else if self.map.len() >= self.cap {
            self.pop_oldest()
        } else {
            None
        };
        let generation = self.next;
        self.next += 1;
        self.map.insert(key.clone(), (generation, value));
        self.order.push_back((generation, key));
        self.compact();
        evicted
    }

    /// Inserts `key` unless it is there already.
    pub fn insert_if_absent(&mut self, key: K, value: V) {
        if !self.map.contains_key(&key) {
            self.insert(key, value);
        }
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map(|(_, v)| v)
    }

    /// The value of `key`, mutable (its age is unchanged).
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    /// Whether `key` is there.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.contains_key(key)
    }

    /// Removes `key`.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let v = self.map.remove(key).map(|(_, v)| v);
        self.compact();
        v
    }

    /// Forgets the oldest entry.
    pub fn pop_oldest(&mut self) -> Option<(K, V)> {
        while let Some((generation, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|(g, _)| *g == generation) {
                return self.map.remove(&key).map(|(_, v)| (key, v));
            }
        }
        None
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (_, v))| (k, v))
    }

    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 16 {
            let map = &self.map;
            self.order
                .retain(|(g, k)| map.get(k).is_some_and(|(live, _)| live == g));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_forgets_the_oldest_and_keeps_the_newest() {
        let mut r = Recent::new(3);
        for i in 0..3 {
            assert_eq!(r.insert(i, i * 10), None);
        }
        r.insert(0, 0); // refreshed: now the newest
        assert_eq!(r.insert(3, 30), Some((1, 10)));
        assert_eq!(r.insert(4, 40), Some((2, 20)));
        assert_eq!(r.len(), 3);
        assert!(r.contains_key(&0) && r.contains_key(&3) && r.contains_key(&4));
    }

    #[test]
    fn removed_entries_leave_no_trace_and_the_order_queue_stays_bounded() {
        let mut r = Recent::new(4);
        for i in 0..10_000 {
            r.insert(i, ());
            r.remove(&i);
            r.insert(i % 2, ());
        }
        assert_eq!(r.len(), 2);
        assert!(r.order.len() <= 2 * r.len() + 17, "{}", r.order.len());
        assert_eq!(r.remove(&5), None);
    }
}
