#
# SPDX-License-Identifier: MIT
#
"""The in-image checks of the standalone test image, run by testimage.

The standalone bench boots dma-heap as init and checks the console with
bootlog: the runner's KTAP (`dma-heap test`) against the cases it must run
(`dma-heap test --list`), the kernel's KUnit results and no kernel splat.
Here the same runner runs over ssh in coherent-heap-test-image and its
output is judged the way bootlog judges it (see check_run): the KTAP is
parsed with its nesting, every plan must be met, every result must pass,
every listed case must be there and may skip only for the one reason the
list declares, and no other case may skip.

The image's own check, test_heap_access: the udev rule gives the coherent
heaps' nodes, and no other heap's, to HEAP_GROUP with HEAP_MODE; a user in
that group allocates from each coherent heap, one outside it is refused
with EACCES.
"""

import json
import re
import shlex

from oeqa.runtime.case import OERuntimeTestCase
from oeqa.core.decorator.depends import OETestDepends
from oeqa.runtime.decorator.package import OEHasPackage

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

VERSION = re.compile(r"^(KTAP|TAP) version \d+$")
PLAN = re.compile(r"^1\.\.(\d+)(\s*#.*)?$")
RESULT = re.compile(r"^(not ok|ok)\s+(\d+)(?:\s+-)?(?:\s+(.*?))?\s*$")
SUBTEST = re.compile(r"^#\s*Subtest:\s*(.*)$")
PRINTK = re.compile(r"^\[ *\d+\.\d+\] ?")
TIMESTAMP = re.compile(r"\[ *\d+\.\d+\]")


class Test:
    """One result line, and the subtest document it closes, if any."""

    def __init__(self, number, name, ok, directive, line, subtests):
        self.number = number
        self.name = name
        self.ok = ok
        self.directive = directive
        self.line = line
        self.subtests = subtests

    @property
    def skipped(self):
        """SKIP (whether ok or not ok) or an expected failure (TODO, XFAIL)."""
        word = (self.directive or "").split(" ", 1)[0].upper()
        return word.startswith("SKIP") or (not self.ok and word in ("TODO", "XFAIL"))

    @property
    def failed(self):
        return not self.ok and not self.skipped

    @property
    def reason(self):
        """The text after the directive's keyword: SKIP's reason."""
        return re.sub(r"^[A-Za-z]*", "", self.directive or "").strip()

    @property
    def leaf(self):
        sub = self.subtests
        return sub is None or (not sub.tests and not sub.plan)


class Document:
    """A KTAP document: a top-level one, or the subtests of one test."""

    def __init__(self, indent, line, name=None):
        self.indent = indent
        self.line = line
        self.name = name
        self.plan = None
        self.tests = []
        # A TAP 14 '# Subtest: NAME' at this level, for the next subtest.
        self.pending = None

    def any_failed(self):
        return any(t.failed or (t.subtests is not None and t.subtests.any_failed())
                   for t in self.tests)


def split_directive(text):
    """'description # directive': the first '#' that opens the text or follows a blank."""
    for i, c in enumerate(text):
        if c == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].strip(), text[i + 1:].strip()
    return text.strip(), None


