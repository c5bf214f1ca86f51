//! Splitting a serial console capture into its two streams.
//!
//! A QEMU console log mixes kernel printk lines, which carry a
//! `CONFIG_PRINTK_TIME` prefix such as `[    1.234567] `, with lines that
//! userspace (the test runner, `/init`) wrote to the console directly, which
//! carry none. The two are parsed independently, so the log is split here:
//! lines with a timestamp prefix go to the *kernel* stream (prefix removed),
//! the others to the *console* stream.
//!
//! The capture is taken as bytes: `\r\n` line endings, stray control bytes,
//! ANSI escape sequences and invalid UTF-8 are all tolerated.
//!
//! When a kernel record lands in the middle of a runner line (the UART
//! interleaves the tty's output with the console's), the log shows the start
//! of the runner line, the kernel record, and the rest of the runner line on
//! the next line:
//!
//! ```text
//!     ok 3 alloc_[    2.345678] coherent-heap: camera: 1048576 bytes at 0x70000000
//! zero_size
//! ```
//!
//! The runner's fragment is then joined with its continuation
//! (`    ok 3 alloc_zero_size`, at the first line's number) so that neither a
//! result nor its indentation is lost. The opposite case, a runner line
//! inside a kernel record, cannot be undone; it only costs that runner line.

/// One line of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// 1-based line number in the log file.
    pub number: usize,
    /// The text, cleaned of control bytes, without the printk prefix.
    pub text: String,
    /// The printk timestamp in seconds (kernel lines only).
    pub time: Option<f64>,
}

/// A console log split into its streams.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Streams {
    /// Kernel printk lines, timestamp prefix removed.
    pub kernel: Vec<Line>,
    /// Everything else: the runner's lines, firmware, stray fragments.
    pub console: Vec<Line>,
    /// Number of lines in the log.
    pub total_lines: usize,
}

/// Splits a console capture into the kernel and the console stream.
pub fn split(bytes: &[u8]) -> Streams {
    let mut streams = Streams::default();
    // The start of a console line that kernel output interrupted.
    let mut pending: Option<Line> = None;
    for (index, raw) in physical_lines(bytes) {
        let number = index + 1;
        streams.total_lines = number;
        let text = clean(raw);
        match find_timestamp(&text) {
            None => {
                let line = match pending.take() {
                    Some(mut start) => {
                        start.text.push_str(&text);
                        start
                    }
                    None => Line {
                        number,
                        text,
                        time: None,
                    },
                };
                streams.console.push(line);
            }
            Some((start, len, secs)) => {
                if start > 0 {
                    let fragment = &text[..start];
                    match pending.as_mut() {
                        Some(p) => p.text.push_str(fragment),
                        None => {
                            pending = Some(Line {
                                number,
                                text: fragment.to_string(),
                                time: None,
                            })
                        }
                    }
                }
                let body = &text[start + len..];
                let body = body.strip_prefix(' ').unwrap_or(body);
                streams.kernel.push(Line {
                    number,
                    text: body.to_string(),
                    time: Some(secs),
                });
            }
        }
    }
    if let Some(p) = pending {
        streams.console.push(p);
    }
    streams
}

/// The lines of a file taken as one stream (a pure KTAP file): cleaned, no
/// timestamp handling.
pub fn lines(bytes: &[u8]) -> Vec<Line> {
    physical_lines(bytes)
        .map(|(index, raw)| Line {
            number: index + 1,
            text: clean(raw),
            time: None,
        })
        .collect()
}

/// Splits at `\n`, numbering from 0; a final empty piece (after the last
/// newline) is not a line.
fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let trailing_newline = bytes.last() == Some(&b'\n');
    let count = bytes.split(|&b| b == b'\n').count();
    let keep = if trailing_newline || bytes.is_empty() {
        count - 1
    } else {
        count
    };
    bytes.split(|&b| b == b'\n').take(keep).enumerate()
}

/// Decodes one raw line lossily and drops what a terminal would not show as
/// text: ANSI CSI sequences, control characters (including `\r` and NUL;
/// tabs are kept) and the replacement characters of invalid UTF-8.
pub fn clean(raw: &[u8]) -> String {
    let decoded = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(decoded.len());
    let mut rest: &str = &decoded;
    while let Some(c) = rest.chars().next() {
        let mut advance = c.len_utf8();
        match c {
            '\u{1b}' => {
                if let Some(len) = csi_len(&rest[1..]) {
                    advance += len;
                }
            }
            '\t' => out.push('\t'),
            '\u{fffd}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
        rest = &rest[advance..];
    }
    out
}

/// Length of an ANSI CSI sequence (`[` parameters intermediates final)
/// at the start of `s`, which follows an ESC.
fn csi_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while b.get(i).is_some_and(|c| (0x30..=0x3f).contains(c)) {
        i += 1;
    }
    while b.get(i).is_some_and(|c| (0x20..=0x2f).contains(c)) {
        i += 1;
    }
    if b.get(i).is_some_and(|c| (0x40..=0x7e).contains(c)) {
        Some(i + 1)
    } else {
        None
    }
}

