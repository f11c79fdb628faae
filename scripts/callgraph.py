#!/usr/bin/env python3
"""Draw the call graph between the files of a C component and check it.

    scripts/callgraph.py [options] DIR|FILE...

For every C file given (a directory stands for its *.c and *.h files) the
script finds the functions each file defines, and in each function body
(and each file-scope initializer: ops tables) the names of functions
defined in another of the files. That is an edge "file A uses file B".
Static inline functions of a header belong to the header, so a header
whose inlines call into a .c file is a node like the others.

It prints the edges (with the functions behind each), the files in layer
order (a file only uses files of lower layers), any cycle, the longest
functions and files, and writes a DOT file and a PNG chart when asked.
Exit status 1 when the graph has a cycle or a limit is exceeded:

    --max-file-lines N   no file longer than N lines
    --max-func-lines N   no function longer than N lines (from the line
                         with its name to its closing brace)

The parser is lexical (comments and strings removed, braces counted), not
a compiler: calls made only through function-like macros are not seen,
and a name that is both a local variable and another file's function
counts as a use. Good enough for code in kernel or QEMU style.
"""

import argparse
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_]\w*")
KEYWORDS = {
    "if", "for", "while", "switch", "return", "sizeof", "typeof",
    "__typeof__", "do", "else", "case", "goto", "defined", "alignof",
    "_Alignof", "_Static_assert", "static_assert", "__attribute__",
    "offsetof",
}


