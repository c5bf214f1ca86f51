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
    /// Run the benchmark and print its tables.
    Bench,
}

/// How the test image's init ends the boot (`dmaheap.end=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndAction {
    /// `reboot(LINUX_REBOOT_CMD_POWER_OFF)` (the default).
    PowerOff,
    /// `reboot(LINUX_REBOOT_CMD_RESTART)`: for QEMU run with `-no-reboot`,
    /// where a reset ends the boot (see `scripts/boot`). A failed restart
    /// halts in the kernel ("Reboot failed -- System halted"); a failed
    /// power-off returns to `do_exit()` of PID 1 with interrupts disabled,
    /// a WARNING and then a panic.
    Restart,
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

    /// Every parameter in order: `(key, value)`, `None` for a bare `key`.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// The parameters for module `module` (`module.key=value`), in order,
    /// as `(key, value)`. Like the kernel, `-` and `_` are the same in the
    /// module name.
    pub fn module_params(&self, module: &str) -> Vec<(&str, Option<&str>)> {
        let norm = |s: &str| s.replace('-', "_");
        let module = norm(module);
        self.params()
            .filter_map(|(k, v)| {
                let (m, key) = k.split_once('.')?;
                (norm(m) == module && !key.is_empty()).then_some((key, v))
            })
            .collect()
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

    /// `dmaheap.suites=NAME,...`: the suites to run, in their usual order;
    /// `None` (the default) for all of them.
    pub fn suites(&self) -> Option<Vec<String>> {
        self.get("dmaheap.suites").map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    /// `dmaheap.load=`: `now` (default: init loads the coherent heap
    /// module) or `defer` (init leaves it to the `coherent_load_faults`
    /// suite): whether it is `defer`.
    pub fn load_deferred(&self) -> Result<bool> {
        match self.get("dmaheap.load") {
            None | Some("now") => Ok(false),
            Some("defer") => Ok(true),
            Some(other) => Err(Error::InvalidArgument {
                arg: "dmaheap.load",
                value: other.into(),
                msg: "expected 'now' or 'defer'".into(),
            }),
        }
    }

    /// `dmaheap.run=`: `test` (default), `demo` or `bench`.
    pub fn run_mode(&self) -> Result<RunMode> {
        match self.get("dmaheap.run") {
            None | Some("test") => Ok(RunMode::Test),
            Some("demo") => Ok(RunMode::Demo),
            Some("bench") => Ok(RunMode::Bench),
            Some(other) => Err(Error::InvalidArgument {
                arg: "dmaheap.run",
                value: other.into(),
                msg: "expected 'test', 'demo' or 'bench'".into(),
            }),
        }
    }

    /// `dmaheap.end=`: `poweroff` (default) or `reboot`.
    pub fn end_action(&self) -> Result<EndAction> {
        match self.get("dmaheap.end") {
            None | Some("poweroff") => Ok(EndAction::PowerOff),
            Some("reboot") => Ok(EndAction::Restart),
            Some(other) => Err(Error::InvalidArgument {
                arg: "dmaheap.end",
                value: other.into(),
                msg: "expected 'poweroff' or 'reboot'".into(),
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
    fn module_parameters() {
        let c = Cmdline::parse(
            "coherent_heap.dyndbg=+p coherent-heap.debug coherent_heapx.a=1 coherent_heap.=2 \
             other.dyndbg=-p coherent_heap.name=\"a b\"",
        );
        assert_eq!(
            c.module_params("coherent_heap"),
            [
                ("dyndbg", Some("+p")),
                ("debug", None),
                ("name", Some("a b"))
            ]
        );
        assert!(c.module_params("absent").is_empty());
        assert_eq!(c.params().count(), 6);
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
            "invalid dmaheap.run 'shell': expected 'test', 'demo' or 'bench'"
        );
        assert_eq!(
            Cmdline::parse("dmaheap.run=bench").run_mode().unwrap(),
            RunMode::Bench
        );
        // Later values win, as in the kernel.
        assert_eq!(
            Cmdline::parse("dmaheap.run=shell dmaheap.run=demo")
                .run_mode()
                .unwrap(),
            RunMode::Demo
        );
    }

    #[test]
    fn end_action() {
        let end = |s: &str| Cmdline::parse(s).end_action();
        assert_eq!(end("").unwrap(), EndAction::PowerOff);
        assert_eq!(end("dmaheap.end=poweroff").unwrap(), EndAction::PowerOff);
        assert_eq!(end("dmaheap.end=reboot").unwrap(), EndAction::Restart);
        assert_eq!(
            end("dmaheap.end=halt").unwrap_err().to_string(),
            "invalid dmaheap.end 'halt': expected 'poweroff' or 'reboot'"
        );
        assert_eq!(
            end("dmaheap.end=reboot dmaheap.end=poweroff").unwrap(),
            EndAction::PowerOff
        );
    }
}
