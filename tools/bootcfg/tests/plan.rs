//! Boot plans of partitions made from the layer's own boot files
//! (recipes-bsp/coherent-heap-boot/files/), and the cases that must fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bootcfg::rpi::Model;
use bootcfg::{BootPlan, Loader};

fn boot_files(board: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../recipes-bsp/coherent-heap-boot/files")
        .join(board)
}

/// A scratch partition directory, removed on drop.
struct Part(PathBuf);

impl Part {
    fn new(name: &str) -> Part {
        // Tests run in parallel threads, several on one fixture: one directory each.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("bootcfg-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Part(dir)
    }

    fn put(&self, file: &str, contents: &[u8]) -> &Part {
        let p = self.0.join(file);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, contents).unwrap();
        self
    }

    fn copy(&self, file: &str, from: &Path) -> &Part {
        self.put(file, &fs::read(from).unwrap())
    }

    fn remove(&self, file: &str) -> &Part {
        fs::remove_file(self.0.join(file)).unwrap();
        self
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn pi4() -> Part {
    let p = Part::new("pi4");
    p.copy(
        "config.txt",
        &boot_files("bcm2711-rpi-4-b").join("config.txt"),
    )
    .copy(
        "cmdline.txt",
        &boot_files("bcm2711-rpi-4-b").join("cmdline.txt"),
    )
    .put("Image", b"k")
    .put("initramfs.cpio", b"i")
    .put("bcm2711-rpi-4-b.dtb", b"d")
    .put("overlays/coherent-heap.dtbo", b"o");
    p
}

fn evk() -> Part {
    let p = Part::new("evk");
    p.copy(
        "extlinux/extlinux.conf",
        &boot_files("imx8mp-evk").join("extlinux.conf"),
    )
    .put("Image", b"k")
    .put("initramfs.cpio", b"i")
    .put("imx8mp-evk-coherent.dtb", b"d");
    p
}

#[test]
fn the_pi4_image_boots_the_mainline_dtb_with_the_overlay() {
    let part = pi4();
    let plan = BootPlan::read(&part.0, Loader::Rpi(Model::Pi4), None).unwrap();
    assert_eq!(plan.loader, "rpi4");
    assert_eq!(plan.kernel, "Image");
    assert_eq!(plan.initrd.as_deref(), Some("initramfs.cpio"));
    assert_eq!(plan.fdt, "bcm2711-rpi-4-b.dtb");
    assert_eq!(plan.overlays, ["overlays/coherent-heap.dtbo"]);
    assert_eq!(plan.cmdline_file, "cmdline.txt");
    assert_eq!(plan.param("console"), Some("ttyS1,115200"));
    plan.require("dmaheap.regions=camera@10000000,display@14000000")
        .unwrap();
    plan.require("dmaheap.run=demo").unwrap();
}

#[test]
fn the_pi5_text_names_its_own_dtb() {
    let part = Part::new("pi5");
    part.copy(
        "config.txt",
        &boot_files("bcm2712-rpi-5-b").join("config.txt"),
    )
    .copy(
        "cmdline.txt",
        &boot_files("bcm2712-rpi-5-b").join("cmdline.txt"),
    )
    .put("Image", b"k")
    .put("initramfs.cpio", b"i")
    .put("bcm2712-rpi-5-b.dtb", b"d")
    .put("overlays/coherent-heap.dtbo", b"o");
    let plan = BootPlan::read(&part.0, Loader::Rpi(Model::Pi5), None).unwrap();
    assert_eq!(plan.fdt, "bcm2712-rpi-5-b.dtb");
    assert_eq!(plan.param("console"), Some("ttyAMA10,115200"));
}

#[test]
fn the_evk_image_boots_the_merged_dtb() {
    let part = evk();
    let plan = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap();
    assert_eq!(plan.config, "extlinux/extlinux.conf");
    assert_eq!(plan.kernel, "Image");
    assert_eq!(plan.fdt, "imx8mp-evk-coherent.dtb");
    assert!(plan.overlays.is_empty());
    assert_eq!(plan.param("console"), Some("ttymxc1,115200"));
    plan.require("dmaheap.regions=camera@c8000000,video@c0000000")
        .unwrap();
}

#[test]
fn every_u_boot_board_text_parses() {
    for (board, dtb) in [
        ("rk3588-rock-5b", "rk3588-rock-5b-coherent.dtb"),
        ("k3-am625-sk", "k3-am625-sk-coherent.dtb"),
    ] {
        let part = Part::new(board);
        part.copy(
            "extlinux/extlinux.conf",
            &boot_files(board).join("extlinux.conf"),
        )
        .put("Image", b"k")
        .put("initramfs.cpio", b"i")
        .put(dtb, b"d");
        let plan = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap();
        assert_eq!(plan.fdt, dtb, "{board}");
    }
}

#[test]
fn the_virt_text_is_read_from_sysboot() {
    let part = Part::new("virt");
    part.copy(
        "sysboot/extlinux.conf",
        &boot_files("qemu-virt").join("extlinux.conf"),
    )
    .put("Image", b"k")
    .put("initramfs.cpio", b"i")
    .put("qemu-virt-coherent.dtb", b"d");
    let plan = BootPlan::read(&part.0, Loader::Extlinux, Some("sysboot/extlinux.conf")).unwrap();
    assert_eq!(plan.fdt, "qemu-virt-coherent.dtb");
    plan.require("dmaheap.run=test").unwrap();
    plan.require("dmaheap.end=reboot").unwrap();
    plan.require("panic=-1").unwrap();
    // Distro boot would find no extlinux/extlinux.conf on the partition.
    let err = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap_err();
    assert!(matches!(err, bootcfg::Error::Io { .. }), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let part = pi4();
    part.remove("overlays/coherent-heap.dtbo");
    let err = BootPlan::read(&part.0, Loader::Rpi(Model::Pi4), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config.txt: overlay overlays/coherent-heap.dtbo is not on the partition"
    );
    let part = pi4();
    part.remove("cmdline.txt");
    let err = BootPlan::read(&part.0, Loader::Rpi(Model::Pi4), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "config.txt: cmdline cmdline.txt is not on the partition"
    );
    let part = evk();
    part.remove("initramfs.cpio");
    let err = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "extlinux/extlinux.conf: initrd initramfs.cpio is not on the partition"
    );
}

#[test]
fn an_extlinux_label_without_fdt_is_refused() {
    let part = evk();
    part.put(
        "extlinux/extlinux.conf",
        b"default a\nlabel a\n kernel /Image\n initrd /initramfs.cpio\n append console=ttymxc1\n",
    );
    let err = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "extlinux/extlinux.conf:2: label a has no fdt: U-Boot would boot the board's own tree"
        ),
        "{err}"
    );
}

