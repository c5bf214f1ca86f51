//! The crate's one error type.
//!
//! An [`Error`] is *unusable input* (exit status 2): a file that cannot be read, a blob that is
//! not a device tree, an overlay that does not apply or is for another board, a board table that
//! does not parse, a tool that cannot be run. Everything wrong *inside* a usable tree is a
//! [`crate::check::Problem`] in the report instead (exit status 1).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why `dtregion` could not produce a verdict.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read.
    Read {
        /// The path as given.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A file, or standard output (no path), could not be written.
    Write {
        /// The path, or `None` for standard output.
        path: Option<PathBuf>,
        /// What the OS said.
        source: io::Error,
    },
    /// A file is not a usable device tree blob.
    Blob {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: heap_rules::Error,
    },
    /// A file given as an overlay is a complete tree.
    NotAnOverlay {
        /// The file.
        path: PathBuf,
    },
    /// The file given as the base tree is an overlay.
    IsAnOverlay {
        /// The file.
        path: PathBuf,
    },
    /// An overlay names boards (its root `compatible`) and the base tree is none of them.
    WrongBoard {
        /// The overlay.
        overlay: PathBuf,
        /// The overlay's root `compatible`.
        wants: Vec<String>,
        /// The base tree's root `compatible`.
        has: Vec<String>,
    },
    /// An external tool could not be started.
    Tool {
        /// The tool.
        tool: &'static str,
        /// What the OS said.
        source: io::Error,
    },
    /// An external tool failed.
    ToolFailed {
        /// The tool.
        tool: &'static str,
        /// What it was doing, with the files involved.
        what: String,
        /// Its standard error.
        stderr: String,
    },
    /// The board table does not parse or holds an impossible value.
    Table {
        /// The table.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No board of that name in the table.
    UnknownBoard {
        /// The name asked for.
        name: String,
        /// The table.
        table: PathBuf,
        /// The names it has.
        known: Vec<String>,
    },
    /// A command needs an input that was not given.
    Missing(String),
    /// `dtregion new` found no free spot for the region (exit status 1: the board is full, the
    /// input is fine).
    NoRoom(String),
    /// The report could not be serialised.
    Json(serde_json::Error),
}

impl Error {
    /// The exit status for this error: 2, unusable input; 1 when there is no room for a new
    /// region.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoRoom(_) => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Write { path: None, source } => {
                write!(f, "cannot write to standard output: {source}")
            }
            Error::Write {
                path: Some(path),
                source,
            } => write!(f, "cannot write {}: {source}", path.display()),
            Error::Blob { path, source } => write!(f, "{}: {source}", path.display()),
            Error::NotAnOverlay { path } => write!(
                f,
                "{}: not an overlay (no fragment with __overlay__): compile overlays with dtc -@ from a /plugin/ source",
                path.display()
            ),
            Error::IsAnOverlay { path } => write!(
                f,
                "{}: is an overlay, not a base tree: give the board's DTB first, then its overlays",
                path.display()
            ),
            Error::WrongBoard { overlay, wants, has } => write!(
                f,
                "{}: overlay for another board: it is for {}, the base tree is {}",
                overlay.display(),
                quoted(wants),
                quoted(has)
            ),
            Error::Tool { tool, source } if source.kind() == io::ErrorKind::NotFound => write!(
                f,
                "{tool} not found: install device-tree-compiler (Debian) or run scripts/setup-host"
            ),
            Error::Tool { tool, source } => write!(f, "cannot run {tool}: {source}"),
            Error::ToolFailed { tool, what, stderr } => {
                write!(f, "{tool} failed {what}")?;
                let stderr = stderr.trim();
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            Error::Table { path, message } => write!(f, "{}: {message}", path.display()),
            Error::UnknownBoard { name, table, known } => write!(
                f,
                "no board {name} in {} (boards: {})",
                table.display(),
                known.join(", ")
            ),
            Error::Missing(what) | Error::NoRoom(what) => f.write_str(what),
            Error::Json(e) => write!(f, "cannot serialise the report as JSON: {e}"),
        }
    }
}

fn quoted(list: &[String]) -> String {
    if list.is_empty() {
        return "(no compatible)".into();
    }
    list.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. }
            | Error::Write { source, .. }
            | Error::Tool { source, .. } => Some(source),
            Error::Blob { source, .. } => Some(source),
            Error::Json(e) => Some(e),
            _ => None,
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
    fn messages_name_the_file_at_fault() {
        let e = Error::Blob {
            path: "x.dtb".into(),
            source: heap_rules::Error::BadMagic { found: 0x7f454c46 },
        };
        assert_eq!(
            e.to_string(),
            "x.dtb: not a device tree blob: bad magic 0x7f454c46 (a DTB starts with 0xd00dfeed)"
        );
        let e = Error::WrongBoard {
            overlay: "rpi4.dtbo".into(),
            wants: vec!["raspberrypi,4-model-b".into()],
            has: vec!["fsl,imx8mp-evk".into(), "fsl,imx8mp".into()],
        };
        assert_eq!(
            e.to_string(),
            "rpi4.dtbo: overlay for another board: it is for \"raspberrypi,4-model-b\", the base tree is \"fsl,imx8mp-evk\", \"fsl,imx8mp\""
        );
        let e = Error::Tool {
            tool: "fdtoverlay",
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert!(e
            .to_string()
            .starts_with("fdtoverlay not found: install device-tree-compiler"));
    }
}
