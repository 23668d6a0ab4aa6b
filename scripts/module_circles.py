#!/usr/bin/env python3
"""Fails when the modules of a Rust crate import each other in a circle.

    scripts/module_circles.py <crate root file>...   e.g. xorpay-core/src/lib.rs

Each module (a file, or an inline `mod name { … }`) is a node. Module A depends on module B
when A's code names an item of B: in a `use` (`crate::b::Item`, `super::Item`, `b::Item`) or
in a path written inline (`crate::b::f()`). Three things are not dependencies:

- `pub use` (and `pub(crate) use`, `pub(super) use`) re-exports whose name the module's own
  code does not mention: a module's table of contents says where its items live, it does
  not use them (a re-exported name the module's code uses is a dependency like any other);
- `#[cfg(test)]` modules: tests may reach anywhere;
- naming an ancestor's item from a descendant through `super::`/`crate::` is a dependency on
  that ancestor, and it is a circle only if the ancestor's own code uses the descendant.

A circle is a strongly connected component of two modules or more. Each is printed with one
line per edge naming the file and the path that makes it, and the exit status is 1.

The parser reads Rust's token shapes that matter here (comments, strings, raw strings, char
literals, lifetimes, braces and paths); it does not expand macros, so a path that only a
macro writes is not seen.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<raw_string>b?r(?P<hashes>\#*)")
  | (?P<string>b?"(?:\\.|[^"\\])*")
  | (?P<char>b?'(?:\\.|[^'\\])')
  | (?P<lifetime>'[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>r\#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*)
  | (?P<path_sep>::)
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[str]:
    """The significant tokens of Rust source: identifiers, `::` and single punctuation."""
    out: list[str] = []
    at = 0
    while at < len(text):
        match = TOKEN.match(text, at)
        assert match, f"no token at {at}"
        kind = match.lastgroup
        if kind == "block_comment":
            depth, at = 1, match.end()
            while depth and at < len(text):
                if text.startswith("/*", at):
                    depth, at = depth + 1, at + 2
                elif text.startswith("*/", at):
                    depth, at = depth - 1, at + 2
                else:
                    at += 1
            continue
        if kind == "raw_string":
            end = text.index('"' + match.group("hashes"), match.end())
            at = end + 1 + len(match.group("hashes"))
            out.append('""')
            continue
        at = match.end()
        if kind in ("ws", "line_comment"):
            continue
        out.append(match.group(0).removeprefix("r#") if kind == "ident" else match.group(0))
    return out


@dataclass
class Module:
    path: tuple[str, ...]  # from the crate root, e.g. ("order", "state")
    file: str
    children: set[str] = field(default_factory=set)
    # (target path as written, relative to this module) -> where it was seen
    uses: list[tuple[list[str], str]] = field(default_factory=list)
    # re-exports: (target path, the name it is known by here, where it was seen)
    reexports: list[tuple[list[str], str, str]] = field(default_factory=list)
    # every identifier of the module's own code (outside `use` statements)
    idents: set[str] = field(default_factory=set)


class Crate:
    def __init__(self, root_file: str):
        self.modules: dict[tuple[str, ...], Module] = {}
        self.load((), root_file, os.path.dirname(root_file))

    def load(self, path: tuple[str, ...], file: str, child_dir: str) -> None:
        with open(file, encoding="utf-8") as source:
            toks = tokens(source.read())
        self.parse(path, file, toks, 0, len(toks), child_dir)

    def parse(self, path, file, toks, start, end, child_dir) -> None:
        module = self.modules.setdefault(path, Module(path, file))
        i = start
        attributes: list[str] = []
        while i < end:
            tok = toks[i]
            if tok == "#" and i + 1 < end and toks[i + 1] in ("[", "!"):
                close = matching(toks, i + (1 if toks[i + 1] == "[" else 2))
                attributes.append(" ".join(toks[i:close + 1]))
                i = close + 1
                continue
            is_test = any(a.replace(" ", "").startswith("#[cfg(test)") for a in attributes)
            if tok == "mod" and i + 2 < end and toks[i + 2] in (";", "{"):
                name = toks[i + 1]
                if toks[i + 2] == ";":
                    if not is_test:
                        module.children.add(name)
                        self.load(path + (name,), *child_file(child_dir, name))
                    i += 3
                else:
                    close = matching(toks, i + 2)
                    if not is_test:
                        module.children.add(name)
                        self.parse(path + (name,), file, toks, i + 3, close,
                                   os.path.join(child_dir, name))
                    i = close + 1
                attributes = []
                continue
            if tok == "use":
                semicolon = toks.index(";", i)
                reexport = i > start and (toks[i - 1] == "pub" or toks[i - 1] == ")")
                if not is_test:
                    for target, local in use_tree(toks[i + 1:semicolon]):
                        seen = f"{file}: {'pub ' if reexport else ''}use {'::'.join(target)}"
                        if reexport:
                            module.reexports.append((target, local, seen))
                        else:
                            module.uses.append((target, seen))
                i = semicolon + 1
                attributes = []
                continue
            if tok == "::" and i > start and toks[i - 1] not in ("::", ">") \
                    and re.match(r"[A-Za-z_]", toks[i - 1]) and not is_prefixed(toks, i - 1):
                # An inline path: `first::second::…`.
                j = i - 1
                target = [toks[j]]
                while j + 2 < end and toks[j + 1] == "::" and re.match(r"[A-Za-z_]", toks[j + 2]):
                    target.append(toks[j + 2])
                    j += 2
                module.uses.append((target, f"{file}: {'::'.join(target)}"))
                i = max(j + 1, i + 1)
                continue
            if not is_test:
                module.idents.add(tok)
            if tok in (";", "}", "{"):
                attributes = []
            i += 1

    def resolve(self, module: Module, target: list[str]) -> tuple[str, ...] | None:
        """The module `target` (a path written in `module`) names, or None if not this crate's."""
        if not target:
            return None
        head, rest = target[0], target[1:]
        if head == "crate":
            base: tuple[str, ...] = ()
        elif head == "self":
            base = module.path
        elif head == "super":
            base = module.path[:-1]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        elif head in module.children:
            base, rest = module.path + (head,), rest
        else:
            return None  # another crate, a type, a local name
        # The longest prefix that is a module.
        for segment in rest:
            if base + (segment,) in self.modules:
                base = base + (segment,)
            else:
                break
        return base

    def edges(self) -> dict[tuple[str, ...], dict[tuple[str, ...], str]]:
        graph: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {
            path: {} for path in self.modules
        }
        for module in self.modules.values():
            used_reexports = [(target, seen) for target, local, seen in module.reexports
                              if local in module.idents]
            for target, seen in module.uses + used_reexports:
                resolved = self.resolve(module, target)
                if resolved is None or resolved == module.path:
                    continue
                # Naming an item through a module's own ancestors (`super::super::x::Y`)
                # depends on the module that defines it: `resolve` walked down to it.
                graph[module.path].setdefault(resolved, seen)
        return graph


