"""Unit tests of checks/crates.py, checks/kernel_series.py, checks/boot_files.py, checks/buildroot.py
and the parts of checks/wic_boot.py that need no bitbake (run by scripts/check-layer)."""

import contextlib
import hashlib
import io
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import boot_files
import buildroot
import crates
import kernel_series
import wic_boot

LOCK = """\
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["libc", "toml"]

[[package]]
name = "toml"
version = "1.2.2+spec-1.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{toml}"

[[package]]
name = "libc"
version = "0.2.191"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "{libc}"
"""
SUMS = {"toml": "a" * 64, "libc": "b" * 64}

PATCH = """\
From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
Subject: [PATCH] a change

Why.

{sob}
---
{status}

 a | 1 +
"""
SOB = "Signed-off-by: A Developer <dev@example.org>"


# What cargo says of the fixture workspace: every package's licence (cargo
# metadata) and those of the crates the target binary links (cargo tree).
SOURCE = {"app v0.1.0": "MIT", "toml v1.2.2": "MIT OR Apache-2.0",
          "unicode-ident v1.0.27": "(MIT OR Apache-2.0) AND Unicode-3.0",
          "memchr v2.8.3": "Unlicense/MIT"}
LINKED = {"app v0.1.0": "MIT", "memchr v2.8.3": "Unlicense OR MIT"}
COPYING = "Copyright (c) 2026 someone\n\nPermission is hereby granted...\n"
SWITCH = "${@'%s' if 'blacksail' in d.getVar('LAYERSERIES_CORENAMES').split() else '%s'}"
RECIPE = (
    'LICENSE = "%s"\n' % (SWITCH % ("MIT AND Unicode-3.0 AND (Apache-2.0 OR MIT) AND (MIT OR Unlicense)",
                                    "MIT & Unicode-3.0 & (Apache-2.0 | MIT) & (MIT | Unlicense)"))
    + 'LICENSE:${PN} = "%s"\n' % (SWITCH % ("MIT AND (MIT OR Unlicense)", "MIT & (MIT | Unlicense)"))
    + 'LIC_FILES_CHKSUM = "file://COPYING.MIT;md5=%s"\n' % hashlib.md5(COPYING.encode()).hexdigest()
    + 'SRC_URI += "file://COPYING.MIT;subdir=tools file://tools/app file://tools/tool"\n'
)


