#!/usr/bin/python3
"""Put the hsnic driver into a Linux kernel tree, or emit it as a patch.

guest-driver/ is the one source of the driver; this script derives the
in-tree driver from it:

  drivers/net/ethernet/hsnic/        the .c/.h files as they are, Kconfig,
                                     and Makefile = guest-driver/Kbuild
                                     without its out-of-tree block
  include/uapi/misc/hsnic_abi.h      include/hsnic_abi.h as it is (the
                                     device ABI, like misc/pvpanic.h; QEMU
                                     imports it as standard-headers/misc/),
                                     included by hsnic.h as
                                     <uapi/misc/hsnic_abi.h> in tree
  Documentation/networking/device_drivers/ethernet/hsnic.rst
                                     guest-driver/hsnic.rst

and wires it in: drivers/net/ethernet/Kconfig (source) and Makefile
(obj-$(CONFIG_HSNIC)), the ethernet drivers' documentation index, and a
MAINTAINERS entry, each at its sorted place.

usage:
  scripts/driver-into-tree.py --tree DIR
      copy into the kernel tree DIR; running it twice changes nothing
  scripts/driver-into-tree.py --patch OUT [--base DIR]
      write a git-am-able patch (git format-patch) to OUT against the
      kernel tree DIR (default: the Debian linux-source tree the lab
      builds, $HSNIC_CACHE/src/linux-*); only the four files the patch
      changes are read from DIR, so DIR need not be a git tree
  --check   with --patch: check the patch the way a netdev reviewer
            would, with the base tree's own tools: `git apply --check`
            onto it and `scripts/checkpatch.pl --strict` (in-tree mode,
            ~10 s; its SPDX check needs python3-ply and python3-git)
  --author "Name <email>"   MAINTAINERS entry and Signed-off-by (default:
                            git config user.name/user.email)

Both refuse a tree without the netdev queue configuration API of Linux
7.0 (QCFG_RX_PAGE_SIZE in include/net/netdev_queues.h), naming it.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DRV = os.path.join(TOP, "guest-driver")
CACHE = os.environ.get("HSNIC_CACHE", os.path.expanduser("~/.cache/hsnic"))

DRV_DIR = "drivers/net/ethernet/hsnic"
ABI_DST = "include/uapi/misc/hsnic_abi.h"
DOC_DST = "Documentation/networking/device_drivers/ethernet/hsnic.rst"
ETH_KCONFIG = "drivers/net/ethernet/Kconfig"
ETH_MAKEFILE = "drivers/net/ethernet/Makefile"
DOC_INDEX = "Documentation/networking/device_drivers/ethernet/index.rst"
MAINTAINERS = "MAINTAINERS"
WIRED = (ETH_KCONFIG, ETH_MAKEFILE, DOC_INDEX, MAINTAINERS)

OOT_BEGIN = "# >>> out of tree only"
OOT_END = "# <<< out of tree only"
ABI_INCLUDE_OOT = '#include "hsnic_abi.h"'
ABI_INCLUDE_TREE = "#include <uapi/misc/hsnic_abi.h>"
MAINT_TITLE = "HSNIC VIRTUAL NIC DRIVER"

# The first kernel with everything the driver uses; the feature test is
# the queue configuration API, the newest of them.
MIN_VERSION = "7.0"
FEATURE_FILE = "include/net/netdev_queues.h"
FEATURE = "QCFG_RX_PAGE_SIZE"


def die(msg):
    sys.stderr.write("driver-into-tree: error: %s\n" % msg)
    sys.exit(1)


def log(msg):
    sys.stderr.write("driver-into-tree: %s\n" % msg)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def tree_version(tree):
    mk = read(os.path.join(tree, "Makefile"))
    v = {}
    for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL"):
        m = re.search(r"^%s = *(\d*)" % k, mk, re.M)
        v[k] = m.group(1) if m else ""
    return "%s.%s.%s" % (v["VERSION"], v["PATCHLEVEL"], v["SUBLEVEL"])


def check_tree(tree):
    for f in ("Makefile", ETH_KCONFIG, ETH_MAKEFILE, FEATURE_FILE):
        if not os.path.isfile(os.path.join(tree, f)):
            die("%s is not a Linux source tree (no %s)" % (tree, f))
    if FEATURE not in read(os.path.join(tree, FEATURE_FILE)):
        die("hsnic needs Linux %s or later: %s (Linux %s) has no netdev "
            "queue configuration API (%s in %s; struct netdev_queue_config"
            ", ndo_default_qcfg, netdev_queue_config())"
            % (MIN_VERSION, tree, tree_version(tree), FEATURE, FEATURE_FILE))


def driver_files():
    """{path in the kernel tree: content}, derived from guest-driver/."""
    files = {}
    srcs = sorted(glob.glob(os.path.join(DRV, "*.[ch]")))
    found = 0
    for src in srcs:
        text = read(src)
        n = text.count(ABI_INCLUDE_OOT + "\n")
        found += n
        text = text.replace(ABI_INCLUDE_OOT + "\n", ABI_INCLUDE_TREE + "\n")
        files["%s/%s" % (DRV_DIR, os.path.basename(src))] = text
    if found != 1:
        die("expected one '%s' in guest-driver/*.[ch], found %d"
            % (ABI_INCLUDE_OOT, found))
    kbuild = read(os.path.join(DRV, "Kbuild"))
    m = re.search(r"^%s.*?^%s[^\n]*\n\n?" % (re.escape(OOT_BEGIN),
                                              re.escape(OOT_END)),
                  kbuild, re.M | re.S)
    if not m:
        die("guest-driver/Kbuild has no '%s' ... '%s' block"
            % (OOT_BEGIN, OOT_END))
    files[DRV_DIR + "/Makefile"] = kbuild[:m.start()] + kbuild[m.end():]
    files[DRV_DIR + "/Kconfig"] = read(os.path.join(DRV, "Kconfig"))
    files[ABI_DST] = read(os.path.join(TOP, "include", "hsnic_abi.h"))
    files[DOC_DST] = read(os.path.join(DRV, "hsnic.rst"))
    return files


def insert_sorted(lines, pattern, key, new):
    """Insert @new after the line matching @pattern whose group 1 is the
    greatest below @key (the lists are sorted, not always strictly: the
    nearest predecessor is robust to an entry out of place elsewhere).
    Returns the new list, or None if @new is there already."""
    if new in lines:
        return None
    best = None
    for i, line in enumerate(lines):
        m = re.match(pattern, line)
        if m and m.group(1) < key and (best is None or m.group(1) >= best[0]):
            best = (m.group(1), i)
    if best is None:
        die("no line like %r to put %r after" % (pattern, new))
    return lines[:best[1] + 1] + [new] + lines[best[1] + 1:]


def wire_kconfig(text):
    lines = insert_sorted(text.split("\n"),
                          r'^source "drivers/net/ethernet/([^/"]+)/Kconfig"',
                          "hsnic",
                          'source "drivers/net/ethernet/hsnic/Kconfig"')
    return None if lines is None else "\n".join(lines)


def wire_makefile(text):
    lines = insert_sorted(text.split("\n"),
                          r"^obj-\$\(CONFIG_[A-Z0-9_]+\) \+= ([a-z0-9_-]+)/$",
                          "hsnic", "obj-$(CONFIG_HSNIC) += hsnic/")
    return None if lines is None else "\n".join(lines)


def wire_doc_index(text):
    lines = insert_sorted(text.split("\n"), r"^   ([a-z0-9][^ ]*)$",
                          "hsnic", "   hsnic")
    return None if lines is None else "\n".join(lines)


def wire_maintainers(text, author):
    if "\n%s\n" % MAINT_TITLE in text:
        return None
    entry = "\n".join([
        MAINT_TITLE,
        "M:\t%s" % author,
        "L:\tnetdev@vger.kernel.org",
        "S:\tMaintained",
        "F:\t%s" % DOC_DST,
        "F:\t%s/" % DRV_DIR,
        "F:\t%s" % ABI_DST,
        "", ""])
    # Section titles: a line followed by an "X:\t" line. The entries
    # start after the introduction, at "3C59X NETWORK DRIVER"; the new one
    # goes after the section whose title is the greatest below its own.
    start = text.find("\n3C59X NETWORK DRIVER\n")
    if start < 0:
        die("MAINTAINERS: cannot find the start of the entries")
    titles = [(m.group(1), start + 1 + m.start()) for m in
              re.finditer(r"^([^\n\t]+)\n[A-Z]:\t", text[start + 1:], re.M)]
    prev = max((t for t in titles if t[0] < MAINT_TITLE), default=None)
    if prev is None:
        die("MAINTAINERS: no section sorts before %s" % MAINT_TITLE)
    # the section ends at the next blank line
    end = text.find("\n\n", prev[1])
    at = len(text) if end < 0 else end + 2
    return text[:at] + entry + text[at:]


def wire(tree, author):
    """Edit the four wired files in place; returns the changed ones."""
    changed = []
    for rel in WIRED:
        path = os.path.join(tree, rel)
        if not os.path.isfile(path):
            die("%s has no %s" % (tree, rel))
        text = read(path)
        if rel == MAINTAINERS:
            new = wire_maintainers(text, author)
        else:
            new = {ETH_KCONFIG: wire_kconfig, ETH_MAKEFILE: wire_makefile,
                   DOC_INDEX: wire_doc_index}[rel](text)
        if new is not None and new != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            changed.append(rel)
    return changed


def install(tree, author):
    """Copy the driver into @tree and wire it in. Idempotent: files with
    the right content are not rewritten. Returns the changed paths."""
    changed = []
    files = driver_files()
    drv = os.path.join(tree, DRV_DIR)
    if os.path.isdir(drv):  # sources the driver no longer has
        for name in sorted(os.listdir(drv)):
            rel = "%s/%s" % (DRV_DIR, name)
            if (re.match(r".*\.[ch]$|^(Kconfig|Makefile|Kbuild)$", name)
                    and rel not in files):
                os.unlink(os.path.join(drv, name))
                changed.append(rel + " (removed)")
    for rel, text in sorted(files.items()):
        path = os.path.join(tree, rel)
        if os.path.isfile(path) and read(path) == text:
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        changed.append(rel)
    return changed + wire(tree, author)


def git_author():
    def cfg(k, default):
        r = subprocess.run(["git", "-C", TOP, "config", k],
                           capture_output=True, text=True)
        return r.stdout.strip() or default
    return "%s <%s>" % (cfg("user.name", "hsnic"),
                        cfg("user.email", "hsnic@localhost"))


COMMIT_MSG = """\
net: ethernet: add hsnic, a virtual NIC for devmem TCP and zcrx

