//! The kernel log, read from `/dev/kmsg` without blocking (or, where that
//! cannot be opened, with `klogctl(SYSLOG_ACTION_READ_ALL)`).

use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;

use crate::error::{Error, Result};

/// `/dev/kmsg`.
pub const DEV_KMSG: &str = "/dev/kmsg";

/// One kernel log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Log level (0 emergency ... 7 debug), without the facility.
    pub level: u8,
    /// Sequence number (`None` when read through `klogctl`).
    pub seq: Option<u64>,
    /// The message text (`\xNN` escapes of `/dev/kmsg` decoded).
    pub text: String,
}

/// The kernel log as far as the ring buffer still holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// Records, oldest first. A multi-line message is one record per line.
    pub records: Vec<Record>,
    /// Records were lost: the buffer wrapped before they were read (the
    /// first sequence number is not 0, or `/dev/kmsg` said `EPIPE`).
    pub truncated: bool,
}

impl Log {
    /// The message texts, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.records.iter().map(|r| r.text.as_str())
    }
}

/// Parses one `/dev/kmsg` record: `PRIO,SEQ,TIMESTAMP,FLAGS[,...];TEXT`,
/// followed by ` KEY=VALUE` dictionary lines, which are dropped. Bytes the
/// kernel escaped as `\xNN` are decoded; a message with embedded newlines
/// (escaped as `\x0a`) gives one record per line.
pub fn parse_record(raw: &str) -> Option<Vec<Record>> {
    let first = raw.lines().next()?;
    let (prefix, text) = first.split_once(';')?;
    let mut fields = prefix.split(',');
    let prio: u32 = fields.next()?.trim().parse().ok()?;
    let seq: u64 = fields.next()?.trim().parse().ok()?;
    let text = unescape(text);
    Some(
        text.split('\n')
            .map(|l| Record {
                level: (prio & 7) as u8,
                seq: Some(seq),
                text: l.to_owned(),
            })
            .collect(),
    )
}

/// Decodes `/dev/kmsg`'s `\xNN` escapes.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'x') {
            if let Some(b) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the text `klogctl(SYSLOG_ACTION_READ_ALL)` returns: lines of
/// `<PRIO>[ SECONDS.MICROS] TEXT` (the timestamp only with `printk.time`).
pub fn parse_syslog_text(text: &str) -> Vec<Record> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (level, rest) = match line
                .strip_prefix('<')
                .and_then(|r| r.split_once('>'))
                .and_then(|(p, rest)| Some((p.parse::<u32>().ok()?, rest)))
            {
                Some((p, rest)) => ((p & 7) as u8, rest),
                None => (6, line),
            };
            let rest = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
                Some((ts, after)) if ts.trim().chars().all(|c| c.is_ascii_digit() || c == '.') => {
                    after.strip_prefix(' ').unwrap_or(after)
                }
                _ => rest,
            };
            Record {
                level,
                seq: None,
                text: rest.to_owned(),
            }
        })
        .collect()
}

/// Reads the whole kernel log without waiting for new messages.
pub fn read() -> Result<Log> {
    match read_dev_kmsg() {
        Ok(log) => Ok(log),
        Err(e) => read_syslog().map_err(|_| Error::io("read", DEV_KMSG, e)),
    }
}

fn read_dev_kmsg() -> io::Result<Log> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(DEV_KMSG)?;
    let mut log = Log::default();
    // One record per read(); the kernel refuses buffers shorter than a record.
    let mut buf = vec![0u8; 16 * 1024];
    let mut first = true;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let raw = String::from_utf8_lossy(&buf[..n]);
                if let Some(recs) = parse_record(&raw) {
                    if first && recs.first().and_then(|r| r.seq) != Some(0) {
                        log.truncated = true;
                    }
                    first = false;
                    log.records.extend(recs);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The record at our position was overwritten: go on with the next.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => log.truncated = true,
            Err(e) => return Err(e),
        }
    }
    Ok(log)
}

fn read_syslog() -> io::Result<Log> {
    let text = crate::sys::syslog_read_all()?;
    Ok(Log {
        records: parse_syslog_text(&text),
        truncated: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kmsg_records() {
        let raw = "6,412,429721,-;coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes\n SUBSYSTEM=platform\n DEVICE=+platform:x\n";
        let r = parse_record(raw).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].level, 6);
        assert_eq!(r[0].seq, Some(412));
        assert_eq!(
            r[0].text,
            "coherent_heap: /reserved-memory/camera@70000000: heap \"camera\" at 0x70000000, 67108864 bytes"
        );
        // Facility bits are dropped; escapes decoded; embedded newlines split.
        let r = parse_record("12,3,5,c;a\\x5cb\\x0aline two\\xzz").unwrap();
        assert_eq!(r[0].level, 4);
        assert_eq!(r[0].text, "a\\b");
        assert_eq!(r[1].text, "line two\\xzz");
        assert!(parse_record("garbage").is_none());
        assert!(parse_record("x,1,2,-;text").is_none());
    }

    #[test]
    fn parses_syslog_text() {
        let text = "<6>[    0.429721] coherent_heap: one\n<4>[    1.000000] WARNING: two\n<6>plain\nno prefix\n";
        let r = parse_syslog_text(text);
        let texts: Vec<_> = r.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            ["coherent_heap: one", "WARNING: two", "plain", "no prefix"]
        );
        assert_eq!(r[1].level, 4);
        assert_eq!(r[3].level, 6);
    }
}