def strip_code(text):
    """Text with comments, string and char literals and preprocessor lines
    blanked out (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":
            # a preprocessor line, with its continuations
            while i < n:
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                if text[i] == "\n":
                    break
                out.append(" ")
                i += 1
            continue
        line_start = False
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
            continue
        if c == "\n":
            line_start = True
        out.append(c)
        i += 1
    return "".join(out)


def function_name(head):
    """The name of the function a definition head declares, or None: the
    first top-level NAME( in it that is not a macro or attribute."""
    if re.search(r"[=;]", head) or re.match(r"\s*(typedef|struct|union|enum)\b[^(]*$", head):
        return None
    depth = 0
    for m in re.finditer(r"[A-Za-z_]\w*|[()]", head):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        elif depth == 0:
            rest = head[m.end():].lstrip()
            if (rest.startswith("(") and tok not in KEYWORDS
                    and not tok.startswith("__")
                    and re.search("[a-z]", tok)):
                return tok
    return None


class Func:
    def __init__(self, name, path, static, first, last, body):
        self.name, self.path, self.static = name, path, static
        self.first, self.last, self.body = first, last, body

    @property
    def lines(self):
        return self.last - self.first + 1


def parse(path):
    """(functions, file-scope text) of one C file."""
    text = strip_code(open(path, encoding="utf-8", errors="replace").read())
    funcs, toplevel = [], []
    depth = 0
    head_start = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{" and depth == 0:
            head = text[head_start:i]
            name = function_name(head)
            # find the matching brace
            j, d = i, 0
            while j < n:
                if text[j] == "{":
                    d += 1
                elif text[j] == "}":
                    d -= 1
                    if d == 0:
                        break
                j += 1
            if name:
                m = re.search(r"\b%s\s*\(" % re.escape(name), head)
                first = text.count("\n", 0, head_start + m.start()) + 1
                last = text.count("\n", 0, j) + 1
                static = re.search(r"\bstatic\b", head) is not None
                funcs.append(Func(name, path, static, first, last,
                                  text[i:j + 1]))
            elif "=" in head:
                toplevel.append(text[head_start:j + 1])
            i = j + 1
            head_start = i
            continue
        if c == ";" and depth == 0:
            # a declaration: only an initializer (an ops table, a
            # function pointer) uses what it names; prototypes do not
            if "=" in text[head_start:i]:
                toplevel.append(text[head_start:i])
            head_start = i + 1
        i += 1
    return funcs, "\n".join(toplevel)


def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p)
                            if f.endswith((".c", ".h")))
        else:
            files.append(p)
    return files


def build_graph(files):
    parsed = {f: parse(f) for f in files}
    # Where each name is defined: static functions only in their own
    # file; a non-static (or header inline) one everywhere.
    public = {}
    for f, (funcs, _) in parsed.items():
        for fn in funcs:
            if f.endswith(".h") or not fn.static:
                public.setdefault(fn.name, f)
    edges = {}  # (a, b) -> set of "caller -> callee"
    for f, (funcs, toplevel) in parsed.items():
        local = {fn.name for fn in funcs}
        units = [(fn.name, fn.body) for fn in funcs] + [("(file scope)", toplevel)]
        for caller, body in units:
            for name in set(IDENT.findall(body)):
                if name in local or name not in public:
                    continue
                g = public[name]
                if g != f:
                    edges.setdefault((f, g), set()).add("%s -> %s" % (caller, name))
    return parsed, edges


def sccs(nodes, edges):
    """Strongly connected components with more than one node (cycles)."""
    adj = {v: [] for v in nodes}
    for a, b in edges:
        adj[a].append(b)
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def layers(nodes, edges):
    """Layer of each node: 0 uses nothing; else 1 + the highest layer it
    uses. Nodes on a cycle get None."""
    uses = {v: {b for a, b in edges if a == v} for v in nodes}
    layer = {}
    changed = True
    while changed:
        changed = False
        for v in nodes:
            if v in layer:
                continue
            if all(u in layer for u in uses[v]):
                layer[v] = 1 + max((layer[u] for u in uses[v]), default=-1)
                changed = True
    return {v: layer.get(v) for v in nodes}


def write_dot(path, nodes, edges, names):
    with open(path, "w") as f:
        f.write("digraph calls {\n  rankdir=BT;\n  node [shape=box];\n")
        for v in nodes:
            f.write('  "%s";\n' % names[v])
        for (a, b), calls in sorted(edges.items()):
            f.write('  "%s" -> "%s" [label="%d"];\n' % (names[a], names[b], len(calls)))
        f.write("}\n")


def write_png(path, nodes, edges, names, layer, cyclic):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("python3-matplotlib missing: no chart (make deps installs it)",
              file=sys.stderr)
        return
    top = max([l for l in layer.values() if l is not None], default=0) + 1
    rows = {}
    for v in nodes:
        rows.setdefault(layer[v] if layer[v] is not None else top, []).append(v)
    pos = {}
    for r, vs in rows.items():
        for k, v in enumerate(sorted(vs)):
            pos[v] = ((k + 1) / (len(vs) + 1), r)
    height = max(rows) + 1
    fig, ax = plt.subplots(figsize=(10, 1.3 * height + 1))
    for (a, b) in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        bad = any(a in c and b in c for c in cyclic)
        ax.annotate("", xy=(x2, y2 + 0.12), xytext=(x1, y1 - 0.12),
                    arrowprops=dict(arrowstyle="->", lw=1,
                                    color="red" if bad else "0.4",
                                    connectionstyle="arc3,rad=0.05"))
    for v, (x, y) in pos.items():
        ax.text(x, y, names[v], ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="#fde0dd" if layer[v] is None
                          else "#e0ecf4", ec="0.3"))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, height - 0.4)
    ax.set_yticks(range(height))
    ax.set_yticklabels(["cycle" if r == top and any(layer[v] is None for v in rows.get(r, []))
                        else "layer %d" % r for r in range(height)])
    ax.set_xticks([])
    ax.set_title("file call graph (an arrow: calls into)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--max-file-lines", type=int)
    ap.add_argument("--max-func-lines", type=int)
    ap.add_argument("--dot", help="write the graph in DOT to this file")
    ap.add_argument("--png", help="draw the graph into this PNG")
    ap.add_argument("--top", type=int, default=5,
                    help="longest functions to list (default 5)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list the functions behind each edge")
    args = ap.parse_args(argv)

    files = collect(args.paths)
    if not files:
        ap.error("no C files in %s" % " ".join(args.paths))
    prefix = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    names = {f: os.path.relpath(os.path.abspath(f), prefix) for f in files}
    parsed, edges = build_graph(files)
    cyclic = sccs(files, edges)
    layer = layers(files, edges)
    bad = []

    print("files by layer (a file calls only into lower layers):")
    for f in sorted(files, key=lambda v: (layer[v] is None, layer[v] or 0, names[v])):
        nlines = open(f, encoding="utf-8", errors="replace").read().count("\n")
        uses = sorted(names[b] for a, b in edges if a == f)
        print("  %-8s %-24s %5d lines  uses: %s" % (
            "cycle" if layer[f] is None else "L%d" % layer[f], names[f],
            nlines, ", ".join(uses) or "-"))
        if args.max_file_lines and nlines > args.max_file_lines:
            bad.append("%s: %d lines (limit %d)" % (names[f], nlines, args.max_file_lines))
    if args.verbose:
        print("edges:")
        for (a, b), calls in sorted(edges.items()):
            print("  %s -> %s: %s" % (names[a], names[b], ", ".join(sorted(calls))))
    for comp in cyclic:
        cyc = set(comp)
        detail = ["%s -> %s (%s)" % (names[a], names[b], ", ".join(sorted(c)[:3]))
                  for (a, b), c in sorted(edges.items()) if a in cyc and b in cyc]
        bad.append("call cycle between %s: %s" % (
            ", ".join(names[v] for v in comp), "; ".join(detail)))

    funcs = sorted((fn for fs, _ in parsed.values() for fn in fs),
                   key=lambda fn: -fn.lines)
    print("longest functions:")
    for fn in funcs[:args.top]:
        print("  %4d lines  %s (%s:%d)" % (fn.lines, fn.name, names[fn.path], fn.first))
    if args.max_func_lines:
        for fn in funcs:
            if fn.lines > args.max_func_lines:
                bad.append("%s (%s:%d): %d lines (limit %d)" % (
                    fn.name, names[fn.path], fn.first, fn.lines, args.max_func_lines))

    if args.dot:
        write_dot(args.dot, files, edges, names)
    if args.png:
        write_png(args.png, files, edges, names, layer, cyclic)
    for b in bad:
        print("FAIL: " + b)
    if not bad:
        print("ok: %d files, %d functions, no call cycle%s" % (
            len(files), len(funcs),
            "" if not (args.max_file_lines or args.max_func_lines) else ", within the limits"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
