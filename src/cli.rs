//! The command line: `--cfg FILE.yaml` plus one `--key value` flag per configuration key, built
//! from the key registry so `fdfat --help` lists every key with its default and comment.

use clap::{Arg, ArgAction, Command};
use fdfat_config::keys::{ALIASES, KeyDoc, key_docs};
use fdfat_config::{ConfigError, Origin, closest};
use serde_yaml_ng::Value;
use std::path::PathBuf;

/// What the user asked for: an optional config file and the flags in command-line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `--cfg FILE.yaml`.
    pub cfg_file: Option<PathBuf>,
    /// `(key, raw value)` for each `--key value` flag.
    pub flags: Vec<(String, String)>,
}

/// The `fdfat` command with one flag per key.
pub fn command() -> Command {
    let mut cmd = Command::new("fdfat")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Train, evaluate, export and run ultra-light facial landmark models (fdfat) on burn")
        .long_about(
            "Train, evaluate, export and run ultra-light facial landmark models (fdfat) on burn.\n\n\
             Configuration resolves as built-in defaults <- --cfg FILE.yaml <- --key value flags.\n\
             Every key of configs/default.yaml is a flag; the original fdfat config files load unchanged.",
        )
        .arg(
            Arg::new("cfg")
                .long("cfg")
                .value_name("FILE.yaml")
                .help("configuration file applied over the built-in defaults"),
        );
    let mut heading = String::new();
    for doc in key_docs() {
        if doc.section != heading {
            heading = doc.section.clone();
            cmd = cmd.next_help_heading(format!("{heading} keys"));
        }
        cmd = cmd.arg(key_arg(doc));
    }
    cmd
}

fn key_arg(doc: &KeyDoc) -> Arg {
    let mut arg = Arg::new(doc.name.clone())
        .long(doc.name.clone())
        .value_name(value_name(&doc.default))
        .action(ArgAction::Set)
        .overrides_with(doc.name.clone())
        .allow_hyphen_values(true)
        .help(format!("{} [default: {}]", doc.comment, show(&doc.default)));
    for (alias, key) in ALIASES {
        if *key == doc.name {
            arg = arg.alias(*alias);
        }
    }
    arg
}

fn value_name(default: &Value) -> &'static str {
    match default {
        Value::Bool(_) => "BOOL",
        Value::Number(n) if n.is_f64() => "FLOAT",
        Value::Number(_) => "INT",
        Value::Sequence(_) => "LIST",
        _ => "VALUE",
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "none".into(),
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other)
            .map(|s| s.trim().replace('\n', " "))
            .unwrap_or_default(),
    }
}

/// Parses the arguments (without the program name handled by clap). Unknown `--flags` become a
/// [`ConfigError::UnknownKey`] with the closest key, like an unknown key in a file.
pub fn parse(args: &[String]) -> Result<Result<Invocation, ConfigError>, clap::Error> {
    for arg in args.iter().skip(1) {
        let Some(flag) = arg.strip_prefix("--") else {
            continue;
        };
        let name = flag.split('=').next().unwrap_or(flag);
        let known = name == "cfg"
            || name == "help"
            || name == "version"
            || fdfat_config::keys::canonical(name).is_some();
        if !known && !name.is_empty() {
            let names = key_docs().iter().map(|d| d.name.as_str()).chain(["cfg"]);
            return Ok(Err(ConfigError::UnknownKey {
                key: name.to_string(),
                suggestion: closest(name, names),
                origin: Origin::Flag,
            }));
        }
    }
    let matches = command().try_get_matches_from(args)?;
    let flags = key_docs()
        .iter()
        .filter_map(|doc| {
            let value = matches.get_one::<String>(&doc.name)?;
            let index = matches.index_of(&doc.name).unwrap_or(0);
            Some((index, doc.name.clone(), value.clone()))
        })
        .collect::<Vec<_>>();
    let mut flags = flags;
    flags.sort_by_key(|(index, _, _)| *index);
    Ok(Ok(Invocation {
        cfg_file: matches.get_one::<String>("cfg").map(PathBuf::from),
        flags: flags.into_iter().map(|(_, k, v)| (k, v)).collect(),
    }))
}
