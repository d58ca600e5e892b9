#!/bin/sh
# random-table.sh — the "Random-policy returns" table of deploy/results/README.md, regenerated:
# `rldt eval --policy=random --episodes=20 --seed=1 --json` on each task, beside D4RL's
# reference return of a random policy (the constant the normalised score uses).
# usage: deploy/scripts/random-table.sh [--write]   (RLDT=build/rldt; --write replaces the table
# in deploy/results/README.md, otherwise it is printed)
set -eu
RLDT=${RLDT:-build/rldt}
here=$(cd "$(dirname "$0")" && pwd)
results=$here/../results/README.md
table=$(mktemp)
trap 'rm -f "$table" "$table.new"' EXIT
{
    echo '| task | return mean (std) | length | D4RL "random" reference |'
    echo '|---|---|---|---|'
    # D4RL's random-policy reference returns (common/task.c)
    for row in hopper:-20.3 walker2d:1.6 halfcheetah:-280.2; do
        task=${row%%:*}
        ref=${row#*:}
        "$RLDT" eval --env="$task" --policy=random --episodes=20 --seed=1 --json |
            python3 -c 'import json, sys
d = json.load(sys.stdin)
neg = lambda s: s.replace("-", "\u2212")
ln = d["length_mean"]
lens = "%d (truncated)" % ln if d["terminated"] == 0 else "%.1f" % ln
print("| %s | %s (%.1f) | %s | %s |" % (sys.argv[1], neg("%.1f" % d["return_mean"]),
      d["return_std"], lens, neg(sys.argv[2])))' "$task" "$ref"
    done
} >"$table"
if [ "${1:-}" != "--write" ]; then
    cat "$table"
    exit 0
fi
# replace the table that follows the "## Random-policy returns" heading
awk -v tf="$table" '
    /^## Random-policy returns/ { inside = 1 }
    inside && /^\| task \|/ { while ((getline l < tf) > 0) print l; skip = 1; next }
    skip && /^\|/ { next }
    skip { skip = 0; inside = 0 }
    { print }' "$results" >"$table.new"
mv "$table.new" "$results"
echo "random-table.sh: wrote the table into $results"
