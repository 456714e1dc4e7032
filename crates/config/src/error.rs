//! Configuration errors: each names the key, file and line (or flag) it comes from.

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in `configs/default.yaml`.
    Default,
    /// A YAML file, at a 1-based line when known.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key.
        line: Option<usize>,
    },
    /// A `--key value` command-line flag.
    Flag,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the built-in defaults"),
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Flag => f.write_str("the command line"),
        }
    }
}

/// Everything that can go wrong while resolving a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {what} `{}`: {source}", path.display())]
    Io {
        /// What the file is (config, data YAML, landmark scheme).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not valid YAML, or not a mapping.
    #[error("{} is not a valid {what}: {message}", path.display())]
    Syntax {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Parser message (with line and column).
        message: String,
    },
    /// A key that no configuration has.
    #[error("unknown key `{key}` in {origin}{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The closest valid key, if any is close.
        suggestion: Option<String>,
        /// Where it was written.
        origin: Origin,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value for `{key}` in {origin}: expected {expected}, found {found}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The expected type or range.
        expected: String,
        /// The value found.
        found: String,
        /// Where it was written.
        origin: Origin,
    },
    /// A key that must be set for this task is not.
    #[error("`{key}` must be set for {context}")]
    Missing {
        /// The key.
        key: String,
        /// Why it is needed.
        context: String,
    },
    /// A file named by the configuration does not exist.
    #[error("{what} `{}` does not exist (set by `{key}`)", path.display())]
    MissingFile {
        /// What the file is.
        what: &'static str,
        /// The key naming it.
        key: String,
        /// The path.
        path: PathBuf,
    },
}

/// The closest name among `candidates` to `key`, when it is close enough to be a likely typo.
pub fn closest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(key, c), c))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}
