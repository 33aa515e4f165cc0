#!/usr/bin/env python3
"""Include cycles between modules, run by check-layers.sh.

A module is a .c/.h pair (foo.c and foo.h are one node; a header without a
.c, such as worker_priv.h, is a node of its own), except that a module cut
into several files names its parts in SPLIT: the iterator's iter_*.c files and
its private header iter_priv.h are the iterator. Module A depends on B when
either file of A includes B's header. A cycle is a strongly connected set of
modules. Exits 1 when a cycle lives outside resolver/daemon/ or crosses a
folder; a cycle inside resolver/daemon/ is printed and allowed, and must be
named in the README's Design section. With --graph, prints every edge.
"""
import os
import re
import sys
from collections import defaultdict

FOLDERS = ["resolver/lib", "resolver/dnssec", "resolver/core", "resolver/daemon", "cache",
           "metrics"]
ALLOWED = "resolver/daemon"
# Modules cut into several files: module -> file-name prefix of its parts.
SPLIT = {"resolver/core/iterator": "resolver/core/iter_"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)\.h"')


def module_of(path):
    for module, prefix in SPLIT.items():
        if path.startswith(prefix):
            return module
    return path


def module_graph(root):
    edges = defaultdict(set)
    for folder in FOLDERS:
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if not name.endswith((".c", ".h")):
                continue
            module = module_of(f"{folder}/{name[:-2]}")
            edges[module]
            with open(os.path.join(root, folder, name)) as f:
                for line in f:
                    m = INCLUDE.match(line)
                    target = module_of(m.group(1)) if m else None
                    if m and target != module and os.path.dirname(m.group(1)) in FOLDERS:
                        edges[module].add(target)
    return edges


def cycles(edges):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
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
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    edges = module_graph(root)
    if "--graph" in sys.argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{a} -> {b}")
    status = 0
    for comp in cycles(edges):
        folders = {os.path.dirname(m) for m in comp}
        bad = folders != {ALLOWED}
        where = ", ".join(sorted(folders))
        print(f"include cycle ({'not allowed: ' if bad else ''}{where}):", file=sys.stderr)
        members = set(comp)
        for a in comp:
            for b in sorted(edges[a] & members):
                print(f"  {a} -> {b}", file=sys.stderr)
        status |= bad
    if status == 0:
        print("include cycles: none outside resolver/daemon")
    return status


if __name__ == "__main__":
    sys.exit(main())
