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
# The kernel reports bootlog (tools/bootlog/src/scan.rs) flags on the bench's console.
SPLAT = re.compile(r"\b(Internal error:|Kernel panic|Oops|kernel BUG at|BUG:|WARNING:|"
                   r"unreferenced object|new suspected memory leaks?)")


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
        splats = [line for line in output.splitlines() if SPLAT.search(line)]
        self.assertEqual(splats, [], msg='kernel reports in the log:\n%s' % '\n'.join(splats))
