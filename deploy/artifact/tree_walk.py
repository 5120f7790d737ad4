"""Where each member of an archive lands, resolved through the links already in it.

A lexical check of each link target (`normpath`) misses chains: `c1 -> ..`,
`c2 -> c1/..` look harmless one by one, but `c2` resolves above the root. So the
archive is replayed into a virtual tree, member by member in archive order, the
way an extractor that follows every link would write it (Python's tarfile with
no filter, the most permissive one; GNU tar follows no more than that): a
member's parent path is resolved through the symlinks placed so far, a file or
directory member through a symlink already at its own name too, a hardlink's
target from the root. Once every member is placed, every symlink is resolved
against the final tree (what `os.path.realpath` will see on the host). Anything
that steps above the root, or any absolute target, is an escape.

Symlink loops are left unresolved, like `realpath` does: they cannot escape, and
extracting through one fails.
"""

from __future__ import annotations

from dataclasses import dataclass

Parts = tuple[str, ...]
MAX_HOPS = 40  # the kernel's own limit on symlinks followed in one lookup


class Escape(Exception):
    """The path leaves the root; `str()` says how."""


@dataclass
class Node:
    kind: str  # "dir", "file" or "link"
    target: str = ""  # a link's target, as written in the archive


def split(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


class VirtualTree:
    """The tree an archive extracts to, without writing anything."""

    def __init__(self) -> None:
        self.nodes: dict[Parts, Node] = {(): Node("dir")}

    def resolve(self, start: Parts, path: str, follow_last: bool) -> Parts | None:
        """`path` (relative to the directory `start`) as a physical location under the root;
        None when a symlink loop stops resolution; Escape when it leaves the root."""
        done, todo, hops = list(start), split(path), 0
        if path.startswith("/"):
            raise Escape(f"absolute path {path!r}")
        while todo:
            part = todo.pop(0)
            if part == "..":
                if not done:
                    raise Escape("steps above the release root")
                done.pop()
                continue
            node = self.nodes.get((*done, part))
            if node is not None and node.kind == "link" and (todo or follow_last):
                hops += 1
                if hops > MAX_HOPS:
                    return None
                if node.target.startswith("/"):
                    raise Escape(f"goes through {'/'.join((*done, part))!r} -> {node.target!r} (absolute)")
                todo = split(node.target) + todo
                continue
            done.append(part)
        return tuple(done)

    def has_children(self, where: Parts) -> bool:
        n = len(where)
        return any(len(k) > n and k[:n] == where for k in self.nodes)

    def place(self, where: Parts, node: Node) -> None:
        """Put `node` at `where`, replacing what was there (and, for a non-directory, below it)."""
        old = self.nodes.get(where)
        if node.kind != "dir" or (old is not None and old.kind != "dir"):
            for key in [k for k in self.nodes if len(k) > len(where) and k[: len(where)] == where]:
                del self.nodes[key]
        if not (node.kind == "dir" and old is not None and old.kind == "dir"):
            self.nodes[where] = node
        for depth in range(1, len(where)):  # extractors create missing parents as directories
            self.nodes.setdefault(where[:depth], Node("dir"))

    def links(self) -> list[tuple[Parts, Node]]:
        return [(k, n) for k, n in self.nodes.items() if n.kind == "link"]


def landing(tree: VirtualTree, name: str, follow_last: bool) -> Parts | None:
    """Where a member called `name` is written: its parent resolved through the tree's links
    (and its own name too when `follow_last`); None when a loop makes it unreachable."""
    parts = split(name)
    if not parts:
        return ()
    parent = tree.resolve((), "/".join(parts[:-1]), follow_last=True)
    if parent is None:
        return None
    if parts[-1] == "..":
        if not parent:
            raise Escape("steps above the release root")
        return parent[:-1]
    return tree.resolve(parent, parts[-1], follow_last=follow_last)


def check_final_links(tree: VirtualTree) -> None:
    """Every symlink of the finished tree, resolved as the host will see it; Escape names the first bad one."""
    for where, node in sorted(tree.links()):
        try:
            tree.resolve(where[:-1], node.target, follow_last=True)
        except Escape as e:
            raise Escape(f"symlink {'/'.join(where)!r} -> {node.target!r} resolves outside the release ({e})") from None