def is_prefixed(toks: list[str], at: int) -> bool:
    """Whether the identifier at `at` continues a path already read (`a::b` at `b`)."""
    return at > 0 and toks[at - 1] == "::"


def child_file(directory: str, name: str) -> tuple[str, str]:
    """The file of `mod name;` declared by a module whose children live in `directory`."""
    flat = os.path.join(directory, name + ".rs")
    nested = os.path.join(directory, name, "mod.rs")
    if os.path.exists(flat):
        return flat, os.path.join(directory, name)
    if os.path.exists(nested):
        return nested, os.path.join(directory, name)
    raise SystemExit(f"module {name} declared but neither {flat} nor {nested} exists")


def matching(toks: list[str], open_at: int) -> int:
    """The index of the bracket closing the one at `open_at`."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    opener = toks[open_at]
    closer = pairs[opener]
    depth = 0
    for k in range(open_at, len(toks)):
        if toks[k] == opener:
            depth += 1
        elif toks[k] == closer:
            depth -= 1
            if depth == 0:
                return k
    raise SystemExit("unbalanced brackets")


def use_tree(toks: list[str]) -> list[tuple[list[str], str]]:
    """The paths of a `use` tree with the name each is known by: `a::{b, c::{d as e}}` gives
    (a::b, b) and (a::c::d, e); a glob's name is `*`."""
    paths: list[tuple[list[str], str]] = []

    def walk(prefix: list[str], at: int, end: int) -> None:
        current = list(prefix)
        k = at
        while k < end:
            tok = toks[k]
            if tok == "{":
                close = matching(toks, k)
                for start, stop in split_commas(k + 1, close):
                    walk(current, start, stop)
                return
            if tok == "as":
                paths.append((current, toks[k + 1]))
                return
            if tok == "*":
                paths.append((current, "*"))
                return
            if tok not in ("::", ","):
                current.append(tok)
            k += 1
        if current:
            # `a::b::{self}` is known as `b`.
            named = [segment for segment in current if segment != "self"] or current
            paths.append((current, named[-1]))

    def split_commas(start: int, stop: int) -> list[tuple[int, int]]:
        parts, depth, begin = [], 0, start
        for k in range(start, stop):
            if toks[k] == "{":
                depth += 1
            elif toks[k] == "}":
                depth -= 1
            elif toks[k] == "," and depth == 0:
                parts.append((begin, k))
                begin = k + 1
        parts.append((begin, stop))
        return [(a, b) for a, b in parts if a < b]

    walk([], 0, len(toks))
    return [(path, local) for path, local in paths if path]


def circles(graph) -> list[list[tuple[str, ...]]]:
    """The strongly connected components of two modules or more (Tarjan's algorithm)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on_stack: set = set()
    found: list = []
    counter = [0]

    def visit(node) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def name(path: tuple[str, ...]) -> str:
    return "::".join(("crate",) + path)


def main(roots: list[str]) -> int:
    if not roots:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    failed = False
    for root in roots:
        crate = Crate(root)
        graph = crate.edges()
        found = circles(graph)
        edges = sum(len(targets) for targets in graph.values())
        if not found:
            print(f"{root}: {len(crate.modules)} modules, {edges} dependencies, no circle")
            continue
        failed = True
        for component in found:
            members = set(component)
            print(f"{root}: a circle of {len(component)} modules: "
                  + ", ".join(name(m) for m in component))
            for source in component:
                for target, seen in sorted(graph[source].items()):
                    if target in members:
                        print(f"    {name(source)} -> {name(target)}   ({seen})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