class Crates(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        tools = self.dir / "tools"
        tools.mkdir()
        (tools / "Cargo.toml").write_text('[workspace]\nmembers = ["app", "tool"]\n')
        (self.dir / "COPYING.MIT").write_text(COPYING)
        self.lock = tools / "Cargo.lock"
        self.lock.write_text(LOCK.format(**SUMS))
        self.inc = self.dir / "x-crates.inc"
        self.recipe = self.dir / "x.bb"
        self.recipe.write_text(RECIPE)
        # cargo is not asked: it would need a real workspace and its crates.
        for name, value in [("source_licenses", SOURCE), ("linked_licenses", LINKED)]:
            patcher = mock.patch.object(crates, name, return_value=value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def test_generate_lists_registry_crates_sorted_with_checksums(self):
        text = crates.generate_text(self.lock)
        self.assertIn("    crate://crates.io/libc/0.2.191 \\\n    crate://crates.io/toml/1.2.2+spec-1.1.0 \\\n", text)
        self.assertIn(f'SRC_URI[toml-1.2.2+spec-1.1.0.sha256sum] = "{"a" * 64}"', text)
        self.assertNotIn("app", text)

    def test_check_passes_when_current(self):
        self.inc.write_text(crates.generate_text(self.lock))
        self.assertEqual(crates.check(self.lock, self.inc, self.recipe), [])

    def test_check_fails_when_lock_changes(self):
        self.inc.write_text(crates.generate_text(self.lock))
        self.lock.write_text(LOCK.format(toml="c" * 64, libc="b" * 64))
        problems = crates.check(self.lock, self.inc, self.recipe)
        self.assertEqual(len(problems), 1)
        self.assertIn("is stale", problems[0])

    def test_check_fails_on_missing_member(self):
        self.inc.write_text(crates.generate_text(self.lock))
        self.recipe.write_text(RECIPE.replace(" file://tools/tool", ""))
        self.assertEqual(crates.check(self.lock, self.inc, self.recipe),
                         [f"{self.recipe}: workspace member tool has no file://tools/tool entry in SRC_URI"])

    def test_rejects_other_lockfile_versions_and_sources(self):
        self.lock.write_text(LOCK.format(**SUMS).replace("version = 3", "version = 4"))
        with self.assertRaisesRegex(crates.InputError, "lockfile version 4"):
            crates.generate_text(self.lock)
        self.lock.write_text(LOCK.format(**SUMS).replace(
            'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "' + "b" * 64 + '"',
            'source = "git+https://example.org/libc#abc"'))
        with self.assertRaisesRegex(crates.InputError, "libc 0.2.191 comes from git"):
            crates.generate_text(self.lock)

    def test_main_exit_status(self):
        self.inc.write_text("stale\n")
        args = ["check", "--lock", str(self.lock), "--inc", str(self.inc), "--recipe", str(self.recipe)]
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(crates.main(args), 1)
        self.assertIn("is stale against", err.getvalue())
        self.assertEqual(crates.main(["generate", "--lock", str(self.lock), "--out", str(self.inc)]), 0)
        self.assertEqual(crates.main(args), 0)


class Licenses(unittest.TestCase):
    """The recipe's LICENSE and LICENSE:${PN} against what cargo computes."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.copying = self.dir / "COPYING.MIT"
        self.copying.write_text(COPYING)
        self.recipe = self.dir / "x.bb"

    def problems(self, recipe_text, source=SOURCE, linked=LINKED):
        return crates.license_problems(self.recipe, recipe_text, source, linked, self.copying)

    def test_current_recipe_passes(self):
        self.assertEqual(self.problems(RECIPE), [])

    def test_a_new_linked_crate_makes_the_package_licence_stale(self):
        linked = dict(LINKED, **{"zlib-rs v0.5.0": "Zlib"})
        source = dict(SOURCE, **{"zlib-rs v0.5.0": "Zlib"})
        problems = self.problems(RECIPE, source, linked)
        self.assertEqual(len(problems), 2, problems)
        self.assertTrue(problems[0].startswith(f"{self.recipe}: LICENSE is "), problems)
        self.assertIn('LICENSE:${PN} = "${@\'MIT AND Zlib AND (MIT OR Unlicense)\' if', problems[1])
        self.assertIn("else 'MIT & Zlib & (MIT | Unlicense)'}", problems[1])

    def test_build_time_crates_are_not_the_package_licence(self):
        # Unicode-3.0 is a proc-macro's (unicode-ident): in LICENSE, not in LICENSE:${PN}.
        too_much = RECIPE.replace("'MIT AND (MIT OR Unlicense)'", "'MIT AND Unicode-3.0 AND (MIT OR Unlicense)'")
        problems = self.problems(too_much)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("LICENSE:${PN} is", problems[0])
        # A crate no longer linked makes it stale too.
        self.assertEqual(len(self.problems(RECIPE, linked={"app v0.1.0": "MIT"})), 1)

    def test_both_spellings_of_the_switch_are_checked(self):
        wrynose = RECIPE.replace("'MIT & (MIT | Unlicense)'", "'MIT | Unlicense'")
        self.assertEqual(len(self.problems(wrynose)), 1)
        no_switch = RECIPE.replace('LICENSE:${PN} = "${@', 'LICENSE:${PN}:append = "${@')
        self.assertIn("LICENSE:${PN} is None", self.problems(no_switch)[0])

    def test_lic_files_chksum_is_the_layers_copying(self):
        self.copying.write_text(COPYING + "more\n")
        problems = self.problems(RECIPE)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("LIC_FILES_CHKSUM is not", problems[0])
        self.copying.write_text(COPYING)
        self.assertEqual(len(self.problems(RECIPE.replace(";subdir=tools", ""))), 1)

    def test_spdx_expressions(self):
        terms = crates.spdx_terms("(MIT OR Apache-2.0) AND Unicode-3.0", "x")
        self.assertEqual(terms, {frozenset({"Apache-2.0", "MIT"}), frozenset({"Unicode-3.0"})})
        self.assertEqual(crates.spdx_terms("MIT/Apache-2.0", "x"), crates.spdx_terms("Apache-2.0 | MIT", "x"))
        self.assertEqual(crates.render_license(terms, crates.BITBAKE_OPERATORS), "Unicode-3.0 & (Apache-2.0 | MIT)")
        for bad in ["", "MIT AND", "A OR B AND C", "(A AND B) OR C", "(MIT OR Apache-2.0", "MIT Apache-2.0"]:
            with self.assertRaises(crates.InputError, msg=bad):
                crates.spdx_terms(bad, "x")
        with self.assertRaisesRegex(crates.InputError, "app v1 declares no license"):
            crates.union_terms({"app v1": ""})

    def test_cargo_tree_output(self):
        text = ("dma-heap v0.1.0 (/work/tools/dma-heap)|MIT\n"
                "clap v4.6.9|MIT OR Apache-2.0\n"
                "clap v4.6.9|MIT OR Apache-2.0\n"
                "memchr v2.8.3|Unlicense OR MIT\n")
        self.assertEqual(crates.parse_tree(text), {"dma-heap v0.1.0": "MIT", "clap v4.6.9": "MIT OR Apache-2.0",
                                                   "memchr v2.8.3": "Unlicense OR MIT"})
        with self.assertRaisesRegex(crates.InputError, "proc-macro"):
            crates.parse_tree("serde_derive v1.0.229 (proc-macro)|MIT OR Apache-2.0\n")
        with self.assertRaisesRegex(crates.InputError, "not a 'package|license' line"):
            crates.parse_tree("clap v4.6.9 MIT\n")


class KernelSeries(unittest.TestCase):
    def setUp(self):
        self.files = Path(tempfile.mkdtemp())
        for name in ("0001-a.patch", "0002-b.patch"):
            (self.files / name).write_text(PATCH.format(sob=SOB, status="Upstream-Status: Pending"))
        (self.files / "base.cfg").write_text("CONFIG_A=y\n")
        self.recipe = self.files / "k.bb"
        self.recipe.write_text('SRC_URI = "\\\n    file://0001-a.patch \\\n    file://0002-b.patch \\\n'
                               '    file://base.cfg \\\n"\n')

    def test_current_series_passes(self):
        self.assertEqual(kernel_series.series_problems(self.files, self.recipe), [])
        self.assertEqual(kernel_series.patch_problems(self.files / "0001-a.patch"), [])

    def test_new_patch_makes_the_list_stale(self):
        (self.files / "0003-c.patch").write_text(PATCH.format(sob=SOB, status="Upstream-Status: Pending"))
        problems = kernel_series.series_problems(self.files, self.recipe)
        self.assertEqual(len(problems), 1)
        self.assertIn("missing 0003-c.patch", problems[0])

    def test_removed_patch_and_order(self):
        (self.files / "0002-b.patch").unlink()
        self.assertIn("not in files/: 0002-b.patch", kernel_series.series_problems(self.files, self.recipe)[0])
        self.recipe.write_text("file://0002-b.patch file://0001-a.patch file://base.cfg\n")
        (self.files / "0002-b.patch").write_text("x")
        self.assertIn("order differs", kernel_series.series_problems(self.files, self.recipe)[0])

    def test_unlisted_cfg(self):
        (self.files / "extra.cfg").write_text("CONFIG_B=y\n")
        self.assertEqual(kernel_series.series_problems(self.files, self.recipe),
                         [f"{self.recipe}: SRC_URI does not name files/extra.cfg"])

    def test_patch_headers(self):
        p = self.files / "0001-a.patch"
        p.write_text(PATCH.format(sob="", status="Upstream-Status: Pending"))
        self.assertEqual(kernel_series.patch_problems(p), [f"{p}: no Signed-off-by: line"])
        p.write_text(PATCH.format(sob=SOB, status=""))
        self.assertEqual(kernel_series.patch_problems(p), [f"{p}: no Upstream-Status: line"])
        p.write_text(PATCH.format(sob=SOB, status="Upstream-Status: Maybe"))
        self.assertEqual(kernel_series.patch_problems(p), [f"{p}: malformed Upstream-Status: line"])
        p.write_text(PATCH.format(sob=SOB, status="Upstream-Status: Inappropriate"))
        self.assertIn("needs a [reason", kernel_series.patch_problems(p)[0])
        p.write_text(PATCH.format(sob=SOB, status="Upstream-Status: Inappropriate [oe specific]"))
        self.assertEqual(kernel_series.patch_problems(p), [])


class BootFiles(unittest.TestCase):
    """boot_files on a copy of the layer's files it reads, and on broken copies."""

    def setUp(self):
        import shutil

        self.tmp = tempfile.TemporaryDirectory()
        self.layer = Path(self.tmp.name)
        for rel in ("dts", "conf", "dynamic-layers", "recipes-bsp/coherent-heap-boot", "scripts/build"):
            src = boot_files.LAYER / rel
            (self.layer / rel).parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy)(src, self.layer / rel)

    def tearDown(self):
        self.tmp.cleanup()

    def edit(self, rel, old, new):
        path = self.layer / rel
        text = path.read_text()
        self.assertIn(old, text)
        path.write_text(text.replace(old, new))

    def assertProblem(self, needle):
        found = boot_files.problems(self.layer)
        self.assertTrue(any(needle in p for p in found), found)

    def test_the_layer_passes(self):
        self.assertEqual(boot_files.problems(self.layer), [])

    def test_config_txt_loading_another_overlay_fails(self):
        self.edit("recipes-bsp/coherent-heap-boot/files/bcm2711-rpi-4-b/config.txt",
                  "dtoverlay=coherent-heap", "dtoverlay=heaps")
        self.assertProblem("config.txt: dtoverlay= names ['heaps']")

    def test_yocto_overlay_list_that_differs_fails(self):
        self.edit("dynamic-layers/raspberrypi/conf/machine/include/coherent-heap-rpi.inc",
                  'COHERENT_HEAP_OVERLAYS ?= "coherent-heap"', 'COHERENT_HEAP_OVERLAYS ?= "other"')
        self.assertProblem("COHERENT_HEAP_OVERLAYS is ['other']")

    def test_console_that_differs_fails(self):
        self.edit("dynamic-layers/raspberrypi/conf/machine/raspberrypi4-64-coherent-heap.conf",
                  'COHERENT_HEAP_CONSOLE = "ttyS1"', 'COHERENT_HEAP_CONSOLE = "serial0"')
        self.assertProblem("cmdline.txt has ttyS1")

    def test_machine_booting_the_stock_dtb_fails(self):
        self.edit("dynamic-layers/freescale/conf/machine/imx8mp-lpddr4-evk-coherent-heap.conf",
                  '"../${COHERENT_HEAP_MERGED_DTB}"', '"../imx8mp-evk.dtb"')
        self.assertProblem("nothing hands ${COHERENT_HEAP_MERGED_DTB} to the boot loader")

    def test_wks_without_the_merged_dtb_fails(self):
        self.edit("dynamic-layers/ti/files/wic/coherent-heap-ti-efi.wks.in",
                  "dtb=${COHERENT_HEAP_MERGED_DTB}", "dtb=k3-am625-sk.dtb")
        self.assertProblem("am62xx-evm-coherent-heap.conf: nothing hands")

    def test_wks_dtb_in_a_directory_fails(self):
        self.edit("dynamic-layers/ti/files/wic/coherent-heap-ti-efi.wks.in",
                  "dtb=${COHERENT_HEAP_MERGED_DTB}", "dtb=devicetree/${COHERENT_HEAP_MERGED_DTB}")
        self.assertProblem("has a directory, which GRUB would not find")

    def test_extlinux_naming_another_dtb_fails(self):
        self.edit("recipes-bsp/coherent-heap-boot/files/rk3588-rock-5b/extlinux.conf",
                  "fdt /rk3588-rock-5b-coherent.dtb", "fdt /rk3588-rock-5b.dtb")
        self.assertProblem("fdt is /rk3588-rock-5b.dtb")

    def test_board_without_machine_fails(self):
        (self.layer / "dynamic-layers/rockchip/conf/machine/rock-5b-coherent-heap.conf").unlink()
        self.assertProblem("dts/rk3588-rock-5b: 0 machines")

    def test_machine_without_the_include_fails(self):
        self.edit("dynamic-layers/rockchip/conf/machine/rock-5b-coherent-heap.conf",
                  "require conf/machine/include/coherent-heap.inc\n", "")
        self.assertProblem("does not require conf/machine/include/coherent-heap.inc")


class Buildroot(unittest.TestCase):
    """checks/buildroot.py on a copy of this layer's files (links kept)."""

    def setUp(self):
        import shutil

        self.layer = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.layer)
        shutil.copytree(buildroot.LAYER, self.layer, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".git", "target", "__pycache__"))
        self.tree = self.layer / "br2-external"
        self.qemu = self.tree / "configs" / buildroot.QEMU_DEFCONFIG

    def problems(self):
        return buildroot.all_problems(self.layer)

    def test_current_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_copied_file_fails(self):
        import shutil

        shutil.copy(self.layer / "recipes-kernel/linux/files/coherent-heap.cfg", self.tree / "board/qemu-virt/linux.cfg")
        problems = self.problems()
        self.assertTrue(any("linux.cfg: the layer keeps" in p for p in problems), problems)
        self.assertTrue(any("a copy of recipes-kernel/linux/files/coherent-heap.cfg" in p for p in problems), problems)

    def test_copy_under_another_name_fails(self):
        text = (self.layer / "recipes-bsp/coherent-heap-boot/files/qemu-virt/boot.cmd").read_bytes()
        (self.tree / "board/qemu-virt/boot-script").write_bytes(text)
        self.assertEqual([p for p in self.problems() if "a copy of" in p],
                         [f"{self.tree}/board/qemu-virt/boot-script: a copy of "
                          "recipes-bsp/coherent-heap-boot/files/qemu-virt/boot.cmd"])

    def test_genimage_cfg_copied_instead_of_linked_fails(self):
        link = self.tree / "board/imx8mp-evk/genimage.cfg"
        text = link.read_bytes()
        link.unlink()
        link.write_bytes(text)
        problems = self.problems()
        self.assertIn(f"{link}: must be a link to recipes-bsp/coherent-heap-boot/files/imx8mp-evk/genimage.cfg",
                      problems)

    def test_missing_referenced_file_fails(self):
        (self.layer / "recipes-kernel/linux/files/test.cfg").unlink()
        problems = self.problems()
        self.assertIn(f"{self.qemu}: {self.layer}/recipes-kernel/linux/files/test.cfg does not exist", problems)

    def test_board_without_defconfig_fails(self):
        (self.tree / "configs/coherent_heap_rock5b_defconfig").unlink()
        self.assertIn(f"{self.tree / 'configs'}: board rk3588-rock-5b of dts/boards.toml has 0 defconfigs "
                      "(none), expected 1", self.problems())

    def test_config_in_syntax_error_fails(self):
        p = self.tree / "package/dma-heap/Config.in"
        p.write_text(p.read_text().replace("endif", "endfi"))
        problems = self.problems()
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("Kconfig: "), problems)

    def test_undefined_symbol_of_the_tree_fails(self):
        self.qemu.write_text(self.qemu.read_text().replace("BR2_PACKAGE_DMA_HEAP_INIT=y", "BR2_PACKAGE_DMA_HEAP_INI=y"))
        self.assertIn(f"{self.qemu}: BR2_PACKAGE_DMA_HEAP_INI is not defined by the tree's Config.in files",
                      self.problems())

    def test_kernel_pin_must_be_the_layers(self):
        h = self.tree / "patches/linux/linux.hash"
        h.write_text(h.read_text().replace("ecb3877b", "00000000"))
        self.assertTrue(any(p.startswith(f"{h}: must hold exactly linux-source-7.2_") for p in self.problems()))

    def test_crate_licences(self):
        meta = {
            "packages": [{"id": "a", "name": "app", "license": "MIT"},
                         {"id": "u", "name": "uid", "license": "(MIT OR Apache-2.0) AND Unicode-3.0"},
                         {"id": "m", "name": "memchr", "license": "Unlicense OR MIT"},
                         {"id": "t", "name": "testonly", "license": "BSD-3-Clause"}],
            "resolve": {"nodes": [
                {"id": "a", "deps": [{"pkg": "u", "dep_kinds": [{"kind": None}]},
                                     {"pkg": "m", "dep_kinds": [{"kind": "build"}]},
                                     {"pkg": "t", "dep_kinds": [{"kind": "dev"}]}]},
                {"id": "u", "deps": []}, {"id": "m", "deps": []}, {"id": "t", "deps": []}]},
        }
        self.assertEqual(buildroot.crate_licences(meta, "app"),
                         {"MIT", "Apache-2.0 or MIT", "Unicode-3.0", "MIT or Unlicense"})
        # The real packages list these; a crate under another licence must be named.
        self.assertEqual(buildroot.licence_problems(self.layer, {**meta, "packages": [
            {**p, "name": "dma-heap"} if p["id"] == "a" else p for p in meta["packages"]] + [
            {"id": "d", "name": "dtregion", "license": "MIT"}], "resolve": {"nodes": meta["resolve"]["nodes"] + [
                {"id": "d", "deps": []}]}}), [])
        meta["packages"][2]["license"] = "BSD-2-Clause"
        meta["packages"][0]["name"] = "dma-heap"
        meta["packages"].append({"id": "d", "name": "dtregion", "license": "MIT"})
        meta["resolve"]["nodes"].append({"id": "d", "deps": []})
        problems = buildroot.licence_problems(self.layer, meta)
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("DMA_HEAP_LICENSE lacks BSD-2-Clause (crates of dma-heap", problems[0])

    def test_main_exit_status(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(buildroot.main(["--layer", str(self.layer)]), 0)
            (self.tree / "external.mk").unlink()
            self.assertEqual(buildroot.main(["--layer", str(self.layer)]), 1)


if __name__ == "__main__":
    unittest.main()


class WicBoot(unittest.TestCase):
    """What checks/wic_boot.py decides without bitbake and wic: the boot file
    entries, the vendor files left out, the plan's DTB, the negative cases."""

    def test_boot_files_split_as_wic_does(self):
        value = "bootfiles/*  bcm2711-rpi-4-b.dtb\tImage;kernel8.img devicetree/coherent-heap.dtbo;overlays/coherent-heap.dtbo"
        self.assertEqual(wic_boot.boot_file_entries(value), [
            ("bootfiles/*", "bootfiles/*"), ("bcm2711-rpi-4-b.dtb", "bcm2711-rpi-4-b.dtb"),
            ("Image", "kernel8.img"), ("devicetree/coherent-heap.dtbo", "overlays/coherent-heap.dtbo")])
        self.assertEqual(wic_boot.drop_entries(value, {"Image", "bootfiles/*"}),
                         "bcm2711-rpi-4-b.dtb devicetree/coherent-heap.dtbo;overlays/coherent-heap.dtbo")

    def test_only_files_not_deployed_are_left_out(self):
        with tempfile.TemporaryDirectory() as t:
            deploy = Path(t)
            (deploy / "devicetree").mkdir()
            (deploy / "devicetree" / "coherent-heap.dtbo").write_bytes(b"x")
            (deploy / "Image").write_bytes(b"x")
            entries = wic_boot.boot_file_entries("Image tiboot3-*-evm.bin devicetree/*.dtbo tispl.bin")
            self.assertEqual(wic_boot.unresolved(entries, deploy), {"tiboot3-*-evm.bin", "tispl.bin"})
            wks = ('part u-boot --source rawcopy --sourceparams="file=imx-boot.tagged" --no-table\n'
                   'part x --source rawcopy --sourceparams="file=${IMG}"\n'
                   'part /boot --source bootimg-partition --fstype=vfat\n')
            (deploy / "u-boot.itb").write_bytes(b"x")
            out, dropped = wic_boot.drop_raw_parts(wks, deploy, lambda v: v.replace("${IMG}", "u-boot.itb"))
            self.assertEqual(dropped, ["imx-boot.tagged"])
            self.assertNotIn("imx-boot", out)
            self.assertIn("part x", out)
            self.assertIn("bootimg-partition", out)

    def _plan(self, part, inputs, board, plan, overlays):
        return wic_boot.plan_problems(plan, part, inputs, board, overlays)

    def test_the_plan_must_boot_the_checked_tree(self):
        with tempfile.TemporaryDirectory() as t:
            inputs, part = Path(t) / "in", Path(t) / "part"
            (inputs / "dtb").mkdir(parents=True)
            part.mkdir()
            for name, data in (("b.dtb", b"base"), ("b-coherent.dtb", b"merged"), ("b-coherent-heap.dtbo", b"ovl")):
                (inputs / "dtb" / name).write_bytes(data)
            (part / "m.dtb").write_bytes(b"merged")
            (part / "stock.dtb").write_bytes(b"base")
            (part / "o.dtbo").write_bytes(b"ovl")
            (part / "other.dtbo").write_bytes(b"other")
            merged = {"loader": "extlinux", "config": "e", "fdt": "m.dtb", "overlays": []}
            self.assertEqual(self._plan(part, inputs, "b", merged, ["coherent-heap"]), [])
            stock = dict(merged, fdt="stock.dtb")
            self.assertIn("not the merged DTB", self._plan(part, inputs, "b", stock, [])[0])
            self.assertIn("applies overlays", self._plan(part, inputs, "b", dict(merged, overlays=["o.dtbo"]), [])[0])
            pi = {"loader": "rpi4", "config": "config.txt", "fdt": "stock.dtb", "overlays": ["o.dtbo"]}
            self.assertEqual(self._plan(part, inputs, "b", pi, ["coherent-heap"]), [])
            wrong = dict(pi, overlays=["other.dtbo"])
            self.assertIn("does not apply the overlay coherent-heap", self._plan(part, inputs, "b", wrong, ["coherent-heap"])[0])
            self.assertIn("not the board's DTB", self._plan(part, inputs, "b", dict(pi, fdt="m.dtb"), ["coherent-heap"])[0])

    def test_every_board_has_negatives_that_undo_its_hook(self):
        class Datastore:
            def getVar(self, var):
                return {"COHERENT_HEAP_MERGED_DTB": "k3-am625-sk-coherent.dtb"}[var]

        self.assertEqual(sorted(wic_boot.BOARDS), sorted(b for b in boot_files.boards(boot_files.LAYER) if b != "qemu-virt"))
        for board in wic_boot.BOARDS:
            cases = wic_boot.negatives(board, Datastore())
            self.assertTrue(cases, board)
        (what, undo), = wic_boot.negatives("k3-am625-sk", Datastore())
        template = "part --source bootimg-efi --sourceparams=\"loader=grub-efi,dtb=k3-am625-sk-coherent.dtb\""
        self.assertNotIn("dtb=", undo["image"]["_WKS_TEMPLATE"](template))
        rpi = dict(wic_boot.negatives("bcm2711-rpi-4-b", Datastore()))
        config = rpi["config.txt without dtoverlay=coherent-heap"]["rpi-config"]["RPI_EXTRA_CONFIG"]
        self.assertEqual(config("arm_64bit=1\ndtoverlay=coherent-heap"), "arm_64bit=1\n")

    def test_root_must_name_the_root_partition(self):
        dos = {"label": "dos", "id": "0x4D434812", "partitions": [{"start": 8192}, {"start": 278528}]}
        self.assertEqual(wic_boot.root_problems("console=ttyS1 root=PARTUUID=4d434812-02 rootwait", dos),
                         ([], "root=PARTUUID=4d434812-02 is partition 2"))
        problems, _ = wic_boot.root_problems("root=PARTUUID=4d434812-01", dos)
        self.assertIn("not the root file system", problems[0])
        problems, _ = wic_boot.root_problems("root=PARTUUID=0badd15c-02", dos)
        self.assertIn("names no partition of the image (4d434812-01 4d434812-02)", problems[0])
        self.assertEqual(wic_boot.root_problems("rootwait", dos)[0], ["the command line has no root="])
        gpt = {"label": "gpt", "partitions": [{"name": "loader1", "uuid": "A"}, {"name": "rootfsA", "uuid": "B"}]}
        self.assertEqual(wic_boot.root_problems("root=PARTLABEL=rootfsA", gpt)[0], [])
        self.assertEqual(wic_boot.root_problems("root=PARTUUID=b", gpt)[0], [])
        self.assertTrue(wic_boot.root_problems("root=PARTLABEL=rootfsB", gpt)[0])
        self.assertEqual(wic_boot.root_problems("root=/dev/mmcblk1p2", gpt),
                         ([], "root=/dev/mmcblk1p2 not checked (not a partition's UUID or label)"))
