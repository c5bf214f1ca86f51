//! `parallel_stress`: several processes allocating, mapping, writing and
//! freeing buffers of random sizes on one heap at the same time.
//!
//! Each child keeps up to [`StressConfig::max_live`] buffers: every step it
//! either frees one of them (checking that its pattern is intact: another
//! process's buffer landing on top of it would show) or allocates a new one
//! of a random size, checks that it arrives zero-filled and writes its own
//! pattern into it. `ENOMEM` is an expected answer when the children
//! together hold more than the pool: the child counts it, frees a buffer
//! and goes on. Anything else ends the child with an error.
//!
//! Each child is this program again (`/proc/self/exe`), started with the
//! hidden subcommand [`CHILD_COMMAND`], not a `fork()` of the runner: the
//! runner may have threads by then (the selftest's output reader), and a
//! forked copy of a multithreaded process may only call async-signal-safe
//! functions. A child prints one line, [`ChildReport::encode`], on its
//! standard output; the parent then checks the heap's debugfs statistics:
//! back to where they were, with exactly as many allocations and failures
//! more as the children counted.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::heap::{first_nonzero, Access, DmaBuf, Fill, Heap, Mapping, Phase, DEFAULT_FD_FLAGS};
use crate::prng::XorShift64;

/// The hidden `dma-heap` subcommand that runs one child:
/// `dma-heap stress-child HEAP INDEX PAGE CONFIG` ([`StressConfig::encode`]).
pub const CHILD_COMMAND: &str = "stress-child";

/// What the stress run does.
#[derive(Debug, Clone)]
pub struct StressConfig {
    /// Number of child processes.
    pub children: usize,
    /// Steps per child (each an allocation or a free).
    pub steps: u64,
    /// Smallest buffer.
    pub min_size: u64,
    /// Largest buffer.
    pub max_size: u64,
    /// Most buffers a child holds at once.
    pub max_live: usize,
    /// A child stops early, successfully, once this much time has passed.
    pub time_budget: Duration,
    /// Base seed; child `i` uses [`child_seed`]`(seed, i)`.
    pub seed: u64,
}

impl Default for StressConfig {
    fn default() -> StressConfig {
        StressConfig {
            children: 4,
            steps: 128,
            min_size: 4 << 10,
            max_size: 4 << 20,
            max_live: 16,
            time_budget: Duration::from_secs(8),
            seed: 0x5eed_c0de_4ea9,
        }
    }
}

impl StressConfig {
    /// One word per field, `key=value`, for a child's command line.
    pub fn encode(&self) -> String {
        format!(
            "children={} steps={} min_size={} max_size={} max_live={} time_budget_ms={} seed={}",
            self.children,
            self.steps,
            self.min_size,
            self.max_size,
            self.max_live,
            self.time_budget.as_millis(),
            self.seed
        )
    }

    /// Parses [`StressConfig::encode`]'s words; every field must be there.
    pub fn decode(text: &str) -> std::result::Result<StressConfig, String> {
        let mut cfg = StressConfig::default();
        let mut seen = Vec::new();
        for word in text.split_whitespace() {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("'{word}': expected key=value"))?;
            let n: u64 = v
                .parse()
                .map_err(|_| format!("'{word}': {v} is not a number"))?;
            match k {
                "children" => cfg.children = n as usize,
                "steps" => cfg.steps = n,
                "min_size" => cfg.min_size = n,
                "max_size" => cfg.max_size = n,
                "max_live" => cfg.max_live = n as usize,
                "time_budget_ms" => cfg.time_budget = Duration::from_millis(n),
                "seed" => cfg.seed = n,
                _ => return Err(format!("'{word}': unknown key {k}")),
            }
            if seen.contains(&k) {
                return Err(format!("'{word}': {k} given twice"));
            }
            seen.push(k);
        }
        if seen.len() != 7 {
            return Err(format!("{} of 7 fields in '{text}'", seen.len()));
        }
        Ok(cfg)
    }
}

