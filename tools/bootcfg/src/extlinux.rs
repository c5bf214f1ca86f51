//! U-Boot's extlinux configuration, as `sysboot` and the extlinux boot
//! method of standard boot read it (`boot/pxe_utils.c` of U-Boot 2023.01).
//!
//! One keyword per line, in any case, `#` starts a comment. `label NAME` opens a label;
//! `kernel`/`linux`, `initrd`, `fdt`/`devicetree`, `fdtoverlays`/
//! `devicetree-overlay` and `append` belong to the label above them;
//! `default NAME` (or `menu default` inside a label) picks the label that
//! boots. Paths starting with `/` are from the root of the partition, others
//! from the directory of the configuration file.
//!
//! Keywords that do not change what is loaded (`menu`, `timeout`, `prompt`,
//! ...) are accepted and ignored. Keywords whose effect depends on the
//! board's environment (`fdtdir`: `$fdtfile`) or on files elsewhere
//! (`include`, `localboot`) are refused: a plan made without them could not
//! be trusted. So are unknown keywords, which U-Boot would silently skip.

use crate::error::{Error, Result};

/// A label of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// `kernel` / `linux`, as written.
    pub kernel: Option<String>,
    /// `initrd`, as written.
    pub initrd: Option<String>,
    /// `fdt` / `devicetree`, as written.
    pub fdt: Option<String>,
    /// `fdtoverlays` / `devicetree-overlay`: the overlays, in order.
    pub fdtoverlays: Vec<String>,
    /// `append`: the kernel command line.
    pub append: Option<String>,
    /// The line of `label`.
    pub line: usize,
}

/// A parsed extlinux configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `default NAME` or the label with `menu default`.
    pub default: Option<String>,
    /// The labels in file order.
    pub labels: Vec<Label>,
}

/// Why `fdtdir` is refused.
const FDTDIR: &str = "takes the DTB name from the board's $fdtfile: name the DTB with fdt";

/// Keywords that do not change what a label loads.
const IGNORED: &[&str] = &[
    "menu",
    "title",
    "timeout",
    "prompt",
    "ontimeout",
    "background",
    "ipappend",
    "kaslrseed",
    "say",
];

