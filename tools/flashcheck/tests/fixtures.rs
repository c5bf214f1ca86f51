//! flashcheck's verdicts on fixture systems: sysfs trees, mount tables and
//! swap lists written by the tests, never the machine's own.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use flashcheck::system::DevNum;
use flashcheck::{check, verify, DeviceNode, NodeKind, RefusalKind, Request, SystemRoots};

/// A fixture system in a scratch directory, removed on drop.
struct Fixture {
    root: PathBuf,
    mounts: Vec<String>,
    swaps: Vec<String>,
}

const ROOTFS: &str = "254:0 / / rw - ext4 /dev/dm-0 rw";

impl Fixture {
    fn new(name: &str) -> Fixture {
        let root = std::env::temp_dir().join(format!("flashcheck-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for d in ["sys/dev/block", "sys/class/block", "dev/mapper", "proc"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let f = Fixture {
            root,
            mounts: vec!["0:22 / /proc rw - proc proc rw".into()],
            swaps: vec![],
        };
        // The running system: vda, root on LVM (dm-0 on vda2), /boot on vda1.
        f.disk(
            "vda",
            (253, 0),
            0,
            20 << 30,
            "devices/pci0000:00/virtio1/block",
        )
        .part("vda", "vda1", 1, (253, 1))
        .part("vda", "vda2", 2, (253, 2))
        .holder("dm-0", (254, 0), &["vda/vda2"]);
        f
    }

    fn sys(&self) -> PathBuf {
        self.root.join("sys")
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// A whole disk under sys/BUS/NAME.
    fn disk(&self, name: &str, num: (u32, u32), removable: u8, size: u64, bus: &str) -> &Fixture {
        let dir = format!("sys/{bus}/{name}");
        self.write(&format!("{dir}/dev"), &format!("{}:{}\n", num.0, num.1));
        self.write(&format!("{dir}/size"), &format!("{}\n", size / 512));
        self.write(&format!("{dir}/removable"), &format!("{removable}\n"));
        self.write(&format!("{dir}/ro"), "0\n");
        fs::create_dir_all(self.root.join(&dir).join("holders")).unwrap();
        self.link(name, num, &dir);
        fs::write(self.root.join("dev").join(name), "").unwrap();
        self
    }

    /// Partition N of DISK.
    fn part(&self, disk: &str, name: &str, n: u32, num: (u32, u32)) -> &Fixture {
        let dir = fs::canonicalize(self.sys().join("class/block").join(disk)).unwrap();
        let dir = dir.strip_prefix(&self.root).unwrap().join(name);
        let dir = dir.to_str().unwrap();
        self.write(&format!("{dir}/dev"), &format!("{}:{}\n", num.0, num.1));
        self.write(&format!("{dir}/partition"), &format!("{n}\n"));
        fs::create_dir_all(self.root.join(dir).join("holders")).unwrap();
        self.link(name, num, dir);
        fs::write(self.root.join("dev").join(name), "").unwrap();
        self
    }

    /// A device-mapper device on the devices `below` (paths under class/block).
    fn holder(&self, name: &str, num: (u32, u32), below: &[&str]) -> &Fixture {
        let dir = format!("sys/devices/virtual/block/{name}");
        self.write(&format!("{dir}/dev"), &format!("{}:{}\n", num.0, num.1));
        fs::create_dir_all(self.root.join(&dir).join("holders")).unwrap();
        self.link(name, num, &dir);
        for b in below {
            let disk = b.split('/').next().unwrap();
            let base = fs::canonicalize(self.sys().join("class/block").join(disk)).unwrap();
            let sub = b
                .split_once('/')
                .map_or(base.clone(), |(_, p)| base.join(p));
            fs::write(sub.join("holders").join(name), "").unwrap();
        }
        fs::write(self.root.join("dev").join(name), "").unwrap();
        self
    }

    fn link(&self, name: &str, num: (u32, u32), dir: &str) {
        let target = Path::new("../..").join(dir.strip_prefix("sys/").unwrap());
        symlink(
            &target,
            self.sys()
                .join("dev/block")
                .join(format!("{}:{}", num.0, num.1)),
        )
        .unwrap();
        symlink(&target, self.sys().join("class/block").join(name)).unwrap();
    }

    fn mount(&mut self, line: &str) -> &mut Fixture {
        self.mounts.push(line.into());
        self
    }

    fn swap(&mut self, name: &str) -> &mut Fixture {
        self.swaps
            .push(format!("{name}\tpartition\t1048572\t0\t-2"));
        self
    }

    fn roots(&self) -> SystemRoots {
        let mut mi = String::new();
        for (i, m) in [
            ROOTFS.to_owned(),
            "253:1 / /boot rw - vfat /dev/vda1 rw".into(),
        ]
        .iter()
        .chain(&self.mounts)
        .enumerate()
        {
            mi += &format!("{} 1 {m}\n", 20 + i);
        }
        self.write("proc/mountinfo", &mi);
        let mut sw = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n".to_owned();
        for s in &self.swaps {
            sw += &format!("{s}\n");
        }
        self.write("proc/swaps", &sw);
        SystemRoots {
            sys: self.sys(),
            mountinfo: self.root.join("proc/mountinfo"),
            swaps: self.root.join("proc/swaps"),
            dev: self.root.join("dev"),
        }
    }

    /// A 64 KiB image with a few mapped blocks and its bmap.
    fn image(&self) -> PathBuf {
        let mut img = vec![0u8; 64 * 1024];
        img[..512].fill(0x11);
        img[4096 * 5..4096 * 7].fill(0x22);
        let path = self.root.join("board.img");
        fs::write(&path, &img).unwrap();
        fs::write(
            self.root.join("board.img.bmap"),
            flashcheck::bmap::render(&img),
        )
        .unwrap();
        path
    }

    fn request(&self, num: (u32, u32)) -> Request {
        let image = self.image();
        Request {
            bmap: PathBuf::from(format!("{}.bmap", image.display())),
            image,
            device: DeviceNode {
                path: "/dev/target".into(),
                kind: NodeKind::Block(DevNum {
                    major: num.0,
                    minor: num.1,
                }),
            },
            force_fixed: false,
        }
    }

    /// The refusal for the request, or None for a yes.
    fn verdict(&self, req: &Request) -> Option<(RefusalKind, String)> {
        check(&self.roots(), req)
            .unwrap()
            .err()
            .map(|r| (r.kind, r.reason))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// A removable SD card reader at sdb with two partitions.
fn with_card(name: &str) -> Fixture {
    let f = Fixture::new(name);
    f.disk(
        "sdb",
        (8, 16),
        1,
        16 << 30,
        "devices/pci0000:00/usb1/1-1/host0/block",
    )
    .part("sdb", "sdb1", 1, (8, 17))
    .part("sdb", "sdb2", 2, (8, 18));
    f
}

#[test]
fn an_unused_removable_card_may_be_written() {
    let f = with_card("card");
    let req = f.request((8, 16));
    let disk = check(&f.roots(), &req).unwrap().unwrap();
    assert_eq!(disk.dev.name, "sdb");
    assert_eq!(disk.size, 16 << 30);
    assert!(disk.removable);
}

#[test]
fn a_partition_is_refused() {
    let f = with_card("part");
    let (kind, why) = f.verdict(&f.request((8, 17))).unwrap();
    assert_eq!(kind, RefusalKind::Partition);
    assert_eq!(
        why,
        "/dev/target is partition 1 of /dev/sdb: give the whole device"
    );
}

#[test]
fn the_running_systems_disk_is_refused_even_forced() {
    let f = Fixture::new("root");
    let mut req = f.request((253, 0));
    req.force_fixed = true;
    let (kind, why) = f.verdict(&req).unwrap();
    assert_eq!(kind, RefusalKind::Root);
    assert_eq!(
        why,
        "/dev/target holds the running system's root file system (/dev/dm-0 on /)"
    );
}

#[test]
fn boot_on_the_device_is_refused() {
    let mut f = with_card("boot");
    f.mount("8:17 / /boot/firmware rw - vfat /dev/sdb1 rw");
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Boot);
    assert!(
        why.contains("running system's /boot/firmware (/dev/sdb1 on /boot/firmware)"),
        "{why}"
    );
}

#[test]
fn swap_on_the_device_is_refused() {
    let mut f = with_card("swap");
    f.swap("/dev/sdb2");
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Swap);
    assert_eq!(
        why,
        "/dev/target holds the running system's swap (/dev/sdb2)"
    );
}

#[test]
fn swap_through_device_mapper_is_refused() {
    let mut f = with_card("dmswap");
    f.holder("dm-1", (254, 1), &["sdb/sdb2"]);
    symlink("../dm-1", f.root.join("dev/mapper/card-swap")).unwrap();
    f.swap("/dev/mapper/card-swap");
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Swap, "{why}");
    assert!(why.ends_with("(/dev/dm-1)"), "{why}");
}

#[test]
fn a_mounted_partition_is_refused() {
    let mut f = with_card("mounted");
    f.mount("8:18 / /media/my\\040card rw - ext4 /dev/sdb2 rw");
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Mounted);
    assert_eq!(
        why,
        "/dev/target is in use: /dev/sdb2 on /media/my card is mounted"
    );
}

