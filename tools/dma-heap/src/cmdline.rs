//! The kernel command line (`/proc/cmdline`) and the `dmaheap.*` parameters
//! the test image uses.
//!
//! Dotted parameters are taken by the kernel as module parameters, so they
//! never reach init's argv or environment: they are read from
//! `/proc/cmdline`.

use crate::error::{Error, Result};

/// `/proc/cmdline`.
pub const PROC_CMDLINE: &str = "/proc/cmdline";

/// What the test image's init does (`dmaheap.run=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Run the test suites, print KTAP (the default).
    Test,
    /// Print the heap table and allocate 1 MiB from every heap.
    Demo,
}

/// A parsed kernel command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    params: Vec<(String, Option<String>)>,
}

impl Cmdline {
    /// Splits `text` like the kernel's `next_arg()`: on whitespace, with
    /// double quotes protecting spaces (the quotes are removed).
    pub fn parse(text: &str) -> Cmdline {
        let mut params = Vec::new();
        let mut cur = String::new();
        let mut in_word = false;
        let mut quoted = false;
        for c in text.chars() {
            if c == '"' {
                quoted = !quoted;
                in_word = true;
            } else if c.is_whitespace() && !quoted {
                if in_word {
                    params.push(split_param(&cur));
                    cur.clear();
                    in_word = false;
                }
            } else {
                cur.push(c);
                in_word = true;
            }
        }
        if in_word {
            params.push(split_param(&cur));
        }
        Cmdline { params }
    }

    /// Reads and parses `/proc/cmdline`.
    pub fn read() -> Result<Cmdline> {
        let text = std::fs::read_to_string(PROC_CMDLINE)
            .map_err(|e| Error::io("read", PROC_CMDLINE, e))?;
        Ok(Cmdline::parse(&text))
    }

    /// The value of the last `key=value` (the kernel lets later ones win);
    /// `Some("")` for a bare `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }

    /// `dmaheap.regions=a@1,b@2`: the reserved-memory nodes the test
    /// overlay added (full node names).
    pub fn regions(&self) -> Vec<String> {
        self.get("dmaheap.regions")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `dmaheap.run=`: `test` (default) or `demo`.
    pub fn run_mode(&self) -> Result<RunMode> {
        match self.get("dmaheap.run") {
            None | Some("test") => Ok(RunMode::Test),
            Some("demo") => Ok(RunMode::Demo),
            Some(other) => Err(Error::InvalidArgument {
                arg: "dmaheap.run",
                value: other.into(),
                msg: "expected 'test' or 'demo'".into(),
            }),
        }
    }
}

fn split_param(word: &str) -> (String, Option<String>) {
    match word.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (word.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params() {
        let c = Cmdline::parse(
            "console=ttyAMA0 quiet dmaheap.regions=camera@70000000,video@71000000, dmaheap.run=demo \
             msg=\"a b\" rdinit=/init -- extra\n",
        );
        assert_eq!(c.get("console"), Some("ttyAMA0"));
        assert_eq!(c.get("quiet"), Some(""));
        assert_eq!(c.get("msg"), Some("a b"));
        assert_eq!(c.get("missing"), None);
        assert_eq!(c.regions(), ["camera@70000000", "video@71000000"]);
        assert_eq!(c.run_mode().unwrap(), RunMode::Demo);
    }

    #[test]
    fn run_mode_default_and_errors() {
        assert_eq!(Cmdline::parse("").run_mode().unwrap(), RunMode::Test);
        assert!(Cmdline::parse("").regions().is_empty());
        assert_eq!(
            Cmdline::parse("dmaheap.run=test").run_mode().unwrap(),
            RunMode::Test
        );
        let err = Cmdline::parse("dmaheap.run=shell").run_mode().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid dmaheap.run 'shell': expected 'test' or 'demo'"
        );
        // Later values win, as in the kernel.
        assert_eq!(
            Cmdline::parse("dmaheap.run=shell dmaheap.run=demo")
                .run_mode()
                .unwrap(),
            RunMode::Demo
        );
    }
}
