//! A YAML mapping read from a file, remembering the line of each top-level key.

use crate::error::{ConfigError, Origin};
use serde_yaml_ng::{Mapping, Value};
use std::path::{Path, PathBuf};

/// A top-level YAML mapping and where its keys are written.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    /// The file (for messages).
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// The parsed top-level mapping (empty for an empty file).
    pub mapping: Mapping,
}

impl YamlDoc {
    /// Reads and parses `path`; `what` names the kind of file in errors.
    pub fn read(path: &Path, what: &'static str) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            what,
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(text, path, what)
    }

    /// Parses `text` as if read from `path`.
    pub fn parse(text: String, path: &Path, what: &'static str) -> Result<Self, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            what,
            path: path.to_path_buf(),
            message,
        };
        let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| syntax(e.to_string()))?;
        let mapping = match value {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m,
            other => {
                return Err(syntax(format!(
                    "expected a mapping of keys, found {}",
                    describe(&other)
                )));
            }
        };
        for key in mapping.keys() {
            if !key.is_string() {
                return Err(syntax(format!("key {} is not a string", describe(key))));
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            text,
            mapping,
        })
    }

    /// Top-level `(key, value)` pairs in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.mapping
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|k| (k, v)))
    }

    /// Where `key` is written in this file.
    pub fn origin(&self, key: &str) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: self.line_of(key),
        }
    }

    /// 1-based line of a top-level `key:` in the text.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                let unquoted = line.trim_start_matches(['"', '\'']);
                unquoted
                    .strip_prefix(key)
                    .map(|rest| {
                        rest.trim_start_matches(['"', '\''])
                            .trim_start()
                            .starts_with(':')
                    })
                    .unwrap_or(false)
                    && !line.starts_with([' ', '\t', '#'])
            })
            .map(|i| i + 1)
    }
}

/// A short description of a YAML value for messages: `string "abc"`, `integer 3`, ...
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("float {n}"),
        Value::Number(n) => format!("integer {n}"),
        Value::String(s) => format!("string \"{s}\""),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a mapping".into(),
        Value::Tagged(t) => format!("tagged value {}", t.tag),
    }
}
