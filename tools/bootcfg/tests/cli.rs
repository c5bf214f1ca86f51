//! The bootcfg binary: the text the scripts read, and its exit statuses.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootcfg"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bootcfg-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("extlinux")).unwrap();
    dir
}

#[test]
fn plan_prints_one_item_a_line() {
    let dir = scratch("plan");
    fs::write(
        dir.join("extlinux/extlinux.conf"),
        "label a\n kernel /Image\n fdt /b.dtb\n fdtoverlays /o1.dtbo /o2.dtbo\n initrd /i\n append console=x y=z\n",
    )
    .unwrap();
    for f in ["Image", "b.dtb", "o1.dtbo", "o2.dtbo", "i"] {
        fs::write(dir.join(f), "").unwrap();
    }
    let out = run(&[
        "plan",
        "--loader",
        "extlinux",
        "--require-param",
        "y=z",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "kernel Image\ninitrd i\nfdt b.dtb\noverlay o1.dtbo\noverlay o2.dtbo\ncmdline console=x y=z\n"
    );
    let out = run(&[
        "plan",
        "--loader",
        "extlinux",
        "--require-param",
        "y=w",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let out = run(&["plan", "--loader", "rpi4", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no config.txt: unreadable input"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn boot_partition_prints_offset_and_size() {
    let dir = scratch("mbr");
    let mut img = vec![0u8; 4 << 20];
    let e = &mut img[446..462];
    e[0] = 0x80;
    e[4] = 0x0c;
    e[8..12].copy_from_slice(&2048u32.to_le_bytes());
    e[12..16].copy_from_slice(&4096u32.to_le_bytes());
    img[510] = 0x55;
    img[511] = 0xaa;
    let path = dir.join("d.img");
    fs::write(&path, &img).unwrap();
    let out = run(&["boot-partition", path.to_str().unwrap()]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "1048576 2097152\n");
    img[510] = 0;
    fs::write(&path, &img).unwrap();
    let out = run(&["boot-partition", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("no MBR"));
    fs::remove_dir_all(dir).unwrap();
}