/// The seed of child `index`: distinct per child, fixed per run.
pub fn child_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// What one child did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildReport {
    /// Steps done.
    pub steps: u64,
    /// Successful allocations.
    pub allocs: u64,
    /// Allocations that failed with ENOMEM.
    pub enomem: u64,
    /// Bytes allocated in total.
    pub bytes: u64,
    /// Stopped early because the time budget ran out.
    pub out_of_time: bool,
    /// Why the child failed, if it did.
    pub error: Option<String>,
}

impl ChildReport {
    /// One line of `key=value` words; an error goes last, as the rest of
    /// the line.
    pub fn encode(&self) -> String {
        let mut s = format!(
            "steps={} allocs={} enomem={} bytes={} out_of_time={}",
            self.steps, self.allocs, self.enomem, self.bytes, self.out_of_time as u8
        );
        if let Some(e) = &self.error {
            s.push_str(" error=");
            s.push_str(&e.replace('\n', "; "));
        }
        s.push('\n');
        s
    }

    /// Parses [`ChildReport::encode`]'s line.
    pub fn decode(line: &str) -> Option<ChildReport> {
        let line = line.trim_end_matches('\n');
        let (words, error) = match line.split_once(" error=") {
            Some((w, e)) => (w, Some(e.to_owned())),
            None => (line, None),
        };
        let mut r = ChildReport {
            error,
            ..ChildReport::default()
        };
        let mut seen = 0;
        for word in words.split_whitespace() {
            let (k, v) = word.split_once('=')?;
            let v: u64 = v.parse().ok()?;
            match k {
                "steps" => r.steps = v,
                "allocs" => r.allocs = v,
                "enomem" => r.enomem = v,
                "bytes" => r.bytes = v,
                "out_of_time" => r.out_of_time = v != 0,
                _ => return None,
            }
            seen += 1;
        }
        (seen == 5).then_some(r)
    }
}

struct Live {
    buf: DmaBuf,
    map: Mapping,
    fill: Fill,
}

fn verify(l: &Live) -> Result<()> {
    l.buf.sync(Phase::Start, Access::Read)?;
    let bad = l.fill.check(l.map.as_slice());
    l.buf.sync(Phase::End, Access::Read)?;
    match bad {
        None => Ok(()),
        Some((offset, expected, found)) => Err(Error::Mismatch {
            heap: l.buf.heap().to_owned(),
            offset,
            expected,
            found,
        }),
    }
}

fn is_enomem(e: &Error) -> bool {
    e.raw_os_error() == Some(libc::ENOMEM)
}

/// The body of child `index`: returns its report (errors included).
pub fn child_main(heap: &str, cfg: &StressConfig, index: usize, page: u64) -> ChildReport {
    let mut report = ChildReport::default();
    if let Err(e) = child_loop(heap, cfg, index, page, &mut report) {
        report.error = Some(e.to_string());
    }
    report
}

