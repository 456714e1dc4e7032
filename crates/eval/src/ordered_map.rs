//! Serde helpers writing a `Vec<(String, f64)>` as a JSON object whose keys keep their order
//! (the scheme's part order), and reading it back in document order.

use serde::de::{MapAccess, Visitor};
use serde::{Deserializer, Serializer};
use std::fmt;

/// Writes the pairs as an object, in order.
pub fn serialize<S: Serializer>(pairs: &[(String, f64)], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// Reads an object into pairs, in document order.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, f64)>, D::Error> {
    struct PairsVisitor;
    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(String, f64)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of name -> number")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut pairs = Vec::new();
            while let Some(entry) = map.next_entry()? {
                pairs.push(entry);
            }
            Ok(pairs)
        }
    }
    deserializer.deserialize_map(PairsVisitor)
}