#[test]
fn a_mount_with_an_anonymous_device_number_is_found_by_its_source() {
    let mut f = with_card("btrfs");
    f.mount("0:45 / /mnt rw - btrfs /dev/sdb1 rw");
    let (kind, _) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Mounted);
}

#[test]
fn a_mounted_whole_disk_is_refused() {
    let mut f = with_card("whole");
    f.mount("8:16 / /mnt rw - vfat /dev/sdb rw");
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::Mounted);
    assert!(why.contains("/dev/sdb on /mnt"), "{why}");
}

#[test]
fn an_open_crypt_device_on_it_is_refused() {
    let f = with_card("crypt");
    f.holder("dm-3", (254, 3), &["sdb/sdb2"]);
    let (kind, why) = f.verdict(&f.request((8, 16))).unwrap();
    assert_eq!(kind, RefusalKind::InUse);
    assert_eq!(why, "/dev/target is in use: /dev/dm-3 sits on /dev/sdb2");
}

#[test]
fn a_fixed_disk_needs_force_fixed() {
    let f = Fixture::new("fixed");
    f.disk("loop0", (7, 0), 0, 1 << 20, "devices/virtual/block");
    let mut req = f.request((7, 0));
    let (kind, why) = f.verdict(&req).unwrap();
    assert_eq!(kind, RefusalKind::Fixed);
    assert!(why.contains("not a removable device"), "{why}");
    req.force_fixed = true;
    assert_eq!(f.verdict(&req), None);
}

