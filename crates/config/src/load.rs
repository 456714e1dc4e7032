//! Resolution of a configuration: built-in defaults <- `--cfg FILE.yaml` <- `--key value` flags,
//! then typing (serde) and range checks, each error naming the key and where it was written.

use crate::config::Config;
use crate::error::{ConfigError, Origin, closest};
use crate::keys::{self, key_docs};
use crate::yaml_doc::{YamlDoc, describe};
use serde_yaml_ng::{Mapping, Value};
use std::collections::HashMap;
use std::path::Path;

/// Merges configuration layers and builds a typed [`Config`].
#[derive(Debug, Clone)]
pub struct ConfigLoader {
    values: Mapping,
    origins: HashMap<String, Origin>,
}

impl Default for ConfigLoader {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigLoader {
    /// Starts from the built-in defaults.
    pub fn new() -> Self {
        Self {
            values: keys::default_mapping().clone(),
            origins: HashMap::new(),
        }
    }

    /// Applies every key of a YAML config file (an original fdfat config loads unchanged).
    pub fn merge_file(&mut self, path: &Path) -> Result<&mut Self, ConfigError> {
        let doc = YamlDoc::read(path, "config file")?;
        self.merge_doc(&doc)
    }

    /// Applies every key of a parsed YAML document.
    pub fn merge_doc(&mut self, doc: &YamlDoc) -> Result<&mut Self, ConfigError> {
        for (key, value) in doc.entries() {
            self.set(key, value.clone(), doc.origin(key))?;
        }
        Ok(self)
    }

    /// Applies a `--key value` flag; the value is read as a YAML scalar (`0.01`, `true`, `null`),
    /// and a comma-separated value fills a list key (`--pose_buckets 30,60,90`).
    pub fn merge_flag(&mut self, key: &str, raw: &str) -> Result<&mut Self, ConfigError> {
        let is_list = keys::canonical(key)
            .and_then(keys::doc)
            .is_some_and(|d| d.default.is_sequence());
        let value = parse_flag_value(raw, is_list);
        self.set(key, value, Origin::Flag)
    }

    /// Sets one key from a given origin, rejecting unknown keys with a suggestion.
    pub fn set(
        &mut self,
        key: &str,
        value: Value,
        origin: Origin,
    ) -> Result<&mut Self, ConfigError> {
        let Some(name) = keys::canonical(key) else {
            let names = key_docs().iter().map(|d| d.name.as_str());
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                suggestion: closest(key, names),
                origin,
            });
        };
        self.values.insert(Value::String(name.to_string()), value);
        self.origins.insert(name.to_string(), origin);
        Ok(self)
    }

    /// Where a key's current value came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    /// Types every key and checks ranges.
    pub fn build(&self) -> Result<Config, ConfigError> {
        let config: Config = match serde_yaml_ng::from_value(Value::Mapping(self.values.clone())) {
            Ok(config) => config,
            Err(err) => return Err(self.blame(err)),
        };
        crate::validate::check(&config, |key| self.origin(key), |key| self.raw(key))?;
        Ok(config)
    }

    /// The raw value of a key, for messages.
    pub fn raw(&self, key: &str) -> String {
        self.values
            .get(key)
            .map(describe)
            .unwrap_or_else(|| "nothing".into())
    }

    /// Finds the key whose value made typing fail, by typing each changed key alone.
    fn blame(&self, err: serde_yaml_ng::Error) -> ConfigError {
        let mut changed: Vec<&String> = self.origins.keys().collect();
        changed.sort();
        for key in changed {
            let mut single = keys::default_mapping().clone();
            let value = self
                .values
                .get(key.as_str())
                .cloned()
                .unwrap_or(Value::Null);
            single.insert(Value::String(key.clone()), value.clone());
            if let Err(e) = serde_yaml_ng::from_value::<Config>(Value::Mapping(single)) {
                return ConfigError::InvalidValue {
                    key: key.clone(),
                    expected: expected_from(&e.to_string(), key),
                    found: describe(&value),
                    origin: self.origin(key),
                };
            }
        }
        ConfigError::InvalidValue {
            key: "?".into(),
            expected: err.to_string(),
            found: String::new(),
            origin: Origin::Default,
        }
    }
}

/// Reads a flag value as YAML, falling back to the plain string.
fn parse_flag_value(raw: &str, is_list: bool) -> Value {
    if raw.is_empty() {
        return Value::Null;
    }
    let parsed: Value = serde_yaml_ng::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    if is_list && !parsed.is_sequence() && !parsed.is_null() {
        let items = raw
            .split(',')
            .map(|item| {
                serde_yaml_ng::from_str(item.trim()).unwrap_or_else(|_| Value::String(item.into()))
            })
            .collect();
        return Value::Sequence(items);
    }
    parsed
}

/// Turns serde's message into the expected type or set of names.
fn expected_from(message: &str, key: &str) -> String {
    let message = message.trim_start_matches(&format!("{key}: "));
    if let Some((_, expected)) = message.split_once("expected ") {
        let expected = expected.split(" at line").next().unwrap_or(expected);
        return expected
            .replace("u64", "a non-negative integer")
            .replace("usize", "a non-negative integer")
            .replace("f64", "a number")
            .replace("i64", "an integer");
    }
    message.to_string()
}

/// Resolves a configuration from an optional config file and `--key value` flags.
pub fn resolve(cfg_file: Option<&Path>, flags: &[(String, String)]) -> Result<Config, ConfigError> {
    let mut loader = ConfigLoader::new();
    if let Some(path) = cfg_file {
        loader.merge_file(path)?;
    }
    for (key, value) in flags {
        loader.merge_flag(key, value)?;
    }
    loader.build()
}

/// Resolves a configuration from the built-in defaults and `key value` pairs read as
/// `--key value` flags, without a config file: [`resolve`] for callers that hold the pairs as
/// string slices (tests, benchmarks, examples).
///
/// ```
/// let cfg = fdfat_config::resolve_flags(&[("face_cls", "true"), ("lr", "0.01")]).unwrap();
/// assert!(cfg.face_cls);
/// assert_eq!(cfg.lr, 0.01);
/// assert!(fdfat_config::resolve_flags(&[("bach_size", "3")]).is_err());
/// ```
pub fn resolve_flags(flags: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut loader = ConfigLoader::new();
    for (key, value) in flags {
        loader.merge_flag(key, value)?;
    }
    loader.build()
}

/// Loads a configuration file written by [`crate::run_dir::save_config`] (or any config file).
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    resolve(Some(path), &[])
}
