"""Unit tests of the KTAP checks of lib/oeqa/runtime/cases/coherent_heap.py
(run by scripts/check-layer), on the real virt boots bootlog's tests use
(tools/bootlog/tests/fixtures/, written by scripts/bootlog-fixtures).

oeqa itself is not importable outside a Yocto build: its three names the
module imports are given empty stand-ins; the checks under test are the
module's own functions on real runner output.
"""

import importlib.util
import json
import re
import shlex
import sys
import types
import unittest
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
FIXTURES = LAYER / "tools/bootlog/tests/fixtures"
UDEV_RULES = LAYER / "recipes-core/coherent-heap-udev-rules/files/60-coherent-heap.rules"
TEST_IMAGE = LAYER / "recipes-core/images/coherent-heap-test-image.bb"


def load_module():
    def decorator(*_args, **_kwargs):
        return lambda f: f

    stand_ins = {
        "oeqa": {},
        "oeqa.runtime": {},
        "oeqa.runtime.case": {"OERuntimeTestCase": type("OERuntimeTestCase", (), {})},
        "oeqa.core": {},
        "oeqa.core.decorator": {},
        "oeqa.core.decorator.depends": {"OETestDepends": decorator},
        "oeqa.runtime.decorator": {},
        "oeqa.runtime.decorator.package": {"OEHasPackage": decorator},
    }
    for name, attrs in stand_ins.items():
        module = sys.modules.setdefault(name, types.ModuleType(name))
        for key, value in attrs.items():
            setattr(module, key, value)
    path = LAYER / "lib/oeqa/runtime/cases/coherent_heap.py"
    spec = importlib.util.spec_from_file_location("coherent_heap", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ch = load_module()


def fixture(name):
    return (FIXTURES / name).read_text()


def declared_heaps(listing):
    heaps = [line.split(" ")[0][len("coherent_heap."):-len("_present")]
             for line in listing.splitlines()
             if line.startswith("coherent_heap.") and line.endswith("_present must-pass")]
    return [h for h in heaps if h != "driver"]


class RealRuns(unittest.TestCase):

    def setUp(self):
        self.listing = fixture("virt-test.cases")
        self.heaps = declared_heaps(self.listing)
        self.assertTrue(self.heaps)

    def test_passing_run(self):
        self.assertEqual(ch.check_run(self.listing, fixture("runner.ktap")), [])
        # The whole console capture too: the kernel's lines are not the runner's.
        self.assertEqual(ch.check_run(self.listing, fixture("virt-test.log")), [])

    def test_nested_selftest_is_parsed(self):
        documents = ch.parse_ktap(fixture("runner.ktap"))
        self.assertEqual(len(documents), 1)
        tests = dict(ch.walk(documents))
        case = tests["kselftest_dmabuf_heaps.dmabuf_heap"]
        self.assertTrue(case.ok)
        nested = case.subtests
        self.assertIsNotNone(nested.plan)
        self.assertEqual([t.number for t in nested.tests], list(range(1, nested.plan + 1)))
        self.assertEqual(len(documents[0].tests), documents[0].plan)

    def test_run_without_the_module(self):
        problems = ch.check_run(self.listing, fixture("virt-test-no-module.log"))
        for case in ["coherent_module.module_load", "coherent_heap.driver_present"] + \
                ["coherent_heap.%s_present" % h for h in self.heaps]:
            self.assertTrue(any(p.startswith("failed: %s " % case) for p in problems),
                            "%s: %s" % (case, problems))

    def test_run_without_the_overlay(self):
        problems = ch.check_run(self.listing, fixture("virt-test-no-overlay.log"))
        for h in ["driver"] + self.heaps:
            self.assertIn("missing: coherent_heap.%s_present (the run must have it)" % h, problems)
        self.assertIn("skipped but not declared to: coherent_heap (# SKIP)", problems)

    def test_skips_must_be_declared(self):
        skip = next(line for line in self.listing.splitlines() if " may-skip " in line)
        name, reason = skip.split(" may-skip ")
        run = fixture("runner.ktap")
        problems = ch.check_run(self.listing.replace(skip, name + " must-pass"), run)
        self.assertEqual(problems, ["skipped for an undeclared reason: %s (# SKIP %s; must pass)"
                                    % (name, reason)])
        problems = ch.check_run(self.listing.replace(skip + "\n", ""), run)
        self.assertEqual(problems, ["skipped but not declared to: %s (# SKIP %s)" % (name, reason)])

    def test_cut_off_run(self):
        run = fixture("runner.ktap")
        cut = run[:run.index("# Subtest: coherent_alloc")]
        problems = ch.check_run(self.listing, cut)
        self.assertTrue(any(p.startswith("the top-level document planned 1..") for p in problems),
                        problems)
        self.assertTrue(any(p.startswith("missing: coherent_log.") for p in problems), problems)

    def test_selftest_exit_code_decides_its_case(self):
        run = fixture("runner.ktap").replace("    ok 1 dmabuf_heap", "    not ok 1 dmabuf_heap")
        problems = ch.check_run(self.listing, run)
        self.assertEqual(len(problems), 1, problems)
        self.assertTrue(problems[0].startswith("failed: kselftest_dmabuf_heaps.dmabuf_heap "),
                        problems)


class Parsing(unittest.TestCase):

    def test_kernel_records_inside_runner_lines(self):
        # As a Raspberry Pi 4 boot printed it: CMA's report cut a result line.
        text = ("    ok 9 a\r\n"
                "    ok 10 default_cma_region_alloc_bad_fd_flags_einval"
                "[    2.589823] => 16320 free of 16384 total pages\r\n"
                "\r\n"
                "[    2.6] cma: one more\r\n"
                "    ok 11 b\r\n")
        self.assertEqual(ch.runner_lines(text).splitlines(),
                         ["    ok 9 a", "    ok 10 default_cma_region_alloc_bad_fd_flags_einval",
                          "    ok 11 b"])

    def test_listing(self):
        self.assertEqual(ch.parse_listing("a.b must-pass\n\nc.d may-skip why not\n"),
                         [("a.b", None), ("c.d", "why not")])
        for bad in ["a.b", "a.b may-skip", "a.b must-pass now", "a.b pass"]:
            with self.assertRaises(ValueError):
                ch.parse_listing(bad)

    def test_results_and_directives(self):
        doc = ch.parse_ktap("KTAP version 1\n1..4\nok 1 a\nnot ok 2 b # TODO later\n"
                            "ok 3 # SKIP why\nnot ok 4 - d # exit=1\n")[0]
        self.assertEqual([(t.number, t.name, t.ok, t.skipped, t.failed) for t in doc.tests],
                         [(1, "a", True, False, False), (2, "b", False, True, False),
                          (3, "", True, True, False), (4, "d", False, False, True)])
        self.assertEqual(doc.tests[2].reason, "why")
        self.assertEqual(ch.failures([doc]), ["failed: d (line 6, # exit=1)"])

    def test_missing_and_unfinished_results(self):
        text = ("KTAP version 1\n1..2\n    KTAP version 1\n    # Subtest: s\n    1..3\n"
                "    ok 1 a\n    ok 3 c\nok 1 s\n    KTAP version 1\n    # Subtest: t\n"
                "    1..1\n")
        documents = ch.parse_ktap(text)
        self.assertEqual(ch.check_plans(documents),
                         ["s planned 1..3 but reported results [1, 3] (line 3)",
                          "t planned 1..1 but reported results [] (line 9)"])
        self.assertEqual(ch.failures(documents), ["failed: t (line 9, # no result line)"])


def region(node, base, **flags):
    entry = {"node": node, "base": base, "size": 0x4000000, "compatible": ["shared-dma-pool"],
             "no_map": True, "reusable": False, "cma_default": False, "dma_heap": True,
             "status": None}
    entry.update(flags)
    return entry


# `dma-heap list --format json` as the virt test image prints it: the shape of
# its ListEntry (tools/dma-heap/src/main.rs).
LIST_JSON = json.dumps([
    {"heap": "camera@50000000", "kind": "coherent", "region": region("camera@50000000", 0x50000000)},
    {"heap": "default_cma_region", "kind": "cma", "region": None},
    {"heap": "linux,cma", "kind": "cma",
     "region": region("linux,cma", None, reusable=True, dma_heap=False, no_map=False,
                      cma_default=True)},
    {"heap": "scratch", "kind": "coherent", "region": region("scratch", None)},
    {"heap": "system", "kind": "system", "region": None},
], indent=2)


class Access(unittest.TestCase):
    """test_heap_access: which heaps, their nodes, the su commands, EACCES."""

    def test_coherent_heaps(self):
        self.assertEqual(ch.coherent_heaps(LIST_JSON), ["camera@50000000", "scratch"])
        self.assertEqual(ch.coherent_heaps("[]"), [])
        for bad in ["", "heap kind", '{"heap": "scratch"}', '[{"kind": "coherent"}]', "[1]"]:
            with self.assertRaises(ValueError, msg=bad):
                ch.coherent_heaps(bad)

    def test_node_of_a_coherent_heap(self):
        line = "crw-rw----    1 root     video     250,   1 Dec  1 12:00 /dev/dma_heap/scratch"
        self.assertEqual(ch.ls_mode_group(line), ("c", 0o660, "video"))
        self.assertEqual(ch.node_problems("scratch", line, True), [])
        # The kernel's default (no rule applied): root's, 0600.
        default = "crw-------    1 root     root      250,   1 Dec  1 12:00 /dev/dma_heap/scratch"
        self.assertEqual(ch.node_problems("scratch", default, True),
                         ["/dev/dma_heap/scratch: group root, expected video (the udev rule): "
                          + default,
                          "/dev/dma_heap/scratch: mode 0600, expected 0660 (the udev rule): "
                          + default])
        world = line.replace("crw-rw----", "crw-rw-rw-")
        self.assertEqual(len(ch.node_problems("scratch", world, True)), 1)
        plain = line.replace("crw-rw----", "-rw-rw----")
        self.assertIn("not a character device", ch.node_problems("scratch", plain, True)[0])
        for bad in ["", "crw-rw----", "total 0 a b", "crw-rw-- 1 root video"]:
            with self.assertRaises(ValueError, msg=bad):
                ch.ls_mode_group(bad)

    def test_other_heaps_keep_their_defaults(self):
        line = "crw-------    1 root     root      250,   0 Dec  1 12:00 /dev/dma_heap/system"
        self.assertEqual(ch.node_problems("system", line, False), [])
        granted = line.replace("root      250", "video     250")
        self.assertEqual(ch.node_problems("system", granted, False),
                         ["/dev/dma_heap/system is not a coherent heap but is group video's: "
                          + granted])

    def test_su_alloc(self):
        command = ch.su_alloc("heapuser", "camera@50000000")
        self.assertEqual(command, "su heapuser -c 'dma-heap alloc camera@50000000 4096'")
        self.assertEqual(shlex.split(shlex.split(command)[3]),
                         ["dma-heap", "alloc", "camera@50000000", "4096"])
        odd = ch.su_alloc("heapuser", "a b'c")
        self.assertEqual(shlex.split(shlex.split(odd)[3]), ["dma-heap", "alloc", "a b'c", "4096"])

    def test_alloc_denied(self):
        # As tools/dma-heap prints an open() refused by the node's permissions.
        denied = "error: open /dev/dma_heap/scratch: Permission denied (EACCES)\n"
        self.assertTrue(ch.alloc_denied("scratch", denied))
        self.assertFalse(ch.alloc_denied("camera@50000000", denied))
        for other in ["error: heap 'scratch': allocating 4096 bytes failed: "
                      "Out of memory (ENOMEM)\n",
                      "error: no dma-buf heap named 'scratch' in /dev/dma_heap\n",
                      "su: unknown user nobodyheap\n",
                      "scratch: 4096 bytes (4 KiB) allocated, pattern written and read back: ok\n"]:
            self.assertFalse(ch.alloc_denied("scratch", other), other)

    def test_group_mode_and_users_are_the_rule_and_the_image(self):
        rule = [line for line in UDEV_RULES.read_text().splitlines()
                if line and not line.startswith("#")]
        self.assertEqual(len(rule), 1, rule)
        self.assertIn('GROUP="%s"' % ch.HEAP_GROUP, rule[0])
        self.assertIn('MODE="%04o"' % ch.HEAP_MODE, rule[0])
        image = TEST_IMAGE.read_text()
        self.assertRegex(image, r"useradd [^;]*--groups %s %s;" % (ch.HEAP_GROUP, ch.HEAP_USER))
        other = re.search(r"useradd ([^;]*) %s;" % ch.OTHER_USER, image)
        self.assertIsNotNone(other, "the image adds no %s" % ch.OTHER_USER)
        self.assertNotIn(ch.HEAP_GROUP, other.group(1))


if __name__ == "__main__":
    unittest.main()