def indentation(line):
    width = 0
    for i, c in enumerate(line):
        if c == " ":
            width += 1
        elif c == "\t":
            width = (width // 4 + 1) * 4
        else:
            return width, line[i:].rstrip()
    return width, ""


def parse_ktap(text):
    """The KTAP documents in text, nested by indentation as KUnit prints them
    (and as bootlog reads them: a version line or plan deeper than the open
    document opens a subtest document, which the next result line at the
    parent's indentation closes). Lines that are not KTAP are ignored; a
    subtest whose result never came is recorded as a failed test."""
    documents = []
    stack = []

    def push(indent, line, name=None):
        if name is None and stack:
            name, stack[-1].pending = stack[-1].pending, None
        stack.append(Document(indent, line, name))

    def adopt_incomplete(parent, child):
        number = parent.tests[-1].number + 1 if parent.tests else 1
        parent.tests.append(Test(number, child.name or "", False, "no result line",
                                 child.line, child))

    def pop_to(indent, inclusive):
        while len(stack) > 1 and (stack[-1].indent > indent or
                                  (inclusive and stack[-1].indent == indent)):
            child = stack.pop()
            adopt_incomplete(stack[-1], child)

    def close_all():
        pop_to(-1, True)
        if stack:
            documents.append(stack.pop())

    for number, raw in enumerate(text.splitlines(), 1):
        indent, body = indentation(raw.rstrip("\r"))
        if not stack:
            if VERSION.match(body):
                stack.append(Document(indent, number))
            continue
        root = stack[0].indent
        if indent <= root and VERSION.match(body):
            close_all()
            stack.append(Document(indent, number))
            continue
        if indent < root:
            continue
        if VERSION.match(body):
            pop_to(indent, True)
            push(indent, number)
            continue
        m = SUBTEST.match(body)
        if m:
            pop_to(indent, False)
            top = stack[-1]
            if top.indent < indent:
                push(indent, number, m.group(1).strip())
            elif len(stack) > 1 and top.name is None and top.plan is None and not top.tests:
                top.name = m.group(1).strip()
            else:
                top.pending = m.group(1).strip()
            continue
        m = PLAN.match(body)
        if m:
            pop_to(indent, False)
            if stack[-1].indent < indent:
                push(indent, number)
            if stack[-1].plan is None:
                stack[-1].plan = int(m.group(1))
            continue
        m = RESULT.match(body)
        if m:
            child = None
            while len(stack) > 1 and stack[-1].indent > indent:
                deeper = stack.pop()
                if child is not None:
                    adopt_incomplete(deeper, child)
                child = deeper
            if stack[-1].indent < indent:
                if child is not None:
                    adopt_incomplete(stack[-1], child)
                push(indent, number)
                child = None
            description, directive = split_directive(m.group(3) or "")
            name = description or (child.name if child is not None and child.name else "")
            stack[-1].tests.append(Test(int(m.group(2)), name, m.group(1) == "ok",
                                        directive, number, child))
    close_all()
    return documents


def runner_lines(text):
    """The lines without a printk timestamp: on a serial console the
    runner's, the kernel's lines being the others. Where a kernel record
    cut a runner line in two ('    ok 3 alloc_[    2.3] cma: ...' then
    'zero_size'), the two halves are joined again, as bootlog does
    (tools/bootlog/src/console.rs)."""
    lines = []
    pending = None
    for line in text.splitlines():
        line = line.rstrip("\r")
        m = TIMESTAMP.search(line)
        if m is None:
            lines.append(line if pending is None else pending + line)
            pending = None
        elif m.start() > 0:
            pending = (pending or "") + line[:m.start()]
    if pending is not None:
        lines.append(pending)
    return "\n".join(lines)


def parse_listing(text):
    """`dma-heap test --list`: [(name, reason or None)], reason None for must-pass."""
    cases = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        word, _, reason = rest.partition(" ")
        if word == "must-pass" and not reason:
            cases.append((name, None))
        elif word == "may-skip" and reason.strip():
            cases.append((name, reason.strip()))
        else:
            raise ValueError("not a dma-heap test --list line: %r" % line)
    return cases


def walk(documents):
    """(path, test) of every test, deeper ones first; paths as bootlog names them."""
    found = []

    def visit(doc, path):
        for t in doc.tests:
            name = t.name or "#%d" % t.number
            full = "%s.%s" % (path, name) if path else name
            if t.subtests is not None:
                visit(t.subtests, full)
            found.append((full, t))

    for doc in documents:
        visit(doc, "")
    return found


def failures(documents):
    """The failed tests, each once: a failed result whose own subtests all
    passed (or that has none) is reported, a failed suite of failed cases
    only through its cases."""
    return ["failed: %s (line %d%s)" % (path, t.line, ", # " + t.directive if t.directive else "")
            for path, t in walk(documents)
            if t.failed and (t.subtests is None or not t.subtests.any_failed())]


def check_plans(documents):
    """Every document has as many results as its plan, numbered 1..N."""
    problems = []

    def visit(doc, path):
        numbers = [t.number for t in doc.tests]
        if doc.plan is not None and numbers != list(range(1, doc.plan + 1)):
            problems.append("%s planned 1..%d but reported results %s (line %d)"
                            % (path or "the top-level document", doc.plan, numbers, doc.line))
        for t in doc.tests:
            if t.subtests is not None:
                name = t.name or "#%d" % t.number
                visit(t.subtests, "%s.%s" % (path, name) if path else name)

    for doc in documents:
        visit(doc, "")
    return problems


def check_run(listing, output):
    """The problems of a `dma-heap test` run (its KTAP output) against its
    `dma-heap test --list` listing; an empty list if the run passed."""
    cases = parse_listing(listing)
    # A console capture also has the kernel's lines: not the runner's.
    documents = parse_ktap(runner_lines(output))
    if not documents:
        return ["no KTAP in the output"]
    problems = check_plans(documents) + failures(documents)
    tests = walk(documents)
    by_path = {}
    for path, t in tests:
        by_path.setdefault(path, []).append(t)
    listed = {name for name, _ in cases}
    for name, reason in cases:
        if name.endswith(".*"):
            continue
        if name not in by_path:
            problems.append("missing: %s (the run must have it)" % name)
            continue
        for t in by_path[name]:
            if t.skipped and t.reason != reason:
                problems.append("skipped for an undeclared reason: %s (# %s; %s)"
                                % (name, t.directive, "must pass" if reason is None
                                   else "may only skip with %r" % reason))
    wildcards = [(name[:-2], reason) for name, reason in cases if name.endswith(".*")]
    for path, t in tests:
        if not (t.leaf and t.skipped) or path in listed:
            continue
        if not any(path.startswith(prefix + ".") and t.reason == reason
                   for prefix, reason in wildcards):
            problems.append("skipped but not declared to: %s (# %s)" % (path, t.directive))
    return problems


# Who may allocate from the coherent heaps: the group and mode the udev rule
# (recipes-core/coherent-heap-udev-rules/files/60-coherent-heap.rules) gives
# their device nodes, and the users coherent-heap-test-image adds, one in that
# group and one not (checks/test_oeqa_coherent_heap.py holds these to the rule
# and the image).
HEAP_GROUP = "video"
HEAP_MODE = 0o660
HEAP_USER = "heapuser"
OTHER_USER = "nobodyheap"


def coherent_heaps(list_json):
    """The coherent heaps of `dma-heap list --format json`, in its order."""
    entries = json.loads(list_json)
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "heap" in e
                                                for e in entries):
        raise ValueError("not a dma-heap list --format json array: %r" % list_json)
    return [e["heap"] for e in entries if e.get("kind") == "coherent"]


