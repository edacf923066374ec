//! [`ScopeSet`]: the agents or the queues of a ticket's [`Filter`](super::Filter), a sorted
//! slice without duplicates. A ticket's filter lives as long as the ticket and is read at every
//! event published, so it is kept as small as it can be (its names and one allocation, where a
//! `BTreeSet` takes a node of eleven slots even for one name) and looked up by binary search.

use std::borrow::Borrow;

/// A sorted set of names, built once and then only read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScopeSet<T>(Box<[T]>);

impl<T> Default for ScopeSet<T> {
    fn default() -> Self {
        ScopeSet(Box::new([]))
    }
}

impl<T: Ord> ScopeSet<T> {
    /// True if `value` is in the set.
    pub fn contains<Q>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.binary_search_by(|t| t.borrow().cmp(value)).is_ok()
    }
}

impl<T> ScopeSet<T> {
    /// How many names.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T: Ord> FromIterator<T> for ScopeSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut names: Vec<T> = iter.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        ScopeSet(names.into_boxed_slice())
    }
}

impl<'a, T> IntoIterator for &'a ScopeSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_without_duplicates_and_found_by_value() {
        let set: ScopeSet<String> = ["q2", "q1", "q2", "q10"]
            .map(String::from)
            .into_iter()
            .collect();
        let names: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(names, ["q1", "q10", "q2"]);
        assert_eq!(set.len(), 3);
        for name in ["q1", "q10", "q2"] {
            assert!(set.contains(name));
        }
        assert!(!set.contains("q3"));
        assert!(!set.contains(""));
        let empty: ScopeSet<String> = ScopeSet::default();
        assert!(empty.is_empty() && !empty.contains("q1"));
    }
}
