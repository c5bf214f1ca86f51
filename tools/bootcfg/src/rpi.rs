//! The Raspberry Pi firmware's `config.txt`: what it loads.
//!
//! `key=value` lines, `#` comments, `initramfs FILE followkernel|ADDRESS`,
//! and conditional sections: `[all]` applies to every model, `[none]` to
//! none, `[pi4]` / `[pi5]` to that model only; a section lasts until the
//! next one. Later settings win. The defaults are the firmware's: the
//! kernel is `kernel8.img` (Pi 4, 64-bit) or `kernel_2712.img` (Pi 5), the
//! DTB is the board's (`bcm2711-rpi-4-b.dtb`, `bcm2712-rpi-5-b.dtb`),
//! overlays are `overlays/NAME.dtbo`, the command line is `cmdline.txt`.
//!
//! Settings that change what is loaded in ways this crate does not follow
//! are refused with their line: other section filters, `include`,
//! `os_prefix`, `dtparam` and overlay parameters (the firmware edits the DTB
//! with them), several initramfs files. Other keys (clocks, UART, video)
//! are accepted and do not matter to the plan.

use crate::error::{Error, Result};

/// A Raspberry Pi model whose firmware reads `config.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Raspberry Pi 4 Model B (`[pi4]`).
    Pi4,
    /// Raspberry Pi 5 (`[pi5]`).
    Pi5,
}

impl Model {
    /// The section filter that selects this model.
    pub fn filter(self) -> &'static str {
        match self {
            Model::Pi4 => "pi4",
            Model::Pi5 => "pi5",
        }
    }

    /// The DTB the firmware loads without `device_tree=`.
    pub fn default_dtb(self) -> &'static str {
        match self {
            Model::Pi4 => "bcm2711-rpi-4-b.dtb",
            Model::Pi5 => "bcm2712-rpi-5-b.dtb",
        }
    }
}

/// What the firmware of a model loads, from `config.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The kernel image.
    pub kernel: String,
    /// The initramfs, if any.
    pub initramfs: Option<String>,
    /// The base DTB.
    pub device_tree: String,
    /// The overlays, in order, as files (`overlays/NAME.dtbo`).
    pub overlays: Vec<String>,
    /// The file holding the kernel command line.
    pub cmdline: String,
}

/// Reads `text` (the `config.txt` named `file` in messages) for `model`.
pub fn parse(file: &str, text: &str, model: Model) -> Result<Settings> {
    let mut active = true;
    let mut arm_64bit = model == Model::Pi5;
    let mut kernel = None;
    let mut initramfs = None;
    let mut device_tree = None;
    let mut overlay_names: Vec<(String, usize)> = Vec::new();
    let mut overlay_prefix = "overlays/".to_owned();
    let mut cmdline = "cmdline.txt".to_owned();
    for (line, l) in crate::config_lines(text) {
        let err = |msg: String| Error::config(file, line, msg);
        if let Some(filter) = l.strip_prefix('[') {
            let filter = filter
                .strip_suffix(']')
                .ok_or_else(|| err(format!("'{l}': a section filter ends with ]")))?;
            active = match filter {
                "all" => true,
                "none" => false,
                "pi4" | "pi5" => filter == model.filter(),
                other => return Err(err(format!("section filter [{other}] is not supported"))),
            };
            continue;
        }
        if let Some(rest) = l
            .strip_prefix("initramfs")
            .filter(|r| r.starts_with(char::is_whitespace))
        {
            let mut words = rest.split_whitespace();
            let (Some(name), Some(_where), None) = (words.next(), words.next(), words.next())
            else {
                return Err(err(
                    "initramfs needs FILE and followkernel or an address".into()
                ));
            };
            if name.contains(',') {
                return Err(err("several initramfs files are not supported".into()));
            }
            if active {
                initramfs = Some(name.to_owned());
            }
            continue;
        }
        let Some((key, value)) = l.split_once('=') else {
            return Err(err(format!("'{l}' is neither key=value nor a section")));
        };
        let (key, value) = (key.trim(), value.trim());
        if !active {
            continue;
        }
        match key {
            "arm_64bit" => arm_64bit = value != "0",
            "kernel" => kernel = Some(nonempty(value, key, &err)?),
            "device_tree" => device_tree = Some(nonempty(value, key, &err)?),
            "cmdline" => cmdline = nonempty(value, key, &err)?,
            "overlay_prefix" => overlay_prefix = value.to_owned(),
            "ramfsfile" => initramfs = Some(nonempty(value, key, &err)?),
            "dtoverlay" => {
                let name = nonempty(value, key, &err)?;
                if name.contains([',', ':']) {
                    return Err(err(format!(
                        "dtoverlay={name}: overlay parameters are not supported"
                    )));
                }
                overlay_names.push((name, line));
            }
            "dtparam" | "include" | "os_prefix" | "device_tree_address" => {
                return Err(err(format!("{key} is not supported")))
            }
            _ => {}
        }
    }
    if !arm_64bit {
        return Err(Error::config(
            file,
            0,
            "no arm_64bit=1: the Pi 4 firmware would start the kernel in 32-bit mode",
        ));
    }
    Ok(Settings {
        kernel: kernel.unwrap_or_else(|| match model {
            Model::Pi4 => "kernel8.img".into(),
            Model::Pi5 => "kernel_2712.img".into(),
        }),
        initramfs,
        device_tree: device_tree.unwrap_or_else(|| model.default_dtb().into()),
        overlays: overlay_names
            .into_iter()
            .map(|(n, _)| format!("{overlay_prefix}{n}.dtbo"))
            .collect(),
        cmdline,
    })
}

