#!/usr/bin/env bash
# The benchmarks: skillrun against the tools people would otherwise use, and its scaling with the
# number of skills. Writes BENCHMARKS.md and BENCHMARKS.svg (the scaling plot) at the repository
# root and prints the table.
#
#   benches/run.sh            full run: release binary, 15 runs per figure, 300 MCP calls,
#                             10/100/1,000/10,000 skills, criterion for the in-process figures
#   benches/run.sh --quick    proves the script works (scripts/test runs it): debug binary, 3 runs,
#                             20 calls, 10/100 skills, no criterion; writes to a temporary file
#
# Environment: BENCH_RUNS, BENCH_CALLS, BENCH_SIZES (e.g. 10,100,1000) override the full run's.
# The peers (copier, the official MCP Python SDK, alembic, jinja2) are installed by this script,
# pinned in benches/peers/requirements.txt, into the gitignored venv .venv-bench (reused while
# the pins are unchanged). Needs: cargo, python3 (3.10+).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
log() { printf 'benches/run.sh: %s\n' "$*" >&2; }

quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
if [[ $# -gt 0 ]]; then
    echo "usage: $0 [--quick]" >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if (( quick )); then
    cargo build --quiet --bins -p skillrun -p skillrun-floor
    bin=$target/debug/skillrun floor=$target/debug/floor
    runs=3 calls=20 sizes=10,100
    out=$work/BENCHMARKS.md svg=$work/BENCHMARKS.svg
    template=$work/copier-database-setup
else
    cargo build --release --quiet --bins -p skillrun -p skillrun-floor
    bin=$target/release/skillrun floor=$target/release/floor
    runs=${BENCH_RUNS:-15} calls=${BENCH_CALLS:-300} sizes=${BENCH_SIZES:-10,100,1000,10000}
    out=$root/BENCHMARKS.md svg=$root/BENCHMARKS.svg
    template=$root/benches/peers/copier-database-setup
fi

log "peers venv"
venv=$(scripts/venv.sh bench benches/peers/requirements.txt)

log "copier template from skills/database-setup -> ${template#"$root"/}"
"$venv/bin/python" benches/peers/make_copier_template.py "$bin" "$template"

log "skill sets of $sizes skills"
for n in ${sizes//,/ }; do
    python3 benches/synth.py "$n" "$work/sets/$n"
done

criterion=()
if (( ! quick )); then
    log "criterion (in-process figures)"
    rm -rf "$target/criterion/scaling" "$target/criterion/generate"
    SKILLRUN_BENCH_SKILLS=$work/sets SKILLRUN_BENCH_SIZES=$sizes cargo bench --quiet --bench inprocess >&2
    criterion=(--criterion "$target/criterion")
fi

# Diagnostic only: a shim that makes every flush a no-op, to show what durability costs a cold run.
nosync=()
if command -v cc >/dev/null; then
    cat >"$work/nosync.c" <<'C'
int fsync(int fd) { (void)fd; return 0; }
int fdatasync(int fd) { (void)fd; return 0; }
int sync_file_range(int fd, long off, long n, unsigned flags) { (void)fd; (void)off; (void)n; (void)flags; return 0; }
int syncfs(int fd) { (void)fd; return 0; }
void sync(void) {}
C
    cc -shared -fPIC -O2 -o "$work/libnosync.so" "$work/nosync.c" && nosync=(--nosync "$work/libnosync.so")
fi

log "cold generation, warm MCP calls, start-up"
"$venv/bin/python" benches/harness.py --bin "$bin" --work "$work/runs" --sets "$work/sets" --template "$template" \
    --out "$out" --svg "$svg" --notes benches/notes.md --runs "$runs" --calls "$calls" --sizes "$sizes" \
    --floor "$floor" ${criterion[@]+"${criterion[@]}"} ${nosync[@]+"${nosync[@]}"} $( (( quick )) && echo --quick )
