#!/usr/bin/env bash
# Wall time and peak memory of one database setup, skillrun against its nearest peer:
# `alembic init -t async` (which writes only the Alembic scaffolding, none of the app code).
#
#   benches/peers.sh [RUNS]      (default 20; uses target/release/skillrun and the e2e venv)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-20}
cd "$root"
cargo build --release --quiet
venv=$(scripts/venv.sh e2e-sa21 tests/requirements/e2e-sa21.txt)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # NAME CMD... (CMD gets a fresh directory as $DIR)
    local name=$1; shift
    local total=0 peak=0
    for i in $(seq "$runs"); do
        export DIR="$work/${name// /_}-$i"
        mkdir -p "$DIR"
        local start end rss
        start=$(date +%s%N)
        /usr/bin/time -o "$work/rss" -f '%M' bash -c "$*" >/dev/null 2>&1
        rss=$(tail -n1 "$work/rss")
        end=$(date +%s%N)
        total=$(( total + end - start ))
        if (( rss > peak )); then peak=$rss; fi
    done
    printf '%-28s %8.2f ms/run  %8.1f MiB peak RSS  (%s runs)\n' "$name" \
        "$(echo "$total / $runs / 1000000" | bc -l)" "$(echo "$peak / 1024" | bc -l)" "$runs"
}

measure skillrun "cd \$DIR && $root/target/release/skillrun run database-setup --input '{\"projectPath\": \".\", \"databaseUrl\": \"sqlite:///./app.db\"}'"
measure "alembic init -t async" "cd \$DIR && $venv/bin/alembic init -t async migrations"
