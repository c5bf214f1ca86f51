//! GRUB's `grub.cfg`, in the form wic's `bootimg-efi` plugin writes it for
//! `loader=grub-efi` (meta-ti's AM62x images boot U-Boot's EFI loader, then
//! GRUB from the EFI partition).
//!
//! Outside a menu entry: `default=` (an entry's index or title), `timeout=`,
//! `serial`, `terminal_input`, `terminal_output`, `insmod` and `set` of those
//! names. `menuentry 'TITLE' {` opens an entry and `}` closes it; inside it,
//! `linux PATH ARGS...`, `initrd PATH`, `devicetree PATH`. Paths are from the
//! root of the partition GRUB was loaded from and must start with `/`.
//!
//! GRUB is a script interpreter: anything that could change which device or
//! entry is used (`set root=`, `search`, `if`, `source`, `configfile`, a
//! device in a path, ...) is refused rather than guessed, and so is an
//! unknown command.

use crate::error::{Error, Result};

/// A menu entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The entry's title.
    pub title: String,
    /// `linux`: the kernel, as written.
    pub linux: Option<String>,
    /// The words after the kernel on the `linux` line.
    pub args: String,
    /// `initrd`, as written.
    pub initrd: Option<String>,
    /// `devicetree`, as written.
    pub devicetree: Option<String>,
    /// The line of `menuentry`.
    pub line: usize,
}

/// A parsed `grub.cfg`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `default=`: an index or a title.
    pub default: Option<String>,
    /// The entries in file order.
    pub entries: Vec<Entry>,
}

/// Top-level commands that do not change what is loaded.
const IGNORED: &[&str] = &["serial", "terminal_input", "terminal_output", "insmod"];

/// Variables `set`/`NAME=` may assign: those that do not change what loads.
const VARIABLES: &[&str] = &["default", "timeout", "timeout_style"];

