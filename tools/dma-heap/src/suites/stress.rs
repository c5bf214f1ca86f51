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
//! Children report through a pipe one line, [`ChildReport::encode`]; the
//! parent then checks the heap's debugfs statistics: back to where they
//! were, with exactly as many allocations and failures more as the
//! children counted.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::heap::{first_nonzero, Access, DmaBuf, Fill, Heap, Mapping, Phase, DEFAULT_FD_FLAGS};
use crate::prng::XorShift64;
use crate::sys::{self, ExitStatus, Forked};

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

/// Forks `cfg.children` children running [`child_main`] on heap `heap`,
/// waits for all of them and collects their reports.
///
/// The caller must be single-threaded (see [`sys::fork`]).
pub fn run_children(heap: &str, cfg: &StressConfig, page: u64) -> Result<Vec<ChildResult>> {
    let mut running: Vec<(usize, libc::pid_t, OwnedFd)> = Vec::new();
    let mut results = Vec::new();
    let mut spawn_error = None;
    for index in 0..cfg.children {
        let forked = sys::pipe()
            .map_err(|e| Error::io("pipe", "<stress>", e))
            .and_then(|(rd, wr)| {
                let f = sys::fork().map_err(|e| Error::io("fork", "<stress>", e))?;
                Ok((rd, wr, f))
            });
        let (rd, wr, forked) = match forked {
            Ok(x) => x,
            Err(e) => {
                // Still reap the children already running.
                spawn_error = Some(e);
                break;
            }
        };
        match forked {
            Forked::Child => {
                drop(rd);
                let fd = wr.as_raw_fd();
                // A panic must not reach the runner's hook (which reports a
                // runner error and, as PID 1, powers off): report it instead.
                std::panic::set_hook(Box::new(move |info| {
                    let msg = info.to_string().replace('\n', "; ");
                    let _ = sys::write_all_fd(fd, format!("panic error={msg}\n").as_bytes());
                    sys::exit_now(101);
                }));
                let report = child_main(heap, cfg, index, page);
                let code = i32::from(report.error.is_some());
                let _ = sys::write_all_fd(fd, report.encode().as_bytes());
                sys::exit_now(code);
            }
            Forked::Parent(pid) => {
                drop(wr);
                running.push((index, pid, rd));
            }
        }
    }
    for (index, pid, rd) in running {
        let mut text = String::new();
        let read = std::fs::File::from(rd).read_to_string(&mut text);
        let status = sys::wait_child(pid).map_err(|e| Error::io("waitpid", "<stress>", e))?;
        let report = match (read, status) {
            (Err(e), _) => Err(format!("reading its report: {e}")),
            (Ok(_), ExitStatus::Signaled(sig)) => Err(format!(
                "killed by signal {sig}{}",
                if text.is_empty() {
                    String::new()
                } else {
                    format!(" after reporting: {}", text.trim())
                }
            )),
            (Ok(_), ExitStatus::Exited(code)) => match ChildReport::decode(&text) {
                Some(r) => Ok(r),
                None if text.starts_with("panic error=") => {
                    Err(format!("panicked: {}", text["panic error=".len()..].trim()))
                }
                None => Err(format!(
                    "exit status {code}, garbled report {:?}",
                    text.trim()
                )),
            },
        };
        results.push(ChildResult { index, report });
    }
    match spawn_error {
        Some(e) => Err(e),
        None => Ok(results),
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
