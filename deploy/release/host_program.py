"""One `python3 -c` program from a module and the modules of its own package it imports.

A program sent as `-c` source cannot import its siblings: the host has no Shipyard. So the
source of every sibling it imports (and they import) is embedded ahead of its own and exec'd
into a module registered under that sibling's import name; the main part's own
`from deploy.release.x import ...` then finds it in sys.modules. Still one program: no second
round trip, no file written on the host, and the very files the controller unit-tests as
normal modules are the ones that run.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

LOADER = '''def _load(name, source):
    import sys
    module = type(sys)(name)
    sys.modules[name] = module
    exec(compile(source, "<" + name + ">", "exec"), module.__dict__)
'''


def module_source(name: str) -> str:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ImportError(f"{name}: no source to send")
    return Path(spec.origin).read_text(encoding="utf-8")


def sibling_imports(source: str, package: str) -> list[str]:
    """The modules under `package` that `source` from-imports, in the order it names them."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise ImportError(f"relative import of {node.module!r}: a -c program has no package")
        named = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if any(n.startswith(f"{package}.") for n in named):
            raise ImportError(f"import {', '.join(named)}: the host has no {package} package; from-import it")
        module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
        if module.startswith(f"{package}.") and module not in found:
            found.append(module)
    return found


def one_program(main: str) -> str:
    """`main`'s source, preceded by that of each module of its top-level package it needs
    (dependencies first), each loaded under its own name."""
    package = main.partition(".")[0]
    order: list[str] = []

    def visit(name: str) -> None:
        for dep in sibling_imports(module_source(name), package):
            if dep not in order:
                visit(dep)
                order.append(dep)

    visit(main)
    loads = "".join(f"_load({name!r}, {module_source(name)!r})\n" for name in order)
    return f"{LOADER}{loads}del _load\n{module_source(main)}"
