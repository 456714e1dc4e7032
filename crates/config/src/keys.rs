//! The key registry: names, defaults and comments of every key, read from the embedded
//! `configs/default.yaml` (the single source of defaults and their documentation).

use serde_yaml_ng::{Mapping, Value};
use std::sync::OnceLock;

/// The built-in default configuration, as shipped in `configs/default.yaml`.
pub const DEFAULT_YAML: &str = include_str!("../../../configs/default.yaml");

/// Alternative spellings accepted for a key: `(alias, key)`.
pub const ALIASES: &[(&str, &str)] = &[("multiplier", "muliplier")];

/// One configuration key as documented in `configs/default.yaml`.
#[derive(Debug, Clone)]
pub struct KeyDoc {
    /// The key.
    pub name: String,
    /// Its default value.
    pub default: Value,
    /// The one-line comment after it.
    pub comment: String,
    /// The section heading it is listed under (`general`, `data`, ...).
    pub section: String,
}

/// Every key in file order.
pub fn key_docs() -> &'static [KeyDoc] {
    static DOCS: OnceLock<Vec<KeyDoc>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let defaults = default_mapping();
        let mut section = String::new();
        let mut docs = Vec::new();
        for line in DEFAULT_YAML.lines() {
            if let Some(heading) = line.strip_prefix("# ") {
                if !heading.contains('.') {
                    section = heading.trim().to_string();
                }
                continue;
            }
            let Some((name, rest)) = line.split_once(':') else {
                continue;
            };
            if name.starts_with([' ', '#']) || name.is_empty() {
                continue;
            }
            let comment = rest.split_once(" # ").map(|(_, c)| c.trim()).unwrap_or("");
            let default = defaults.get(name).cloned().unwrap_or(Value::Null);
            docs.push(KeyDoc {
                name: name.to_string(),
                default,
                comment: comment.to_string(),
                section: section.clone(),
            });
        }
        docs
    })
}

/// The defaults as a YAML mapping.
pub fn default_mapping() -> &'static Mapping {
    static MAP: OnceLock<Mapping> = OnceLock::new();
    MAP.get_or_init(|| {
        serde_yaml_ng::from_str(DEFAULT_YAML).expect("configs/default.yaml is valid YAML (tested)")
    })
}

/// The canonical name of `key` (resolving aliases), if it is a known key.
pub fn canonical(key: &str) -> Option<&'static str> {
    let key = ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map(|(_, k)| *k)
        .unwrap_or(key);
    key_docs()
        .iter()
        .find(|d| d.name == key)
        .map(|d| d.name.as_str())
}

/// The documentation of a key.
pub fn doc(key: &str) -> Option<&'static KeyDoc> {
    key_docs().iter().find(|d| d.name == key)
}
