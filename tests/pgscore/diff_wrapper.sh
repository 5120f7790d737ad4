#!/bin/sh
# The scorer's tool command: Shipyard's CLI, URL to URL, as a user runs it.
#   diff_wrapper.sh FROM_URL TO_URL ENABLE_DROP     (exit 0 no diff, 2 diff, 3 refused)
# ENABLE_DROP=false leaves out what would lose data and does the rest (--skip-destructive).
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
shipyard=${SHIPYARD_BIN:-$root/.venv/bin/shipyard}
if [ "$3" = "true" ]; then mode=--allow-destructive; else mode=--skip-destructive; fi
exec "$shipyard" db.diff --config "$here/shipyard.toml" --from "$1" --to "$2" "$mode"
