//! A map kept as a list, for the handful of entries a call holds (files
//! being received, people): a `HashMap<K, V>` is its own hashing and table
//! code in the download for each key and value type, a list is a few loops.

#[derive(Debug)]
pub struct ListMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for ListMap<K, V> {
    fn default() -> Self {
        ListMap(Vec::new())
    }
}

impl<K: PartialEq, V> ListMap<K, V> {
    /// Sets `key`'s value; returns the one it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let old = self.remove(&key);
        self.0.push((key, value));
        old
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn drain(&mut self) -> impl Iterator<Item = (K, V)> + '_ {
        self.0.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::ListMap;

    #[test]
    fn behaves_as_a_map() {
        let mut m = ListMap::default();
        assert_eq!(m.insert("a", 1), None);
        assert_eq!(m.insert("b", 2), None);
        assert_eq!(m.insert("a", 3), Some(1), "one entry per key");
        assert_eq!((m.len(), m.get(&"a"), m.get(&"c")), (2, Some(&3), None));
        *m.get_mut(&"b").unwrap() += 10;
        m.retain(|_, v| *v > 5);
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(&"b", &12)]);
        assert_eq!(m.remove(&"b"), Some(12));
        assert!(m.is_empty());
    }
}
