#!/bin/sh
# bench/noop-full.sh RECIPE: a no-op build without the stamp's shortcut
# (cache/stamp.h): the stamp is removed first, so loramake compiles the
# recipe, loads the action log and the lock, and checks every node. Used by
# bench/noop.sh to show what the full check costs.
rm -f "$(dirname "$1")/.loramake/stamp-$(basename "$1")"
exec "${LORAMAKE:-./loramake}" --engine preview "$1"