impl Config {
    /// Parses the text of `file` (named in messages).
    pub fn parse(file: &str, text: &str) -> Result<Config> {
        let mut cfg = Config::default();
        for (line, l) in crate::config_lines(text) {
            let (key, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            // U-Boot lower-cases keywords (get_string(..., lower) in
            // get_token()): oe-core writes LABEL, KERNEL, FDT, APPEND.
            let key = key.to_ascii_lowercase();
            let key = key.as_str();
            let rest = rest.trim();
            let label = cfg.labels.last_mut();
            let value = || {
                if rest.is_empty() {
                    Err(Error::config(file, line, format!("{key} needs a value")))
                } else {
                    Ok(rest.to_owned())
                }
            };
            match (key, label) {
                ("label", _) => cfg.labels.push(Label {
                    name: value()?,
                    line,
                    ..Label::default()
                }),
                ("default", _) => cfg.default = Some(value()?),
                ("menu", Some(label)) if rest.eq_ignore_ascii_case("default") => {
                    cfg.default = Some(label.name.clone())
                }
                ("kernel" | "linux", Some(label)) => label.kernel = Some(value()?),
                ("initrd", Some(label)) => label.initrd = Some(value()?),
                ("fdt" | "devicetree", Some(label)) => label.fdt = Some(value()?),
                ("fdtoverlays" | "devicetree-overlay", Some(label)) => {
                    label.fdtoverlays = rest.split_whitespace().map(str::to_owned).collect()
                }
                ("append", Some(label)) => label.append = Some(rest.to_owned()),
                (
                    "kernel" | "linux" | "initrd" | "fdt" | "devicetree" | "fdtoverlays"
                    | "devicetree-overlay" | "append",
                    None,
                ) => return Err(Error::config(file, line, format!("{key} before any label"))),
                ("fdtdir" | "devicetreedir", _) => {
                    let msg = format!("{key} {FDTDIR}");
                    return Err(Error::config(file, line, msg));
                }
                ("include" | "localboot", _) => {
                    return Err(Error::config(file, line, format!("{key} is not supported")))
                }
                (k, _) if IGNORED.contains(&k) => {}
                (k, _) => {
                    return Err(Error::config(
                        file,
                        line,
                        format!("unknown keyword '{k}' (U-Boot would ignore the line)"),
                    ))
                }
            }
        }
        Ok(cfg)
    }

    /// The label that boots: the `default` one, or the only one.
    pub fn boot_label(&self, file: &str) -> Result<&Label> {
        match (&self.default, self.labels.as_slice()) {
            (_, []) => Err(Error::config(file, 0, "no label")),
            (Some(name), labels) => labels
                .iter()
                .find(|l| &l.name == name)
                .ok_or_else(|| Error::config(file, 0, format!("default {name}: no such label"))),
            (None, [only]) => Ok(only),
            (None, _) => Err(Error::config(
                file,
                0,
                "several labels and no default: which one boots depends on the menu",
            )),
        }
    }
}

/// The path of `file`, named in `config` (both relative to the partition
/// root), as U-Boot resolves it: from the root if it starts with `/`, else
/// from `config`'s directory. U-Boot joins the two and lets the file system
/// walk `.` and `..` (FAT and ext4 keep both in every directory, and `..` of
/// the root is the root): so does this.
pub fn resolve(config: &str, file: &str) -> std::result::Result<String, String> {
    let base = if file.starts_with('/') {
        ""
    } else {
        config.rsplit_once('/').map_or("", |(dir, _)| dir)
    };
    let mut parts = Vec::new();
    for p in base.split('/').chain(file.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(format!("'{file}' names no file"));
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIRT: &str = "\
# comment
default coherent-heap
label coherent-heap
\tkernel /Image
\tfdt /qemu-virt-coherent.dtb
\tinitrd /initramfs.cpio
\tappend console=ttyAMA0 dmaheap.run=test
";

    #[test]
    fn parses_a_label() {
        let cfg = Config::parse("extlinux.conf", VIRT).unwrap();
        let l = cfg.boot_label("extlinux.conf").unwrap();
        assert_eq!(l.name, "coherent-heap");
        assert_eq!(l.kernel.as_deref(), Some("/Image"));
        assert_eq!(l.fdt.as_deref(), Some("/qemu-virt-coherent.dtb"));
        assert_eq!(l.initrd.as_deref(), Some("/initramfs.cpio"));
        assert_eq!(
            l.append.as_deref(),
            Some("console=ttyAMA0 dmaheap.run=test")
        );
        assert_eq!(l.line, 3);
    }

    #[test]
    fn keywords_in_any_case() {
        // What oe-core's uboot-extlinux-config writes.
        let text = "# Generic Distro Configuration file generated by OpenEmbedded\nLABEL Poky (Yocto Project Reference Distro)\n\tKERNEL ../Image\n\tFDT ../imx8mp-evk-coherent.dtb\n\tAPPEND root=PARTUUID=1 rootwait rw console=ttymxc1,115200\n";
        let cfg = Config::parse("extlinux/extlinux.conf", text).unwrap();
        let l = cfg.boot_label("e").unwrap();
        assert_eq!(l.name, "Poky (Yocto Project Reference Distro)");
        assert_eq!(l.kernel.as_deref(), Some("../Image"));
        assert_eq!(l.fdt.as_deref(), Some("../imx8mp-evk-coherent.dtb"));
        assert_eq!(
            l.append.as_deref(),
            Some("root=PARTUUID=1 rootwait rw console=ttymxc1,115200")
        );
        let menu = Config::parse("e", "label a\nlabel b\n MENU DEFAULT\n").unwrap();
        assert_eq!(menu.boot_label("e").unwrap().name, "b");
        assert!(Config::parse("e", "FDTDIR ../\n").is_err());
    }

    #[test]
    fn default_picks_among_labels() {
        let text = "default b\nlabel a\n kernel /a\nlabel b\n linux /b\n devicetree /b.dtb\n fdtoverlays /x.dtbo /y.dtbo\n";
        let cfg = Config::parse("e", text).unwrap();
        let l = cfg.boot_label("e").unwrap();
        assert_eq!(l.kernel.as_deref(), Some("/b"));
        assert_eq!(l.fdt.as_deref(), Some("/b.dtb"));
        assert_eq!(l.fdtoverlays, ["/x.dtbo", "/y.dtbo"]);
    }

    #[test]
    fn menu_default_inside_a_label() {
        let cfg = Config::parse("e", "label a\nlabel b\n menu default\n kernel /b\n").unwrap();
        assert_eq!(cfg.boot_label("e").unwrap().name, "b");
    }

    #[test]
    fn the_only_label_boots_without_default() {
        let cfg = Config::parse("e", "timeout 0\nlabel x\n kernel /k\n").unwrap();
        assert_eq!(cfg.boot_label("e").unwrap().name, "x");
    }

    #[test]
    fn ambiguous_or_missing_labels_are_errors() {
        let two = Config::parse("e", "label a\nlabel b\n").unwrap();
        assert!(two
            .boot_label("e")
            .unwrap_err()
            .to_string()
            .contains("no default"));
        let none = Config::parse("e", "timeout 1\n").unwrap();
        assert_eq!(none.boot_label("e").unwrap_err().to_string(), "e: no label");
        let bad = Config::parse("e", "default c\nlabel a\n").unwrap();
        assert_eq!(
            bad.boot_label("e").unwrap_err().to_string(),
            "e: default c: no such label"
        );
    }

    #[test]
    fn refuses_what_it_cannot_follow() {
        for (text, want) in [
            ("label a\n fdtdir /dtbs\n", "e:2: fdtdir takes the DTB name"),
            ("include other.conf\n", "e:1: include is not supported"),
            ("label a\n ftd /x.dtb\n", "e:2: unknown keyword 'ftd'"),
            ("kernel /Image\n", "e:1: kernel before any label"),
            ("label a\n kernel\n", "e:2: kernel needs a value"),
        ] {
            let err = Config::parse("e", text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn resolves_like_u_boot() {
        assert_eq!(
            resolve("extlinux/extlinux.conf", "/Image").unwrap(),
            "Image"
        );
        assert_eq!(
            resolve("extlinux/extlinux.conf", "Image").unwrap(),
            "extlinux/Image"
        );
        assert_eq!(resolve("extlinux.conf", "dtb/x.dtb").unwrap(), "dtb/x.dtb");
        assert_eq!(resolve("a/b.conf", "//x//y").unwrap(), "x/y");
        assert_eq!(
            resolve("extlinux/extlinux.conf", "../Image").unwrap(),
            "Image"
        );
        assert_eq!(
            resolve("boot/extlinux/e.conf", "../Image").unwrap(),
            "boot/Image"
        );
        assert_eq!(resolve("e.conf", "../../x/./y.dtb").unwrap(), "x/y.dtb");
        assert!(resolve("extlinux/e.conf", "..").is_err());
        assert!(resolve("a/b.conf", "/").is_err());
    }
}
