"""Containment on the host: never write, remove or link through a path that resolves
outside the release (or shared/).

The artifact is checked before any host is touched (deploy.artifact.verify), but
what a host's tree holds is the final word: an old release, a hand-made link, a
delta plan. So every POSIX verb that writes, removes or links a path first runs
`shipyard_inside PATH ROOT...`, which resolves the path's parent and the path
itself through every symlink on the host (`realpath -m`, GNU coreutils) and
exits REFUSED unless both lie under one of the roots (a root itself passes).
"""

from __future__ import annotations

import shlex

REFUSED = 97  # the exit status of a refused path; posix.py turns it into a ContainmentError

GUARD = r"""shipyard_inside() {
  __p=$1; shift
  __rp=$(realpath -m -- "$__p") && __rd=$(realpath -m -- "$(dirname -- "$__p")") || {
    echo "shipyard: cannot resolve $__p (GNU realpath is needed)" >&2; exit 97; }
  __okp=; __okd=
  for __r in "$@"; do
    __rr=$(realpath -m -- "$__r") || continue
    case "$__rp/" in "$__rr"/*) __okp=1;; esac
    case "$__rd/" in "$__rr"/*) __okd=1;; esac
    case "$__rp" in "$__rr") __okd=1;; esac
  done
  if [ -z "$__okp" ] || [ -z "$__okd" ]; then
    echo "shipyard: refusing to touch $__p: it resolves to $__rp, outside $*" >&2; exit 97
  fi
}
"""


def inside(path: str, *roots: str) -> str:
    """The sh line that stops the script unless `path` resolves under one of `roots`."""
    return f"shipyard_inside {shlex.quote(path)} {' '.join(shlex.quote(r) for r in roots)}\n"


def all_inside(paths: list[str], *roots: str) -> str:
    return "".join(inside(p, *roots) for p in paths)
