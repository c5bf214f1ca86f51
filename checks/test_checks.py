"""Unit tests of checks/crates.py, checks/kernel_series.py and checks/buildroot.py (run by scripts/check-layer)."""

import contextlib
import io
import tempfile
import unittest
from pathlib import Path

import buildroot
import crates
import kernel_series

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


class Crates(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        (self.dir / "Cargo.toml").write_text('[workspace]\nmembers = ["app", "tool"]\n')
        self.lock = self.dir / "Cargo.lock"
        self.lock.write_text(LOCK.format(**SUMS))
        self.inc = self.dir / "x-crates.inc"
        self.recipe = self.dir / "x.bb"
        self.recipe.write_text('SRC_URI += "file://tools/app file://tools/tool"\n')

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
        self.recipe.write_text('SRC_URI += "file://tools/app"\n')
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


if __name__ == "__main__":
    unittest.main()


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
