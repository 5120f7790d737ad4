#!/bin/sh
# The scorer's tool command: Shipyard's CLI, URL to URL, as a user runs it.
#   diff_wrapper.sh FROM_URL TO_URL ENABLE_DROP     (exit 0 no diff, 2 diff, 3 refused)
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
shipyard=${SHIPYARD_BIN:-$root/.venv/bin/shipyard}
if [ "$3" = "true" ]; then set -- "$1" "$2" --allow-destructive; else set -- "$1" "$2"; fi
exec "$shipyard" db.diff --config "$here/shipyard.toml" --from "$1" --to "$2" ${3:+"$3"}