/// The first printk timestamp in `text`: (byte offset, length, seconds).
fn find_timestamp(text: &str) -> Option<(usize, usize, f64)> {
    text.match_indices('[')
        .find_map(|(start, _)| timestamp_at(&text[start..]).map(|(len, secs)| (start, len, secs)))
}

/// A printk timestamp at the start of `s`: `[%5lu.%06lu]`, optionally
/// followed by a `CONFIG_PRINTK_CALLER` id such as `[    T1]` or `[  C0]`.
/// Returns its length and value in seconds.
fn timestamp_at(s: &str) -> Option<(usize, f64)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let digits_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == digits_start || b.get(i) != Some(&b'.') {
        return None;
    }
    let fraction_start = i + 1;
    i = fraction_start;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i - fraction_start != 6 || b.get(i) != Some(&b']') {
        return None;
    }
    let secs: f64 = s[digits_start..i].parse().ok()?;
    i += 1;
    if let Some(len) = caller_id_len(&s[i..]) {
        i += len;
    }
    Some((i, secs))
}

/// Length of a printk caller id (`[    T123]`, `[  C1]`) at the start of `s`.
fn caller_id_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut i = 1;
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    if !matches!(b.get(i), Some(b'T' | b'C')) {
        return None;
    }
    i += 1;
    let digits_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    (i > digits_start && b.get(i) == Some(&b']')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<(usize, &str)> {
        lines.iter().map(|l| (l.number, l.text.as_str())).collect()
    }

    #[test]
    fn splits_kernel_and_console_lines() {
        let log = b"[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd083]\r\n\
[    0.512400]     KTAP version 1\r\n\
KTAP version 1\r\n\
1..1\r\n\
[    0.843211] Run /init as init process\r\n";
        let s = split(log);
        assert_eq!(
            texts(&s.kernel),
            vec![
                (1, "Booting Linux on physical CPU 0x0000000000 [0x410fd083]"),
                (2, "    KTAP version 1"),
                (5, "Run /init as init process"),
            ]
        );
        assert_eq!(texts(&s.console), vec![(3, "KTAP version 1"), (4, "1..1")]);
        assert_eq!(s.kernel[2].time, Some(0.843211));
        assert_eq!(s.total_lines, 5);
    }

    #[test]
    fn caller_id_is_part_of_the_prefix() {
        let s = split(b"[    1.000000][    T1] hello\n[    1.000001][  C0] world\n");
        assert_eq!(texts(&s.kernel), vec![(1, "hello"), (2, "world")]);
    }

    #[test]
    fn bracketed_numbers_are_not_timestamps() {
        for line in [
            "[0000000000000008] pgd=0000000000000000",
            "[ 1.5] short fraction",
            "[    1.2345678] long fraction",
            "[mem 0x40000000-0x7fffffff]",
            "[",
        ] {
            let s = split(line.as_bytes());
            assert!(s.kernel.is_empty(), "{line}");
            assert_eq!(s.console[0].text, line);
        }
    }

    #[test]
    fn runner_line_interrupted_by_a_kernel_record_is_joined() {
        let log = b"    ok 2 alloc_one_page\r\n    ok 3 alloc_[    2.345678] coherent-heap: camera: busy\r\nzero_size\r\n    ok 4 x\r\n";
        let s = split(log);
        assert_eq!(
            texts(&s.console),
            vec![
                (1, "    ok 2 alloc_one_page"),
                (2, "    ok 3 alloc_zero_size"),
                (4, "    ok 4 x"),
            ]
        );
        assert_eq!(texts(&s.kernel), vec![(2, "coherent-heap: camera: busy")]);
    }

    #[test]
    fn fragment_at_end_of_log_is_kept() {
        let s = split(b"not ok 1 a[    1.000000] b");
        assert_eq!(texts(&s.console), vec![(1, "not ok 1 a")]);
        assert_eq!(texts(&s.kernel), vec![(1, "b")]);
    }

    #[test]
    fn control_bytes_escapes_and_bad_utf8_are_dropped() {
        assert_eq!(clean(b"\x1b[0;32mok\x1b[0m 1 a\r"), "ok 1 a");
        assert_eq!(clean(b"\x00\x07ok\xff\xfe 1\tb\x7f"), "ok 1\tb");
        // A stray ESC before a timestamp must not swallow it.
        assert_eq!(clean(b"\x1b[    1.000000] x"), "[    1.000000] x");
        let s = split(b"\xff\xfe\x1b[    1.000000] x\n");
        assert_eq!(texts(&s.kernel), vec![(1, "x")]);
        assert!(s.console.is_empty());
    }

    #[test]
    fn empty_and_newline_only_input() {
        assert_eq!(split(b""), Streams::default());
        let s = split(b"\n\n");
        assert_eq!(s.total_lines, 2);
        assert_eq!(texts(&s.console), vec![(1, ""), (2, "")]);
        assert_eq!(lines(b"a\nb").len(), 2);
        assert_eq!(lines(b"a\nb\n").len(), 2);
        assert!(lines(b"").is_empty());
    }
}
