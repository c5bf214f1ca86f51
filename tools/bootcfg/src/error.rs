//! The crate's one error type: every message names the file (and line) or
//! the argument at fault.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a boot plan could not be made.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A configuration file says something the boot loader would refuse, or
    /// that this crate does not follow (and so cannot vouch for).
    Config {
        /// The configuration file, relative to the partition.
        file: String,
        /// Its line (1-based), 0 for the file as a whole.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A file the configuration names is not on the partition.
    Missing {
        /// The missing file, relative to the partition.
        file: String,
        /// The configuration file that names it.
        named_by: String,
        /// What the file is for (`kernel`, `fdt`, ...).
        what: &'static str,
    },
    /// The kernel command line lacks a parameter that was required.
    Param {
        /// The configuration file that holds the command line.
        file: String,
        /// The required `key=value`.
        want: String,
        /// The value found (`None`: the key is absent).
        found: Option<String>,
    },
    /// An image whose partition table cannot be used.
    Image {
        /// The image.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

impl Error {
    pub(crate) fn config(file: &str, line: usize, msg: impl Into<String>) -> Error {
        Error::Config {
            file: file.to_owned(),
            line,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Config { file, line: 0, msg } => write!(f, "{file}: {msg}"),
            Error::Config { file, line, msg } => write!(f, "{file}:{line}: {msg}"),
            Error::Missing {
                file,
                named_by,
                what,
            } => write!(f, "{named_by}: {what} {file} is not on the partition"),
            Error::Param {
                file,
                want,
                found: None,
            } => write!(f, "{file}: the command line has no {want}"),
            Error::Param {
                file,
                want,
                found: Some(v),
            } => {
                let key = want.split_once('=').map_or(want.as_str(), |(k, _)| k);
                write!(f, "{file}: the command line has {key}={v}, expected {want}")
            }
            Error::Image { path, msg } => write!(f, "{}: {msg}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
