#
# SPDX-License-Identifier: MIT
#
"""The in-image checks of the standalone test image, run by testimage.

The standalone bench boots dma-heap as init and checks the console: the
runner's KTAP (`dma-heap test`), the kernel's KUnit results and no kernel
splat. Here the same runner and the kernel's dma-buf heaps selftest run over
ssh in coherent-heap-test-image.
"""

import re

from oeqa.runtime.case import OERuntimeTestCase
from oeqa.core.decorator.depends import OETestDepends
from oeqa.runtime.decorator.package import OEHasPackage

# A KTAP result line: "ok 3 name" / "not ok 3 name # reason", any indentation.
KTAP_RESULT = re.compile(r"^\s*(not ok|ok) \d+ (.*)$")
# A dmesg timestamp, "[    1.234567] ".
DMESG_TIME = re.compile(r"^\[[ 0-9.]+\] ?")

# The kernel splat patterns, checked in this order, as (id, needle, where, also): a line is a
# splat of kind id when it contains needle, where "word-start" says that no letter, digit or _
# comes right before it and "word" that none comes right after it either, and also (if not
# None) is in the line too. A copy of SPLAT_PATTERNS in tools/heap-rules/src/splat.rs, which
# bootlog and dma-heap use: the oeqa_splats test of tools/heap-rules fails if the two differ.
SPLAT_PATTERNS = [
    ("oops", "Internal error:", "word-start", None),
    ("panic", "Kernel panic", "word-start", None),
    ("oops", "Oops", "word", None),
    ("fault", "Unable to handle kernel", "word-start", None),
    ("bug", "kernel BUG at", "word-start", None),
    ("bug", "BUG:", "word-start", None),
    ("warning", "WARNING:", "word-start", None),
    ("ubsan", "UBSAN:", "word-start", None),
    ("kmemleak", "unreferenced object", "word-start", None),
    ("kmemleak", "kmemleak:", "word-start", "suspected memory leak"),
    ("hung-task", "INFO: task ", "word-start", "blocked for more than"),
    ("rcu-stall", "INFO: ", "word-start", "detected stall"),
    ("refcount", "refcount_t:", "word-start", None),
    ("list-corruption", "list_add corruption", "word-start", None),
    ("list-corruption", "list_del corruption", "word-start", None),
    ("rust-panic", "panicked at", "word-start", None),
    ("rust-panic", "rust_panic", "word-start", None),
    ("call-trace", "Call trace:", "word-start", None),
    ("call-trace", "Call Trace:", "word-start", None),
]
# Lines that start like this are never splats (the command line may say panic=-1).
SPLAT_BENIGN_PREFIX = "Kernel command line:"


def _is_word_char(c):
    return c.isascii() and (c.isalnum() or c == "_")


def _pattern_matches(text, needle, where, also):
    at = text.find(needle)
    while at != -1:
        end = at + len(needle)
        before_ok = at == 0 or not _is_word_char(text[at - 1])
        after_ok = where == "word-start" or end == len(text) or not _is_word_char(text[end])
        if before_ok and after_ok:
            return also is None or also in text
        at = text.find(needle, at + 1)
    return False


def splat_kind(line):
    """The id of the first splat pattern a dmesg line matches, or None."""
    text = DMESG_TIME.sub("", line)
    if text.lstrip().startswith(SPLAT_BENIGN_PREFIX):
        return None
    for kind, needle, where, also in SPLAT_PATTERNS:
        if _pattern_matches(text, needle, where, also):
            return kind
    return None


def failed_results(output):
    """The 'not ok' lines of KTAP output."""
    return [line.strip() for line in output.splitlines()
            if (m := KTAP_RESULT.match(line)) and m.group(1) == "not ok"]


class CoherentHeapTest(OERuntimeTestCase):

    @OETestDepends(['ssh.SSHTest.test_ssh'])
    @OEHasPackage(['kernel-module-coherent-heap'])
    def test_module_loaded(self):
        # KERNEL_MODULE_AUTOLOAD loads it at boot.
        status, output = self.target.run('cat /proc/modules')
        self.assertEqual(status, 0, msg=output)
        self.assertRegex(output, r'(?m)^coherent_heap ',
                         msg='coherent_heap is not loaded:\n%s' % output)

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_module_loaded'])
    @OEHasPackage(['dma-heap-tools'])
    def test_dma_heap_suites(self):
        # Prints KTAP; exits 1 if a case failed.
        status, output = self.target.run('dma-heap test', timeout=900)
        self.assertTrue(KTAP_RESULT.search(output) or 'ok ' in output,
                        msg='dma-heap test printed no KTAP result:\n%s' % output)
        self.assertEqual(status, 0, msg='dma-heap test failed (exit %d):\n%s\n\nfull output:\n%s'
                         % (status, '\n'.join(failed_results(output)), output))

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_module_loaded'])
    @OEHasPackage(['kselftest-dmabuf-heaps'])
    def test_kselftest_dmabuf_heaps(self):
        status, output = self.target.run('/usr/lib/kselftests/dmabuf-heap', timeout=600)
        self.assertEqual(status, 0, msg='dmabuf-heap selftest failed (exit %d):\n%s' % (status, output))

    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_kunit_at_boot(self):
        status, output = self.target.run('dmesg')
        self.assertEqual(status, 0, msg=output)
        if 'KTAP version' not in output:
            self.skipTest('no KUnit output in the kernel log (kernel without test.cfg)')
        self.assertRegex(output, r'(?m)^\[[ 0-9.]+\]\s*ok \d+ dma_coherent_pool\b',
                         msg='no passing dma_coherent_pool KUnit suite in the kernel log:\n%s' % output)
        self.assertEqual(failed_results(re.sub(r'(?m)^\[[ 0-9.]+\] ?', '', output)), [],
                         msg='KUnit failures in the kernel log')

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_dma_heap_suites',
                    'coherent_heap.CoherentHeapTest.test_kselftest_dmabuf_heaps'])
    def test_no_kernel_splat(self):
        status, output = self.target.run('dmesg')
        self.assertEqual(status, 0, msg=output)
        splats = [line for line in output.splitlines() if splat_kind(line)]
        self.assertEqual(splats, [], msg='kernel reports in the log:\n%s' % '\n'.join(splats))
