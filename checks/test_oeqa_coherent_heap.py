"""Unit tests of the KTAP checks of lib/oeqa/runtime/cases/coherent_heap.py
(run by scripts/check-layer), on the real virt boots bootlog's tests use
(tools/bootlog/tests/fixtures/, written by scripts/bootlog-fixtures).

oeqa itself is not importable outside a Yocto build: its three names the
module imports are given empty stand-ins; the checks under test are the
module's own functions on real runner output.
"""

import importlib.util
import sys
import types
import unittest
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent
FIXTURES = LAYER / "tools/bootlog/tests/fixtures"


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


if __name__ == "__main__":
    unittest.main()
