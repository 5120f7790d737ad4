"""--skip-destructive on the catalog: the desired side is widened with whatever the change
would destroy (tables, sequences, columns that go; the old type where the new one is
narrower), so the plan keeps every byte of data and applies the rest — as sqldef does
without --enable-drop."""

from __future__ import annotations

import copy

from deploy.db.widening import widening
from deploy.db.postgres.model import Catalog


def keep_data(current: Catalog, desired: Catalog) -> tuple[Catalog, list[str]]:
    out = copy.deepcopy(desired)
    withheld: list[str] = []
    for key, obj in current.objects.items():
        if obj.kind in ("table", "sequence") and key not in out.objects:
            withheld.append(f"drop {obj.kind} {obj.name}")
            kept = [key, *(k for k, o in current.objects.items() if o.parent == key and k not in out.objects)]
            for k in kept:
                out.objects[k] = copy.deepcopy(current.objects[k])
                out.deps[k] = set(current.deps.get(k, ()))
        elif obj.kind == "table" and key in out.objects:
            withheld += _keep_columns(obj.data, out.objects[key].data, obj.name)
    return out, withheld


def _keep_columns(cur: dict, des: dict, label: str) -> list[str]:
    withheld = []
    for name, col in cur["columns"].items():
        new = des["columns"].get(name)
        if new is None:
            des["columns"][name] = dict(col)
            withheld.append(f"drop column {label}.{name}")
        elif col["type"] != new["type"] and not widening(col["type"], new["type"]):
            new["type"], new["collation"] = col["type"], col["collation"]
            withheld.append(f"narrow {label}.{name} to {new['type']}")
    return withheld