fn child_loop(
    heap: &str,
    cfg: &StressConfig,
    index: usize,
    page: u64,
    report: &mut ChildReport,
) -> Result<()> {
    let start = Instant::now();
    let h = Heap::open(heap)?;
    let mut rng = XorShift64::new(child_seed(cfg.seed, index));
    let mut live: Vec<Live> = Vec::new();
    let free_one = |live: &mut Vec<Live>, rng: &mut XorShift64| -> Result<()> {
        if live.is_empty() {
            return Ok(());
        }
        let l = live.swap_remove(rng.below(live.len() as u64) as usize);
        verify(&l)
    };
    for step in 0..cfg.steps {
        if start.elapsed() > cfg.time_budget {
            report.out_of_time = true;
            break;
        }
        report.steps += 1;
        if !live.is_empty() && (live.len() >= cfg.max_live || rng.below(3) == 0) {
            free_one(&mut live, &mut rng)?;
            continue;
        }
        let size = rng.log_uniform_size(cfg.min_size, cfg.max_size, page);
        let buf = match h.alloc(size, DEFAULT_FD_FLAGS, 0) {
            Ok(b) => b,
            Err(e) if is_enomem(&e) => {
                report.enomem += 1;
                free_one(&mut live, &mut rng)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        report.allocs += 1;
        report.bytes += size;
        let got = buf.size()?;
        if got != size {
            return Err(Error::Format {
                path: buf.fdinfo_path(),
                msg: format!("lseek(SEEK_END) says {got} bytes, allocated {size}"),
            });
        }
        let mut map = buf.mmap()?;
        buf.sync(Phase::Start, Access::Read)?;
        let nonzero = first_nonzero(map.as_slice());
        buf.sync(Phase::End, Access::Read)?;
        if let Some(off) = nonzero {
            return Err(Error::Format {
                path: buf.fdinfo_path(),
                msg: format!(
                    "new {size}-byte buffer not zero-filled: byte {off} is {:#04x}",
                    map.as_slice()[off]
                ),
            });
        }
        let fill = Fill::Pattern(((index as u64) << 56) ^ (step << 32) ^ (rng.next_u64() >> 32));
        buf.sync(Phase::Start, Access::Write)?;
        fill.write(map.as_mut_slice());
        buf.sync(Phase::End, Access::Write)?;
        let l = Live { buf, map, fill };
        verify(&l)?;
        live.push(l);
    }
    for l in &live {
        verify(l)?;
    }
    Ok(())
}

/// How a child ended, as seen by the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildResult {
    /// Child number.
    pub index: usize,
    /// Its report, or why there is none (crashed, killed, garbled).
    pub report: std::result::Result<ChildReport, String>,
}

/// Starts `cfg.children` children, each `exe` (this program:
/// `/proc/self/exe` in the image) running [`CHILD_COMMAND`] on heap
/// `heap`, waits for all of them and collects their reports.
pub fn run_children(
    exe: &Path,
    heap: &str,
    cfg: &StressConfig,
    page: u64,
) -> Result<Vec<ChildResult>> {
    let mut running = Vec::new();
    let mut spawn_error = None;
    for index in 0..cfg.children {
        let spawned = Command::new(exe)
            .arg0("dma-heap")
            .arg(CHILD_COMMAND)
            .args([heap, &index.to_string(), &page.to_string(), &cfg.encode()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Ok(child) => running.push((index, child)),
            Err(e) => {
                // Still reap the children already running.
                spawn_error = Some(Error::io("run", exe, e));
                break;
            }
        }
    }
    let mut results = Vec::new();
    for (index, child) in running {
        let report = match child.wait_with_output() {
            Err(e) => Err(format!("waiting for it: {e}")),
            Ok(out) => judge_child(&out.status, &out.stdout, &out.stderr),
        };
        results.push(ChildResult { index, report });
    }
    match spawn_error {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

/// A child's report from how it ended and what it printed.
fn judge_child(
    status: &std::process::ExitStatus,
    stdout: &[u8],
    stderr: &[u8],
) -> std::result::Result<ChildReport, String> {
    let text = String::from_utf8_lossy(stdout);
    let err = String::from_utf8_lossy(stderr);
    let last_words = match err.lines().rfind(|l| !l.trim().is_empty()) {
        Some(l) => format!("; stderr: {}", l.trim()),
        None => String::new(),
    };
    match (status.code(), status.signal()) {
        (Some(code), _) => ChildReport::decode(&text).ok_or_else(|| {
            format!(
                "exit status {code}, no report (stdout {:?}){last_words}",
                text.trim()
            )
        }),
        (None, Some(sig)) => Err(format!("killed by signal {sig}{last_words}")),
        (None, None) => Err(format!("unknown wait status {status:?}")),
    }
}

/// Sum of the children's reports (the ones that arrived).
pub fn totals(results: &[ChildResult]) -> ChildReport {
    let mut t = ChildReport::default();
    for r in results.iter().filter_map(|r| r.report.as_ref().ok()) {
        t.steps += r.steps;
        t.allocs += r.allocs;
        t.enomem += r.enomem;
        t.bytes += r.bytes;
        t.out_of_time |= r.out_of_time;
    }
    t
}

/// The failures among `results`, one message per child.
pub fn child_failures(results: &[ChildResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| match &r.report {
            Ok(ChildReport { error: Some(e), .. }) => Some(format!("child {}: {e}", r.index)),
            Ok(_) => None,
            Err(e) => Some(format!("child {}: {e}", r.index)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let r = ChildReport {
            steps: 64,
            allocs: 40,
            enomem: 3,
            bytes: 123 << 20,
            out_of_time: false,
            error: None,
        };
        assert_eq!(
            r.encode(),
            "steps=64 allocs=40 enomem=3 bytes=128974848 out_of_time=0\n"
        );
        assert_eq!(ChildReport::decode(&r.encode()), Some(r.clone()));
        let e = ChildReport {
            error: Some("heap 'camera': allocating 4096 bytes failed: x (EINVAL)\nmore".into()),
            out_of_time: true,
            ..r
        };
        let line = e.encode();
        assert!(
            line.ends_with("error=heap 'camera': allocating 4096 bytes failed: x (EINVAL); more\n")
        );
        let back = ChildReport::decode(&line).unwrap();
        assert_eq!(
            back.error.as_deref(),
            Some("heap 'camera': allocating 4096 bytes failed: x (EINVAL); more")
        );
        assert!(back.out_of_time);
        assert_eq!(ChildReport::decode(""), None);
        assert_eq!(ChildReport::decode("steps=1 allocs=2"), None);
        assert_eq!(ChildReport::decode("panic error=boom"), None);
    }

    #[test]
    fn config_round_trips_for_the_child_command_line() {
        let cfg = StressConfig {
            max_size: 1 << 20,
            time_budget: Duration::from_millis(1500),
            ..StressConfig::default()
        };
        let text = cfg.encode();
        assert_eq!(
            text,
            "children=4 steps=128 min_size=4096 max_size=1048576 max_live=16 time_budget_ms=1500 seed=104375236054697"
        );
        let back = StressConfig::decode(&text).unwrap();
        assert_eq!(back.encode(), text);
        assert_eq!(back.time_budget, Duration::from_millis(1500));
        assert!(StressConfig::decode("children=4")
            .unwrap_err()
            .contains("1 of 7"));
        assert!(StressConfig::decode(&format!("{text} steps=1"))
            .unwrap_err()
            .contains("given twice"));
        assert!(StressConfig::decode("children=x")
            .unwrap_err()
            .contains("not a number"));
        assert!(StressConfig::decode("colour=4")
            .unwrap_err()
            .contains("unknown key"));
    }

    #[test]
    fn seeds_differ_per_child() {
        let s: Vec<u64> = (0..4).map(|i| child_seed(7, i)).collect();
        for i in 0..4 {
            for j in 0..i {
                assert_ne!(s[i], s[j]);
            }
        }
        assert_eq!(child_seed(7, 2), child_seed(7, 2));
    }

    #[test]
    fn totals_and_failures() {
        let ok = |steps, enomem| ChildReport {
            steps,
            allocs: steps / 2,
            enomem,
            bytes: 4096,
            out_of_time: false,
            error: None,
        };
        let results = vec![
            ChildResult {
                index: 0,
                report: Ok(ok(10, 1)),
            },
            ChildResult {
                index: 1,
                report: Ok(ChildReport {
                    error: Some("bad".into()),
                    ..ok(4, 0)
                }),
            },
            ChildResult {
                index: 2,
                report: Err("killed by signal 11".into()),
            },
        ];
        let t = totals(&results);
        assert_eq!((t.steps, t.allocs, t.enomem, t.bytes), (14, 7, 1, 8192));
        assert_eq!(
            child_failures(&results),
            ["child 1: bad", "child 2: killed by signal 11"]
        );
    }
}
