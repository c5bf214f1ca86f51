//! The crate's one error type.
//!
//! Only *unusable input* is an error (exit status 2): a log that cannot be
//! read, a report that cannot be written. Everything wrong *inside* a log (a
//! failed test, a missing result, a kernel splat) is a [`crate::Problem`] in
//! the report instead, with the log line at fault.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why `bootlog` could not produce a verdict.
#[derive(Debug)]
pub enum Error {
    /// The input file could not be read.
    Read {
        /// The path as given on the command line (`-` for standard input).
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The `--expect-cases` list is not one.
    ExpectCases {
        /// The list file.
        path: PathBuf,
        /// The line at fault.
        line: usize,
        /// What is wrong with it.
        msg: String,
    },
    /// The bench figures of a log are not usable.
    Bench {
        /// The log.
        path: PathBuf,
        /// The line at fault; 0 when the log has no figures.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// An output file could not be written.
    WriteFile {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The report could not be written to standard output.
    Write(io::Error),
    /// The report could not be serialised as JSON.
    Json(serde_json::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } if path.as_os_str() == "-" => {
                write!(f, "cannot read standard input: {source}")
            }
            Error::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            Error::ExpectCases { path, line, msg } => {
                write!(f, "{}:{line}: not a case list: {msg}", path.display())
            }
            Error::Bench { path, line: 0, msg } => write!(f, "{}: {msg}", path.display()),
            Error::Bench { path, line, msg } => {
                write!(f, "{}:{line}: not a bench figure: {msg}", path.display())
            }
            Error::WriteFile { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
            Error::Write(e) => write!(f, "cannot write the report: {e}"),
            Error::Json(e) => write!(f, "cannot serialise the report as JSON: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } => Some(source),
            Error::ExpectCases { .. } | Error::Bench { .. } => None,
            Error::WriteFile { source, .. } => Some(source),
            Error::Write(e) => Some(e),
            Error::Json(e) => Some(e),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_error_names_the_file() {
        let e = Error::Read {
            path: PathBuf::from("logs/virt-test.log"),
            source: io::Error::new(io::ErrorKind::NotFound, "No such file or directory"),
        };
        assert_eq!(
            e.to_string(),
            "cannot read logs/virt-test.log: No such file or directory"
        );
        let stdin = Error::Read {
            path: PathBuf::from("-"),
            source: io::Error::new(io::ErrorKind::InvalidData, "bad"),
        };
        assert_eq!(stdin.to_string(), "cannot read standard input: bad");
    }
}