impl Config {
    /// Parses the text of `file` (named in messages).
    pub fn parse(file: &str, text: &str) -> Result<Config> {
        let mut cfg = Config::default();
        let mut open: Option<Entry> = None;
        for (line, l) in crate::config_lines(text) {
            let err = |msg: String| Error::config(file, line, msg);
            if let Some(entry) = open.as_mut() {
                if l == "}" {
                    cfg.entries.extend(open.take());
                    continue;
                }
                let (cmd, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
                let rest = rest.trim();
                let path = || {
                    let p = rest.split_whitespace().next().unwrap_or("");
                    if p.is_empty() {
                        Err(err(format!("{cmd} needs a file")))
                    } else if !p.starts_with('/') {
                        Err(err(format!(
                            "{cmd} {p}: only paths from the partition's root (/...) are followed"
                        )))
                    } else {
                        Ok(p.to_owned())
                    }
                };
                match cmd {
                    "linux" => {
                        entry.linux = Some(path()?);
                        entry.args = rest
                            .split_once(char::is_whitespace)
                            .map_or("", |(_, args)| args.trim())
                            .to_owned();
                    }
                    "initrd" if rest.split_whitespace().count() > 1 => {
                        return Err(err("more than one initrd is not followed".into()))
                    }
                    "initrd" => entry.initrd = Some(path()?),
                    "devicetree" => entry.devicetree = Some(path()?),
                    "insmod" | "echo" => {}
                    c => {
                        return Err(err(format!(
                            "'{c}' in a menu entry is not followed (it may change what GRUB loads)"
                        )))
                    }
                }
                continue;
            }
            if let Some(head) = l.strip_prefix("menuentry") {
                let head = head.trim();
                let Some(head) = head.strip_suffix('{') else {
                    return Err(err("menuentry must end its line with '{'".into()));
                };
                open = Some(Entry {
                    title: title(head.trim()).map_err(|m| err(m.into()))?,
                    line,
                    ..Entry::default()
                });
                continue;
            }
            let assignment = l.strip_prefix("set ").unwrap_or(l);
            let name_value = assignment.split_once('=').filter(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if let Some((name, value)) = name_value {
                if !VARIABLES.contains(&name) {
                    return Err(err(format!(
                        "setting '{name}' is not followed (it may change what GRUB loads)"
                    )));
                }
                if name == "default" {
                    cfg.default = Some(title(value.trim()).map_err(|m| err(m.into()))?);
                }
                continue;
            }
            let cmd = l.split_whitespace().next().unwrap_or(l);
            if !IGNORED.contains(&cmd) {
                return Err(err(format!(
                    "'{cmd}' is not followed (it may change what GRUB loads)"
                )));
            }
        }
        if let Some(entry) = open {
            return Err(Error::config(
                file,
                entry.line,
                format!("menuentry '{}' has no closing '}}'", entry.title),
            ));
        }
        Ok(cfg)
    }

    /// The entry that boots: `default=` (an index or a title), else the first.
    pub fn boot_entry(&self, file: &str) -> Result<&Entry> {
        let Some(first) = self.entries.first() else {
            return Err(Error::config(file, 0, "no menuentry"));
        };
        match &self.default {
            None => Ok(first),
            Some(d) => match d.parse::<usize>() {
                Ok(i) => self.entries.get(i).ok_or_else(|| {
                    Error::config(
                        file,
                        0,
                        format!("default={i}: there are {} entries", self.entries.len()),
                    )
                }),
                Err(_) => self.entries.iter().find(|e| &e.title == d).ok_or_else(|| {
                    Error::config(file, 0, format!("default={d}: no such menuentry"))
                }),
            },
        }
    }
}

/// A title or value: bare, or in single or double quotes, without
/// quotes, braces or variables inside.
fn title(s: &str) -> std::result::Result<String, &'static str> {
    let unquoted = ['\'', '"']
        .iter()
        .find_map(|q| s.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
        .unwrap_or(s);
    if unquoted.is_empty() || unquoted.contains(['\'', '"', '$', '{', '}']) {
        return Err("only a plain or quoted title without variables is followed");
    }
    Ok(unquoted.to_owned())
}

/// The path of `file` (absolute, from [`Config::parse`]) on the partition.
pub fn resolve(file: &str) -> std::result::Result<String, String> {
    crate::extlinux::resolve("", file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What wic's bootimg-efi writes for meta-coherent-heap's AM62x .wks.
    const WIC: &str = "\
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
default=boot
timeout=3
menuentry 'boot'{
linux /Image root=PARTUUID=1b2c rootwait rootfstype=ext4 console=ttyS2,115200n8
devicetree /k3-am625-sk-coherent.dtb
}
";

    #[test]
    fn reads_what_bootimg_efi_writes() {
        let cfg = Config::parse("grub.cfg", WIC).unwrap();
        let e = cfg.boot_entry("grub.cfg").unwrap();
        assert_eq!(e.title, "boot");
        assert_eq!(e.linux.as_deref(), Some("/Image"));
        assert_eq!(
            e.args,
            "root=PARTUUID=1b2c rootwait rootfstype=ext4 console=ttyS2,115200n8"
        );
        assert_eq!(e.devicetree.as_deref(), Some("/k3-am625-sk-coherent.dtb"));
        assert_eq!(e.initrd, None);
        assert_eq!(e.line, 4);
    }

    #[test]
    fn default_by_index_or_title() {
        let text = "set default=\"1\"\nmenuentry a {\nlinux /a\n}\nmenuentry \"b c\" {\nlinux /b\ninitrd /i\n}\n";
        let cfg = Config::parse("g", text).unwrap();
        assert_eq!(cfg.boot_entry("g").unwrap().linux.as_deref(), Some("/b"));
        let by_title = text.replace("\"1\"", "'b c'");
        let cfg = Config::parse("g", &by_title).unwrap();
        assert_eq!(cfg.boot_entry("g").unwrap().initrd.as_deref(), Some("/i"));
        let none = Config::parse("g", "menuentry a {\nlinux /a\n}\nmenuentry b {\n}\n").unwrap();
        assert_eq!(none.boot_entry("g").unwrap().title, "a");
    }

    #[test]
    fn refuses_what_it_cannot_follow() {
        for (text, want) in [
            (
                "menuentry a {\nset root=(hd0,2)\n}\n",
                "'set' in a menu entry",
            ),
            ("search --label boot\n", "'search' is not followed"),
            ("root=(hd0,2)\n", "setting 'root'"),
            (
                "menuentry a {\nlinux (hd0,1)/Image\n}\n",
                "only paths from the partition's root",
            ),
            (
                "menuentry a {\nlinux Image\n}\n",
                "only paths from the partition's root",
            ),
            ("menuentry a {\ndevicetree\n}\n", "devicetree needs a file"),
            ("menuentry a {\ninitrd /a /b\n}\n", "more than one initrd"),
            ("menuentry a {\nlinux /a\n", "has no closing"),
            ("menuentry a\n", "must end its line"),
            ("menuentry $x {\n}\n", "without variables"),
            ("if true; then\n", "'if' is not followed"),
        ] {
            let e = Config::parse("g", text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn default_must_name_an_entry() {
        let none = Config::parse("g", "timeout=1\n").unwrap();
        assert_eq!(
            none.boot_entry("g").unwrap_err().to_string(),
            "g: no menuentry"
        );
        let cfg = Config::parse("g", "default=2\nmenuentry a {\n}\n").unwrap();
        assert!(cfg
            .boot_entry("g")
            .unwrap_err()
            .to_string()
            .contains("there are 1"));
        let cfg = Config::parse("g", "default=x\nmenuentry a {\n}\n").unwrap();
        assert!(cfg
            .boot_entry("g")
            .unwrap_err()
            .to_string()
            .contains("no such menuentry"));
    }
}