hsnic is a virtual PCIe NIC modelled in QEMU (PCI ID 1af4:10f0, from the
range QEMU leaves for experimental devices) that has what devmem TCP and
io_uring zero-copy receive need from a NIC: TCP header split into
separate header and payload rings, RX queues that are restarted one at
a time, flow steering rules and RSS to put a flow on such a queue. With
it those paths, and the drivers/net/hw selftests that cover them
(devmem.py, iou-zcrx.py, hds.py, queues.py), run in any VM.

The driver implements the queue management API with two page pools per
RX queue (headers, and payload that may be unreadable netmem of a
memory provider), per-queue rx_page_size through the queue
configuration API, devmem TX, native XDP, ethtool rings, channels, RSS
contexts, ntuple rules and coalescing, per-queue statistics and
debugfs. Documentation/networking/device_drivers/ethernet/hsnic.rst
describes it.

The device ABI (registers, descriptors, completions) is the uapi header
include/uapi/misc/hsnic_abi.h: the QEMU model compiles the same header,
imported into QEMU as include/standard-headers/misc/hsnic_abi.h the way
misc/pvpanic.h is.

The driver needs Linux 7.0 or later (the queue configuration API) and no
change to the core.

Signed-off-by: %s
"""


def default_base():
    trees = sorted(t for t in glob.glob(os.path.join(CACHE, "src", "linux-*"))
                   if os.path.isfile(os.path.join(t, "Makefile")))
    if not trees:
        die("no kernel tree under %s/src; pass --base DIR (or run "
            "scripts/build-kernel.sh once)" % CACHE)
    return trees[-1]


def make_patch(out, base, author):
    """A mini git tree with the base's four wired files, the driver added
    on top, exported with git format-patch. Blob ids depend only on
    content, so the patch applies with git am to the whole base tree."""
    check_tree(base)
    if os.path.exists(os.path.join(base, DRV_DIR)) or \
            "hsnic" in read(os.path.join(base, ETH_KCONFIG)):
        die("%s has hsnic in it already; the base of --patch is a tree "
            "without it" % base)
    name, email = re.match(r"(.*?)\s*<(.*)>", author).groups()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
               GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    with tempfile.TemporaryDirectory(prefix="hsnic-patch-") as tmp:
        def git(*args):
            subprocess.run(["git", "-C", tmp, "-c", "core.autocrlf=false"]
                           + list(args), check=True, env=env,
                           stdout=subprocess.DEVNULL)
        git("init", "-q")
        for rel in WIRED:
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            shutil.copyfile(os.path.join(base, rel), os.path.join(tmp, rel))
        git("add", "-A", "-f")
        git("commit", "-q", "-m", "base: Linux %s" % tree_version(base))
        install(tmp, author)
        git("add", "-A", "-f")
        subprocess.run(["git", "-C", tmp, "commit", "-q", "-F", "-"],
                       input=COMMIT_MSG % author, text=True, check=True,
                       env=env)
        # MAINTAINERS first: checkpatch wants it seen before new files
        order = os.path.join(tmp, ".git", "hsnic-order")
        with open(order, "w", encoding="utf-8") as f:
            f.write("MAINTAINERS\n*\n")
        r = subprocess.run(["git", "-C", tmp, "format-patch", "-1",
                            "--stdout", "--no-signature", "-O" + order,
                            "HEAD"],
                           capture_output=True, text=True, check=True,
                           env=env)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(r.stdout)
    log("wrote %s (against %s, Linux %s)" % (out, base, tree_version(base)))


def check_patch(patch, base):
    """git apply --check and checkpatch --strict, from the base tree."""
    patch = os.path.abspath(patch)
    r = subprocess.run(["git", "apply", "--check", patch], cwd=base,
                       capture_output=True, text=True)
    if r.returncode:
        die("the patch does not apply to %s:\n%s" % (base, r.stderr))
    log("git apply --check onto %s: ok" % base)
    # checkpatch runs scripts/spdxcheck.py with the python3 in PATH; the
    # system one is where Debian's python3-ply and python3-git go.
    env = dict(os.environ, PATH="/usr/bin:/bin:" + os.environ.get("PATH", ""))
    r = subprocess.run(["/usr/bin/python3", "-c", "import ply, git"],
                       capture_output=True)
    if r.returncode:
        log("warning: no python3-ply/python3-git: checkpatch cannot run "
            "its SPDX check (apt-get install python3-ply python3-git)")
    r = subprocess.run(["perl", "scripts/checkpatch.pl", "--strict", patch],
                       cwd=base, env=env, capture_output=True, text=True)
    out = r.stdout + r.stderr
    m = re.search(r"^total: .*$", out, re.M)
    if r.returncode or not m or not re.match(
            r"total: 0 errors, 0 warnings, 0 checks", m.group(0)):
        sys.stderr.write(out)
        die("checkpatch --strict is not clean")
    log("checkpatch --strict: %s" % m.group(0))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--tree", metavar="DIR")
    g.add_argument("--patch", metavar="OUT")
    ap.add_argument("--base", metavar="DIR")
    ap.add_argument("--author", metavar='"NAME <EMAIL>"')
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    author = a.author or git_author()
    if not re.match(r".+ <[^<>@\s]+@[^<>\s]+>$", author):
        die("--author must look like 'Name <email>', not %r" % author)
    if a.tree:
        if a.base or a.check:
            die("--base and --check go with --patch")
        check_tree(a.tree)
        changed = install(a.tree, author)
        for c in changed:
            log("updated " + c)
        log("%s: %s" % (a.tree, "%d file(s) changed" % len(changed)
                        if changed else "up to date, nothing changed"))
    else:
        base = a.base or default_base()
        make_patch(a.patch, base, author)
        if a.check:
            check_patch(a.patch, base)


if __name__ == "__main__":
    main()