fn nonempty(value: &str, key: &str, err: &dyn Fn(String) -> Error) -> Result<String> {
    if value.is_empty() {
        Err(err(format!("{key}= needs a value")))
    } else {
        Ok(value.to_owned())
    }
}

/// The kernel command line in `cmdline.txt`: its first line.
pub fn cmdline(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PI4: &str = "\
# comment
[all]
arm_64bit=1
enable_uart=1
kernel=Image
initramfs initramfs.cpio followkernel
device_tree=bcm2711-rpi-4-b.dtb
dtoverlay=coherent-heap
";

    #[test]
    fn reads_the_layers_pi4_config() {
        let s = parse("config.txt", PI4, Model::Pi4).unwrap();
        assert_eq!(s.kernel, "Image");
        assert_eq!(s.initramfs.as_deref(), Some("initramfs.cpio"));
        assert_eq!(s.device_tree, "bcm2711-rpi-4-b.dtb");
        assert_eq!(s.overlays, ["overlays/coherent-heap.dtbo"]);
        assert_eq!(s.cmdline, "cmdline.txt");
    }

    #[test]
    fn defaults_are_the_firmwares() {
        let s = parse("c", "dtoverlay=a\n", Model::Pi5).unwrap();
        assert_eq!(s.kernel, "kernel_2712.img");
        assert_eq!(s.device_tree, "bcm2712-rpi-5-b.dtb");
        assert_eq!(s.initramfs, None);
        let s = parse("c", "arm_64bit=1\n", Model::Pi4).unwrap();
        assert_eq!(s.kernel, "kernel8.img");
        assert_eq!(s.device_tree, "bcm2711-rpi-4-b.dtb");
    }

    #[test]
    fn sections_select_the_model() {
        let text = "arm_64bit=1\n[pi4]\nkernel=four\ndtoverlay=x\n[pi5]\nkernel=five\n[none]\nkernel=never\n[all]\ndtoverlay=y\n";
        let four = parse("c", text, Model::Pi4).unwrap();
        assert_eq!(four.kernel, "four");
        assert_eq!(four.overlays, ["overlays/x.dtbo", "overlays/y.dtbo"]);
        let five = parse("c", text, Model::Pi5).unwrap();
        assert_eq!(five.kernel, "five");
        assert_eq!(five.overlays, ["overlays/y.dtbo"]);
    }

    #[test]
    fn later_settings_win_and_prefix_applies() {
        let s = parse(
            "c",
            "arm_64bit=1\nkernel=a\nkernel=b\noverlay_prefix=ov/h-\ndtoverlay=x\ncmdline=args.txt\n",
            Model::Pi4,
        )
        .unwrap();
        assert_eq!(s.kernel, "b");
        assert_eq!(s.overlays, ["ov/h-x.dtbo"]);
        assert_eq!(s.cmdline, "args.txt");
    }

    #[test]
    fn a_pi4_without_arm_64bit_is_refused() {
        let err = parse("config.txt", "kernel=Image\n", Model::Pi4).unwrap_err();
        assert!(
            err.to_string().starts_with("config.txt: no arm_64bit=1"),
            "{err}"
        );
        let err = parse("c", "arm_64bit=0\n", Model::Pi4).unwrap_err();
        assert!(err.to_string().contains("32-bit"), "{err}");
    }

    #[test]
    fn refuses_what_it_cannot_follow() {
        for (text, want) in [
            ("[cm4]\n", "c:1: section filter [cm4] is not supported"),
            ("[pi4\n", "c:1: '[pi4': a section filter ends with ]"),
            ("dtparam=audio=on\n", "c:1: dtparam is not supported"),
            (
                "dtoverlay=x,speed=3\n",
                "c:1: dtoverlay=x,speed=3: overlay parameters",
            ),
            ("os_prefix=a/\n", "c:1: os_prefix is not supported"),
            (
                "initramfs a,b followkernel\n",
                "c:1: several initramfs files",
            ),
            ("initramfs a\n", "c:1: initramfs needs FILE"),
            ("kernel\n", "c:1: 'kernel' is neither key=value"),
            ("kernel=\n", "c:1: kernel= needs a value"),
        ] {
            let err = parse("c", text, Model::Pi5).unwrap_err().to_string();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn inactive_sections_are_still_checked_for_syntax_only() {
        // An unsupported key in a section that does not apply is harmless.
        let s = parse("c", "[pi4]\ndtparam=x=1\n[all]\n", Model::Pi5).unwrap();
        assert!(s.overlays.is_empty());
    }

    #[test]
    fn cmdline_is_the_first_line() {
        assert_eq!(
            cmdline("console=ttyS1,115200 a=b\nignored\n"),
            "console=ttyS1,115200 a=b"
        );
        assert_eq!(cmdline(""), "");
    }
}