#[test]
fn a_read_only_card_is_refused() {
    let f = with_card("ro");
    let dir = fs::canonicalize(f.sys().join("class/block/sdb")).unwrap();
    fs::write(dir.join("ro"), "1\n").unwrap();
    assert_eq!(
        f.verdict(&f.request((8, 16))).unwrap().0,
        RefusalKind::ReadOnly
    );
}

#[test]
fn a_device_smaller_than_the_image_is_refused() {
    let f = Fixture::new("small");
    f.disk(
        "mmcblk0",
        (179, 0),
        1,
        32 * 1024,
        "devices/platform/mmc0/block",
    );
    let (kind, why) = f.verdict(&f.request((179, 0))).unwrap();
    assert_eq!(kind, RefusalKind::TooSmall);
    assert!(why.starts_with("/dev/target has 32768 bytes, "), "{why}");
    assert!(why.ends_with("board.img needs 65536"), "{why}");
}

#[test]
fn what_is_not_a_block_device_is_refused() {
    let f = with_card("notblock");
    let mut req = f.request((8, 16));
    req.device.kind = NodeKind::Other;
    assert_eq!(
        f.verdict(&req).unwrap(),
        (
            RefusalKind::NotBlock,
            "/dev/target is not a block device".into()
        )
    );
    req.device.kind = NodeKind::Missing;
    assert_eq!(f.verdict(&req).unwrap().0, RefusalKind::NoDevice);
    // A device number sysfs does not know.
    assert_eq!(
        f.verdict(&f.request((8, 99))).unwrap().0,
        RefusalKind::NotBlock
    );
}

#[test]
fn an_image_without_a_matching_bmap_is_refused() {
    let f = with_card("image");
    let req = f.request((8, 16));
    // A changed block.
    let mut img = fs::read(&req.image).unwrap();
    img[4096 * 6] ^= 1;
    fs::write(&req.image, &img).unwrap();
    let (kind, why) = f.verdict(&req).unwrap();
    assert_eq!(kind, RefusalKind::Image);
    assert!(
        why.ends_with("blocks 5-6 do not match the checksum of its bmap"),
        "{why}"
    );
    assert!(kind.is_image());
    // Another size.
    let req = f.request((8, 16));
    img.push(0);
    fs::write(&req.image, &img).unwrap();
    let (_, why) = f.verdict(&req).unwrap();
    assert!(
        why.ends_with("it has 65537 bytes, its bmap says 65536"),
        "{why}"
    );
    // An edited bmap.
    let req = f.request((8, 16));
    let text = fs::read_to_string(&req.bmap)
        .unwrap()
        .replace("<BlockSize> 4096", "<BlockSize> 512");
    fs::write(&req.bmap, text).unwrap();
    let (kind, why) = f.verdict(&req).unwrap();
    assert_eq!(kind, RefusalKind::Bmap);
    assert!(
        why.ends_with("board.img.bmap: its BmapFileChecksum does not match its contents"),
        "{why}"
    );
    // No bmap.
    fs::remove_file(&req.bmap).unwrap();
    let (kind, why) = f.verdict(&req).unwrap();
    assert_eq!(kind, RefusalKind::Bmap);
    assert!(why.ends_with("board.img.bmap: does not exist"), "{why}");
}

#[test]
fn device_problems_come_before_image_problems() {
    let mut f = with_card("order");
    f.mount("8:17 / /mnt rw - vfat /dev/sdb1 rw");
    let req = f.request((8, 16));
    fs::remove_file(&req.bmap).unwrap();
    assert_eq!(f.verdict(&req).unwrap().0, RefusalKind::Mounted);
}

#[test]
fn verify_reads_back_the_mapped_blocks() {
    let f = with_card("verify");
    let req = f.request((8, 16));
    let written = f.root.join("written");
    // Unmapped blocks may hold anything on the device.
    let mut dev = fs::read(&req.image).unwrap();
    dev[4096 * 9] = 0x55;
    dev.extend_from_slice(&[0xaa; 8192]);
    fs::write(&written, &dev).unwrap();
    assert_eq!(verify(&req.bmap, &written).unwrap(), Ok(()));
    dev[4096 * 5 + 1] = 0;
    fs::write(&written, &dev).unwrap();
    let r = verify(&req.bmap, &written).unwrap().unwrap_err();
    assert_eq!(r.kind, RefusalKind::Written);
    assert!(
        r.reason.contains("blocks 5-6 do not hold what"),
        "{}",
        r.reason
    );
}