def ls_mode_group(line):
    """(type, permission bits, group) of an `ls -ld` line: ('c', 0o660, 'video')."""
    fields = line.split()
    if len(fields) < 4 or not re.fullmatch(r"[-bcdlps][-rwxsStT]{9}[.+@]?", fields[0]):
        raise ValueError("not an ls -ld line: %r" % line)
    bits = 0
    for i, c in enumerate(fields[0][1:10]):
        if c not in "-ST":
            bits |= 1 << (8 - i)
    return fields[0][0], bits, fields[3]


def node_problems(heap, ls_line, coherent):
    """What is wrong with the device node of heap (its `ls -ld` line): a coherent
    heap must be a character device of HEAP_GROUP with HEAP_MODE, any other heap
    must not be HEAP_GROUP's."""
    kind, mode, group = ls_mode_group(ls_line)
    if kind != "c":
        return ["/dev/dma_heap/%s is not a character device: %s" % (heap, ls_line)]
    if not coherent:
        return (["/dev/dma_heap/%s is not a coherent heap but is group %s's: %s"
                 % (heap, group, ls_line)] if group == HEAP_GROUP else [])
    problems = []
    if group != HEAP_GROUP:
        problems.append("/dev/dma_heap/%s: group %s, expected %s (the udev rule): %s"
                        % (heap, group, HEAP_GROUP, ls_line))
    if mode != HEAP_MODE:
        problems.append("/dev/dma_heap/%s: mode %04o, expected %04o (the udev rule): %s"
                        % (heap, mode, HEAP_MODE, ls_line))
    return problems


def su_alloc(user, heap, size=4096):
    """The command that allocates size bytes from heap as user."""
    return "su %s -c %s" % (shlex.quote(user),
                            shlex.quote("dma-heap alloc %s %d" % (shlex.quote(heap), size)))