#[test]
fn relative_paths_are_from_the_configs_directory() {
    let part = evk();
    part.put(
        "extlinux/extlinux.conf",
        b"label a\n kernel Image\n fdt /imx8mp-evk-coherent.dtb\n fdtoverlays o.dtbo\n",
    )
    .put("extlinux/Image", b"k")
    .put("extlinux/o.dtbo", b"o");
    let plan = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap();
    assert_eq!(plan.kernel, "extlinux/Image");
    assert_eq!(plan.overlays, ["extlinux/o.dtbo"]);
    assert_eq!(plan.initrd, None);
    assert_eq!(plan.cmdline, "");
}

#[test]
fn required_parameters_name_what_was_found() {
    let part = pi4();
    let plan = BootPlan::read(&part.0, Loader::Rpi(Model::Pi4), None).unwrap();
    let err = plan.require("dmaheap.regions=camera@10000000").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cmdline.txt: the command line has dmaheap.regions=camera@10000000,display@14000000, \
         expected dmaheap.regions=camera@10000000"
    );
    let err = plan.require("panic=-1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cmdline.txt: the command line has no panic=-1"
    );
}

/// The grub.cfg wic's bootimg-efi writes for the AM62x machine's .wks.
const GRUB_CFG: &str = "\
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
default=boot
timeout=3
menuentry 'boot'{
linux /Image root=PARTUUID=e77f5cdc-02 rootwait rootfstype=ext4 console=ttyS2,115200
devicetree /k3-am625-sk-coherent.dtb
}
";

#[test]
fn the_grub_partition_boots_its_devicetree() {
    let part = Part::new("grub");
    part.put("EFI/BOOT/grub.cfg", GRUB_CFG.as_bytes())
        .put("Image", b"k")
        .put("k3-am625-sk-coherent.dtb", b"d");
    let plan = BootPlan::read(&part.0, Loader::Grub, None).unwrap();
    assert_eq!(plan.loader, "grub");
    assert_eq!(plan.config, "EFI/BOOT/grub.cfg");
    assert_eq!(plan.kernel, "Image");
    assert_eq!(plan.fdt, "k3-am625-sk-coherent.dtb");
    assert_eq!(plan.initrd, None);
    assert_eq!(plan.param("console"), Some("ttyS2,115200"));

    part.remove("k3-am625-sk-coherent.dtb");
    let e = BootPlan::read(&part.0, Loader::Grub, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "EFI/BOOT/grub.cfg: fdt k3-am625-sk-coherent.dtb is not on the partition"
    );
    part.put(
        "EFI/BOOT/grub.cfg",
        GRUB_CFG
            .replace("devicetree /k3-am625-sk-coherent.dtb\n", "")
            .as_bytes(),
    );
    let e = BootPlan::read(&part.0, Loader::Grub, None).unwrap_err();
    assert!(e.to_string().contains("has no devicetree"), "{e}");
}

#[test]
fn the_extlinux_conf_oe_core_writes_is_read() {
    // uboot-extlinux-config's output for the i.MX 8M Plus machine.
    let part = Part::new("oe-extlinux");
    part.put(
        "extlinux/extlinux.conf",
        b"# Generic Distro Configuration file generated by OpenEmbedded\n\
          LABEL i.MX8M Plus EVK\n\
          \tKERNEL ../Image\n\
          \tFDT ../imx8mp-evk-coherent.dtb\n\
          \tAPPEND root=/dev/mmcblk1p2 rootwait rw console=${console}\n",
    )
    .put("Image", b"k")
    .put("imx8mp-evk-coherent.dtb", b"d");
    let plan = BootPlan::read(&part.0, Loader::Extlinux, None).unwrap();
    assert_eq!(plan.kernel, "Image");
    assert_eq!(plan.fdt, "imx8mp-evk-coherent.dtb");
    assert_eq!(plan.param("root"), Some("/dev/mmcblk1p2"));
}