def alloc_denied(heap, output):
    """dma-heap alloc failed because the heap's node could not be opened: EACCES."""
    return ("error: open /dev/dma_heap/%s: " % heap) in output and "(EACCES)" in output


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
        # The cases this system must run: from its device tree, command line
        # and what its kernel shows (no kernel configuration on the target).
        status, listing = self.target.run('dma-heap test --list 2>/dev/null')
        self.assertEqual(status, 0, msg='dma-heap test --list failed:\n%s' % listing)
        # Prints KTAP; exits 1 if a case failed.
        status, output = self.target.run('dma-heap test', timeout=900)
        problems = check_run(listing, output)
        self.assertEqual(problems, [], msg='dma-heap test:\n%s\n\nfull output:\n%s'
                         % ('\n'.join(problems), output))
        self.assertEqual(status, 0, msg='dma-heap test exited %d:\n%s' % (status, output))

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_module_loaded'])
    @OEHasPackage(['dma-heap-tools'])
    @OEHasPackage(['coherent-heap-udev-rules'])
    def test_heap_access(self):
        # Camera and display pipelines do not run as root: the udev rule gives
        # the coherent heaps to HEAP_GROUP, and no other heap.
        status, output = self.target.run('dma-heap list --format json 2>/dev/null')
        self.assertEqual(status, 0, msg='dma-heap list failed:\n%s' % output)
        coherent = coherent_heaps(output)
        heaps = [e["heap"] for e in json.loads(output)]
        self.assertTrue(coherent, msg='no coherent heap in dma-heap list:\n%s' % output)
        for heap in heaps:
            status, line = self.target.run('ls -ld %s' % shlex.quote('/dev/dma_heap/' + heap))
            self.assertEqual(status, 0, msg=line)
            self.assertEqual(node_problems(heap, line.strip(), heap in coherent), [])
        for heap in coherent:
            status, output = self.target.run(su_alloc(HEAP_USER, heap))
            self.assertEqual(status, 0, msg='%s (group %s) cannot allocate from %s:\n%s'
                             % (HEAP_USER, HEAP_GROUP, heap, output))
            status, output = self.target.run(su_alloc(OTHER_USER, heap))
            self.assertNotEqual(status, 0, msg='%s (not in group %s) allocated from %s:\n%s'
                                % (OTHER_USER, HEAP_GROUP, heap, output))
            self.assertTrue(alloc_denied(heap, output),
                            msg='%s: %s was refused, but not with EACCES:\n%s'
                            % (heap, OTHER_USER, output))

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_module_loaded'])
    @OEHasPackage(['kselftest-dmabuf-heaps'])
    def test_kselftest_dmabuf_heaps(self):
        # As kselftest/runner.sh judges it: the exit code; and its TAP as
        # bootlog does: the plan met, no result failed.
        status, output = self.target.run('/usr/lib/kselftests/dmabuf-heap', timeout=600)
        documents = parse_ktap(output)
        self.assertEqual(len(documents), 1, msg='no TAP from the selftest:\n%s' % output)
        self.assertEqual(check_plans(documents) + failures(documents), [], msg=output)
        self.assertEqual(status, 0, msg='dmabuf-heap selftest failed (exit %d):\n%s' % (status, output))

    @OETestDepends(['ssh.SSHTest.test_ssh'])
    def test_kunit_at_boot(self):
        status, output = self.target.run('dmesg')
        self.assertEqual(status, 0, msg=output)
        if 'KTAP version' not in output:
            self.skipTest('no KUnit output in the kernel log (kernel without test.cfg)')
        kernel = "\n".join(PRINTK.sub("", l) for l in output.splitlines() if PRINTK.match(l))
        documents = parse_ktap(kernel)
        suites = [t.name for d in documents for t in d.tests]
        self.assertIn('dma_coherent_pool', suites,
                      msg='no dma_coherent_pool KUnit suite in the kernel log:\n%s' % output)
        self.assertEqual(check_plans(documents) + failures(documents), [],
                         msg='KUnit failures in the kernel log:\n%s' % output)

    @OETestDepends(['coherent_heap.CoherentHeapTest.test_dma_heap_suites',
                    'coherent_heap.CoherentHeapTest.test_kselftest_dmabuf_heaps'])
    def test_no_kernel_splat(self):
        status, output = self.target.run('dmesg')
        self.assertEqual(status, 0, msg=output)
        splats = [line for line in output.splitlines() if splat_kind(line)]
        self.assertEqual(splats, [], msg='kernel reports in the log:\n%s' % '\n'.join(splats))
