"""Measures skillrun against its peers and writes the report; run by benches/run.sh, which
builds the binary, the peers' venv and the criterion figures first (see its header).

    python benches/harness.py --bin BIN --work DIR --out FILE [--svg FILE] [--runs N]
        [--calls N] [--sizes 10,100] [--criterion DIR] [--notes FILE]

Every whole-process figure comes from this one harness: a child is started under GNU time
(/usr/bin/time, for its peak RSS) and reaped with os.wait4, its wall time taken around it. Each
measured series has a warm-up first, then --runs runs; the tools being compared take turns run
by run, so a noisy neighbour slows them alike. Standard library only (run with the peers' venv
Python so their versions can be read).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
KO_REQUEST = "DB 설정 좀 해줘"
EVAL_SET = ROOT / "tests/triggers/eval.jsonl"


# --------------------------------------------------------------------------------------------
# measuring


def run_once(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
    # Peak RSS comes from GNU time's %M, not from this process's wait4: a child forked from this
    # Python starts with Python's pages, which the kernel counts in the child's ru_maxrss. time
    # forks from its own small image, so %M is the tool's alone. CPU (user + sys) is wait4's for
    # time and what it waited for (time itself adds well under a millisecond).
    rss_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"skillrun-bench-rss-{os.getpid()}"
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["/usr/bin/time", "-q", "-f", "%M", "-o", str(rss_file), *argv],
        cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    stderr = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"harness: {' '.join(argv)} exited {proc.returncode}: {stderr.decode(errors='replace')}")
    rss = int(rss_file.read_text().split()[-1])
    return {"wall_ms": wall * 1e3, "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1e3, "rss_kib": rss}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def take_turns(series: dict[str, Callable[[int], dict[str, float]]], runs: int) -> dict[str, dict[str, dict]]:
    """Runs each series once as a warm-up, then `runs` times, in turns; summaries per metric."""
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in series}
    for i in range(runs + 1):
        for name, fn in series.items():
            sample = fn(i)
            if i > 0:
                samples[name].append(sample)
    return {
        name: {metric: summary([s[metric] for s in rows]) for metric in rows[0]} for name, rows in samples.items()
    }


def fresh_dir(work: Path, name: str, i: int) -> Path:
    d = work / f"{name}-{i}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    return d


# --------------------------------------------------------------------------------------------
# cold generation


def skillrun_argv(binary: Path) -> list[str]:
    url = {"projectPath": ".", "databaseUrl": "sqlite:///./app.db"}
    return [str(binary), "run", "database-setup", "--input", json.dumps(url)]


def copier_argv(template: Path, dest: Path) -> list[str]:
    return [
        str(VENV_BIN / "copier"), "copy", "--defaults", "--quiet", "--data", "dbType=sqlite",
        "--data", "databaseUrl=sqlite+aiosqlite:///./app.db", str(template), str(dest),
    ]  # fmt: skip


# Each tool's record of what it generated (answers, hashes): written by both, compared by neither.
PROVENANCE = {".skillrun/answers.json", ".copier-answers.yml"}


def tree(root: Path) -> dict[str, bytes]:
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return {k: v for k, v in files.items() if k not in PROVENANCE}


def check_same_output(binary: Path, template: Path, work: Path) -> int:
    """skillrun and copier must write the same files with the same contents."""
    a, b = fresh_dir(work, "check-skillrun", 0), work / "check-copier"
    shutil.rmtree(b, ignore_errors=True)
    run_once(skillrun_argv(binary), cwd=a)
    run_once(copier_argv(template, b))
    ta, tb = tree(a), tree(b)
    if ta != tb:
        only = sorted(set(ta) ^ set(tb))
        differ = sorted(k for k in set(ta) & set(tb) if ta[k] != tb[k])
        raise SystemExit(f"harness: copier template and skillrun differ: only in one {only}, contents {differ}")
    return len(ta)


DRY = "skillrun run --dry-run (no writes)"
NOSYNC = "skillrun run, fsync made a no-op (LD_PRELOAD)"
FLOOR = "floor: the same files, same durability, minimal program"
SKILLRUN = "skillrun run database-setup"


def bundle(root: Path, out: Path) -> int:
    """Packs every file a run wrote under `root` for the floor program (benches/floor):
    path, NUL, length (8 bytes, little-endian), bytes. Returns the number of files."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.name != "lock"]
    with out.open("wb") as f:
        for p in files:
            data = p.read_bytes()
            f.write(str(p.relative_to(root)).encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return len(files)


def floor_argv(floor: Path, bundle_file: Path, dest: Path) -> list[str]:
    return [str(floor), str(bundle_file), str(dest)]


class Writer:
    """Another process writing a large file while runs are timed: a dirty page cache that a
    whole-file-system flush (`syncfs`, `sync`) would have to write out, and a disk kept busy.
    Writes 1 MiB blocks without syncing, starting over after WRITER_MIB."""

    def __init__(self, path: Path):
        code = (
            "import os, sys\n"
            "block = os.urandom(1 << 20)\n"
            "with open(sys.argv[1], 'wb', buffering=0) as f:\n"
            "    while True:\n"
            "        for _ in range(int(sys.argv[2])):\n"
            "            f.write(block)\n"
            "        f.seek(0)\n"
        )
        self.path = path
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(WRITER_MIB)])
        time.sleep(1.0)  # let it fill the page cache with dirty pages first

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.path.unlink(missing_ok=True)


WRITER_MIB = 1024


def cold(binary: Path, template: Path, work: Path, runs: int, nosync: Path | None, floor: Path | None) -> dict[str, Any]:
    files = check_same_output(binary, template, work)
    diagnostics = {
        DRY: lambda i: run_once(skillrun_argv(binary)[:2] + ["database-setup", "--dry-run"] + skillrun_argv(binary)[3:], cwd=fresh_dir(work, "dry", i)),
    }
    if nosync:
        diagnostics[NOSYNC] = lambda i: run_once(skillrun_argv(binary), cwd=fresh_dir(work, "nosync", i), env={"LD_PRELOAD": str(nosync)})
    floor_files = 0
    bundle_file = work / "floor.bundle"
    if floor:
        floor_files = bundle(work / "check-skillrun-0", bundle_file)
        diagnostics[FLOOR] = lambda i: run_once(floor_argv(floor, bundle_file, fresh_dir(work, "floor", i) / "p"))
    series = {
        SKILLRUN: lambda i: run_once(skillrun_argv(binary), cwd=fresh_dir(work, "skillrun", i)),
        "alembic init -t async": lambda i: run_once(
            [str(VENV_BIN / "alembic"), "init", "-t", "async", "migrations"], cwd=fresh_dir(work, "alembic", i)
        ),
        "copier copy": lambda i: run_once(copier_argv(template, fresh_dir(work, "copier", i) / "out")),
        **diagnostics,
    }
    results = take_turns(series, runs)
    busy: dict[str, Any] = {}
    if floor:
        # Beside a concurrent writer: skillrun and the floor take turns while another process
        # writes a large file to the same file system.
        writer = Writer(work / "writer.bin")
        try:
            busy = take_turns({
                SKILLRUN: lambda i: run_once(skillrun_argv(binary), cwd=fresh_dir(work, "busy-skillrun", i)),
                FLOOR: lambda i: run_once(floor_argv(floor, bundle_file, fresh_dir(work, "busy-floor", i) / "p")),
            }, runs)  # fmt: skip
        finally:
            writer.close()
    return {"files": files, "floor_files": floor_files, "results": {k: v for k, v in results.items() if k not in diagnostics},
            "diagnostics": {k: v for k, v in results.items() if k in diagnostics}, "busy": busy}


# --------------------------------------------------------------------------------------------
# warm MCP tool calls


class Server:
    """A stdio MCP server driven with raw JSON-RPC lines, one request at a time."""

    def __init__(self, name: str, argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None):
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd,
            env={**os.environ, "RUST_LOG": "warn", **(env or {})},
        )  # fmt: skip
        self.next_id = 0
        self.latencies: list[float] = []
        self.request("initialize", {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "skillrun-bench", "version": "1"},
        })  # fmt: skip
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        assert self.proc.stdout
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"harness: {self.name} closed its output")
            message = json.loads(line)
            if message.get("id") == self.next_id:
                self.last_line = line
                if "error" in message:
                    raise SystemExit(f"harness: {self.name}: {message['error']}")
                return message["result"]

    def call(self, arguments: dict) -> dict:
        start = time.perf_counter()
        result = self.request("tools/call", {"name": "database-setup", "arguments": arguments})
        self.latencies.append((time.perf_counter() - start) * 1e3)
        if result.get("isError"):
            raise SystemExit(f"harness: {self.name}: tool error {result}")
        return result

    def rss_kib(self) -> tuple[int, int]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        field = lambda key: int(next(l.split()[1] for l in status.splitlines() if l.startswith(key + ":")))
        return field("VmRSS"), field("VmHWM")

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def files_of(result: dict) -> list[tuple[str, str]]:
    report = result.get("structuredContent") or json.loads(result["content"][0]["text"])
    return sorted((f["path"], f["action"]) for f in report["files"] if f["path"] not in PROVENANCE)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


WARM_FLOOR = "floor: the same answer line over the same pipes"


def warm(binary: Path, work: Path, calls: int, floor: Path | None, template: Path) -> dict[str, Any]:
    project = fresh_dir(work, "mcp-project", 0)
    arguments = {"projectPath": str(project), "databaseUrl": "sqlite:///./app.db", "dryRun": True}
    servers = [
        # Started in the workspace, as an assistant starts it: the only place it may write.
        Server("skillrun serve", [str(binary), "serve"], cwd=project.parent),
        Server(
            "Python MCP SDK + Jinja2",
            [sys.executable, str(ROOT / "benches/peers/mcp_server.py")],
            env={"SKILLRUN_PEER_TEMPLATE": str(template)},
        ),
    ]
    first = [files_of(s.call(arguments)) for s in servers]
    if floor:
        # skillrun's own answer to this call, replayed by a program that only reads and writes lines.
        answer = work / "answer.json"
        answer.write_bytes(servers[0].last_line)
        servers.append(Server(WARM_FLOOR, [str(floor), "serve", str(answer)]))
        first.append(files_of(servers[-1].call(arguments)))
        assert first[-1] == first[0]
        first.pop()
    if first[0] != first[1]:
        raise SystemExit(f"harness: the two servers plan different files:\n{first[0]}\n{first[1]}")
    for _ in range(max(5, calls // 10)):  # warm-up
        for s in servers:
            s.call(arguments)
    out = {}
    for s in servers:
        s.latencies.clear()
    start = {s.name: 0.0 for s in servers}
    busy = {s.name: 0.0 for s in servers}
    for _ in range(calls):
        for s in servers:
            start[s.name] = time.perf_counter()
            s.call(arguments)
            busy[s.name] += time.perf_counter() - start[s.name]
    for s in servers:
        rss, hwm = s.rss_kib()
        lat = s.latencies
        out[s.name] = {
            "p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99), "min": min(lat), "max": max(lat),
            "calls_per_s": len(lat) / busy[s.name], "rss_kib": rss, "hwm_kib": hwm, "n": len(lat),
        }  # fmt: skip
        s.close()
    return {"files": len(first[0]), "results": out}


# --------------------------------------------------------------------------------------------
# matching requests


def eval_cases() -> list[dict]:
    lines = EVAL_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(l) for l in lines if l.strip() and not l.startswith("#")]


def matching(binary: Path) -> dict[str, Any]:
    """Recall and false positives on the evaluation set, per language: each request through
    `skillrun match --json` against the embedded skill set (a match is the expected skill ranked
    first and not tied with another)."""
    langs: dict[str, dict[str, int]] = {}
    walls = []
    for case in eval_cases():
        start = time.perf_counter()
        proc = subprocess.run([str(binary), "match", case["text"], "--json"], capture_output=True, text=True)
        walls.append((time.perf_counter() - start) * 1e3)
        reply = json.loads(proc.stdout)
        top = reply["matches"][0]["skill"] if reply["matches"] and not reply["ambiguous"] else None
        s = langs.setdefault(case["lang"], {"positives": 0, "found": 0, "negatives": 0, "false_positives": 0})
        if case["expect"]:
            s["positives"] += 1
            s["found"] += top == case["expect"]
        else:
            s["negatives"] += 1
            s["false_positives"] += bool(reply["matches"])
    return {"langs": langs, "n": len(walls), "process_wall": summary(walls)}


# --------------------------------------------------------------------------------------------
# scaling


def startup(binary: Path, sets: Path, sizes: list[int], runs: int) -> dict[int, dict[str, Any]]:
    out = {}
    for n in sizes:
        d = sets / str(n)
        series = {
            "list": lambda i, d=d: run_once([str(binary), "--skills-dir", str(d), "list"]),
            "match": lambda i, d=d: run_once([str(binary), "--skills-dir", str(d), "match", KO_REQUEST]),
        }
        out[n] = take_turns(series, runs)
    return out


def criterion_figures(root: Path | None, sizes: list[int]) -> dict[str, dict[int, dict[str, float]]]:
    """Per-iteration times (ms) from criterion's sample.json files: median, min, max of the samples."""
    out: dict[str, dict[int, dict[str, float]]] = {}
    if root is None:
        return out
    for name in ["registry_load", "trigger_index", "match_ko", "match_en", "match_eval"]:
        for n in sizes:
            path = root / "scaling" / name / str(n) / "new" / "sample.json"
            if path.exists():
                data = json.loads(path.read_text())
                per_iter = [t / i / 1e6 for t, i in zip(data["times"], data["iters"])]
                out.setdefault(name, {})[n] = summary(per_iter)
    for name in ["dry_run", "apply_fresh"]:
        path = root / "generate" / name / "new" / "sample.json"
        if path.exists():
            data = json.loads(path.read_text())
            out.setdefault("generate", {})[name] = summary([t / i / 1e6 for t, i in zip(data["times"], data["iters"])])
    return out


def growth(xs: list[int], ys: list[float]) -> str:
    """The exponent k of y ~ x^k between the two largest sizes, in words."""
    if len(xs) < 2 or ys[-2] <= 0:
        return "n/a"
    k = math.log(ys[-1] / ys[-2]) / math.log(xs[-1] / xs[-2])
    word = "flat" if k < 0.2 else "sub-linear" if k < 0.8 else "linear" if k < 1.2 else "super-linear"
    return f"x{ys[-1] / ys[-2]:.1f} for x{xs[-1] // xs[-2]} skills (~N^{k:.2f}, {word})"


# --------------------------------------------------------------------------------------------
# report


def machine() -> list[str]:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), platform.processor())
    load = os.getloadavg()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores visible; load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)",
        f"- Kernel: {platform.system()} {platform.release()}; file system of the work directory: {fs_type()}",
    ]


def fs_type() -> str:
    try:
        return subprocess.run(["stat", "-f", "-c", "%T", str(ROOT)], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def versions(binary: Path) -> list[str]:
    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return "?"

    peers = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in ["copier", "mcp", "alembic", "jinja2"])
    return [
        f"- {out([str(binary), '--version'])} (git {out(['git', 'rev-parse', '--short', 'HEAD']) or '?'}), {out(['rustc', '--version'])}",
        f"- Python {platform.python_version()}; {peers} (pinned in benches/peers/requirements.txt)",
    ]


def ms(v: float) -> str:
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.0f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def cell(s: dict[str, float], fmt: Callable[[float], str] = ms) -> str:
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def report(args, cold_r, warm_r, start_r, crit, sizes, match_r) -> tuple[str, list[tuple[str, str, str, bool]]]:
    lines = ["# Benchmarks", ""]
    lines += [
        f"Written by `benches/run.sh{' --quick' if args.quick else ''}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Medians of the runs after a warm-up, with (min–max) beside each; the tools compared take turns run by run, "
        "so every ratio below comes from the same run of the script. The machine is shared: absolute figures move "
        "with its load, the ratios much less.",
        "",
        "## Machine and versions",
        "",
        *machine(),
        *versions(args.bin),
        "",
    ]

    r = cold_r["results"]
    sk = r["skillrun run database-setup"]
    lines += [
        "## Cold generation (whole process, fresh directory)",
        "",
        f"SQLite project. skillrun and copier write the same {cold_r['files']} files with the same bytes (checked by the "
        "harness before timing); `alembic init -t async` writes only Alembic's 4-file scaffolding. "
        f"{sk['wall_ms']['n']} runs each after one warm-up.",
        "",
        "| Tool | Wall ms | CPU ms (user+sys) | Peak RSS MiB | Peer wall ÷ skillrun | Peer CPU ÷ skillrun | skillrun RSS ÷ peer |",
        "|---|---|---|---|---|---|---|",
    ]
    targets: list[tuple[str, str, str, bool]] = []
    for name, res in r.items():
        if res is sk:
            ratio = ("—", "—", "—")
        else:
            ratio = (
                f"**{res['wall_ms']['median'] / sk['wall_ms']['median']:.1f}x**",
                f"{res['cpu_ms']['median'] / sk['cpu_ms']['median']:.1f}x",
                f"**{sk['rss_kib']['median'] / res['rss_kib']['median']:.2f}**",
            )
        lines.append(
            f"| `{name}` | {cell(res['wall_ms'])} | {cell(res['cpu_ms'])} | {cell(res['rss_kib'], mib)} | {' | '.join(ratio)} |"
        )
    lines.append("")
    diag = cold_r["diagnostics"]
    if diag:
        lines += [
            "Where skillrun's wall time goes (diagnostic rows, measured in the same turns, not peers): the same run "
            "without writing anything; the same run with `fsync`, `fdatasync` and `sync_file_range` turned into no-ops "
            "by a preloaded shim (benches/run.sh builds it with `cc`; skillrun makes exactly the files and directories "
            "it wrote durable: `sync_file_range` + `fdatasync` per staged file, `fsync` per directory); and the floor: "
            f"benches/floor (a package of the workspace), a minimal Rust program that writes the same {cold_r['floor_files']} files (the "
            "answers file included) with the same bytes and the same durability (temporary name, `sync_file_range` + "
            "`fdatasync` per file, rename, `fsync` per directory), and nothing else: no templates, no validation, "
            "no plan, no journal, no lock.",
            "",
            "| Variant | Wall ms | CPU ms | Peak RSS MiB | skillrun ÷ variant (wall) |",
            "|---|---|---|---|---|",
            f"| `skillrun run database-setup` | {cell(sk['wall_ms'])} | {cell(sk['cpu_ms'])} | {cell(sk['rss_kib'], mib)} | — |",
        ]
        for name, res in diag.items():
            lines.append(
                f"| {name} | {cell(res['wall_ms'])} | {cell(res['cpu_ms'])} | {cell(res['rss_kib'], mib)} | "
                f"{sk['wall_ms']['median'] / res['wall_ms']['median']:.2f}x |"
            )
        lines.append("")
    if FLOOR in diag:
        ratio = sk["wall_ms"]["median"] / diag[FLOOR]["wall_ms"]["median"]
        targets.append(("cold generation within 2x of the floor (wall, skillrun ÷ floor)", "≤ 2x", f"{ratio:.2f}x", ratio <= 2))
    busy = cold_r.get("busy") or {}
    if busy:
        b_sk, b_fl = busy[SKILLRUN], busy[FLOOR]
        lines += [
            f"Beside a concurrent writer: the same cold run and the floor, taking turns while another process writes a "
            f"{WRITER_MIB} MiB file over and over to the same file system (1 MiB blocks, never synced; started a second "
            "before the first run). A whole-file-system flush would wait for the writer's dirty pages; skillrun flushes "
            "only what it wrote.",
            "",
            "| Variant | Wall ms beside the writer | CPU ms | Wall ÷ the same without the writer |",
            "|---|---|---|---|",
        ]
        for name, res, quiet in [(SKILLRUN, b_sk, sk), (FLOOR, b_fl, diag.get(FLOOR))]:
            slower = f"{res['wall_ms']['median'] / quiet['wall_ms']['median']:.2f}x" if quiet else "—"
            lines.append(f"| {name} | {cell(res['wall_ms'])} | {cell(res['cpu_ms'])} | {slower} |")
        lines.append("")
        ratio = b_sk["wall_ms"]["median"] / b_fl["wall_ms"]["median"]
        targets.append(("cold generation beside a concurrent writer within 2x of the floor beside it (wall)", "≤ 2x", f"{ratio:.2f}x", ratio <= 2))
    for name in ["alembic init -t async", "copier copy"]:
        ratio = r[name]["wall_ms"]["median"] / sk["wall_ms"]["median"]
        targets.append((f"cold generation ≥100x faster than `{name}` (wall)", "≥ 100x", f"{ratio:.1f}x", ratio >= 100))
        frac = sk["rss_kib"]["median"] / r[name]["rss_kib"]["median"]
        targets.append((f"peak RSS ≤ 1/4 of `{name}`", "≤ 0.25", f"{frac:.2f}", frac <= 0.25))

    w = warm_r["results"]
    names = [n for n in w if n != WARM_FLOOR]
    lines += [
        "## Warm MCP tool calls (stdio, after `initialize`)",
        "",
        f"The same dry-run `tools/call` of `database-setup` (a SQLite URL, an empty project: {warm_r['files']} files planned, "
        "checked equal between the two servers) sent one at a time, request then response, by one driver speaking "
        "raw JSON-RPC lines over the pipes; the two servers take turns call by call. "
        f"{w[names[0]]['n']} calls each after a warm-up. The Python server is benches/peers/mcp_server.py "
        "(official SDK `MCPServer`, Jinja2 rendering the copier template's files: the skill's output for an empty "
        "project with the URL as a variable, less template work than skillrun's; compared with the disk).",
        "",
        "| Server | p50 ms | p99 ms | min–max ms | Calls/s | RSS after MiB (peak) | p50 ratio (peer ÷ skillrun) | RSS ratio (skillrun ÷ peer) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    a = w[names[0]]
    for name in names:
        s = w[name]
        ratio = ("—", "—") if s is a else (f"**{s['p50'] / a['p50']:.1f}x**", f"**{a['rss_kib'] / s['rss_kib']:.2f}**")
        lines.append(
            f"| `{name}` | {ms(s['p50'])} | {ms(s['p99'])} | {ms(s['min'])}–{ms(s['max'])} | {s['calls_per_s']:.0f} | "
            f"{mib(s['rss_kib'])} ({mib(s['hwm_kib'])}) | {ratio[0]} | {ratio[1]} |"
        )
    lines.append("")
    if WARM_FLOOR in w:
        f = w[WARM_FLOOR]
        lines += [
            "The floor of a warm call, in the same turns: benches/floor `serve` answers each request line with skillrun's "
            "own answer to this call (recorded from the first call), under the request's id, and does nothing else; the "
            "driver's JSON encoding and decoding and the pipe round trip are in it, as in every row above.",
            "",
            "| | p50 ms | p99 ms | min–max ms | skillrun p50 ÷ floor p50 |",
            "|---|---|---|---|---|",
            f"| {WARM_FLOOR} | {ms(f['p50'])} | {ms(f['p99'])} | {ms(f['min'])}–{ms(f['max'])} | {a['p50'] / f['p50']:.2f}x |",
            "",
        ]
    p = w[names[1]]
    targets.append(("warm MCP call ≥20x faster than the Python server (p50)", "≥ 20x", f"{p['p50'] / a['p50']:.1f}x", p["p50"] / a["p50"] >= 20))
    targets.append(("MCP server RSS ≤ 1/4 of the Python server's", "≤ 0.25", f"{a['rss_kib'] / p['rss_kib']:.2f}", a["rss_kib"] / p["rss_kib"] <= 0.25))

    n_eval = match_r["n"]
    lines += [
        "## Matching requests (evaluation set)",
        "",
        f"`tests/triggers/eval.jsonl`: {n_eval} requests written as people write them (Korean, English, mixed; terse, polite, "
        "typos; and requests that must match nothing: other tasks, destructive or read-only database requests, unrelated "
        "set-ups, topic questions), each through `skillrun match --json` against the embedded skill set.",
        "",
        "| Language | Requests for a skill | Recall | Must match nothing | False positives |",
        "|---|---|---|---|---|",
    ]
    for lang, s in sorted(match_r["langs"].items()):
        recall = s["found"] / s["positives"] if s["positives"] else 1.0
        lines.append(f"| {lang} | {s['positives']} | {recall * 100:.1f}% ({s['found']}) | {s['negatives']} | {s['false_positives']} |")
        targets.append((f"recall on the evaluation set ({lang})", "≥ 95%", f"{recall * 100:.1f}%", recall >= 0.95))
        targets.append((f"false positives on the evaluation set ({lang})", "0", str(s["false_positives"]), s["false_positives"] == 0))
    us_per_request = lambda s: {k: s[k] / n_eval * 1e3 for k in ("median", "min", "max")}  # noqa: E731
    per_request = [
        f"{n:,} skills {cell(us_per_request(crit['match_eval'][n]), lambda v: f'{v:.1f}')} µs"
        for n in sizes if n in crit.get("match_eval", {})
    ]
    lines += [
        "",
        "Time per request, in process (criterion `match_eval/N`: the whole set ranked against N skills, divided by its size): "
        + ("; ".join(per_request) if per_request else "not measured in this run (`--quick`)")
        + f". A whole `skillrun match` process per request (start-up included): {cell(match_r['process_wall'])} ms.",
        "",
    ]

    lines += [
        "## Scaling with the number of skills",
        "",
        "Skill sets written by `benches/synth.py`: the real database-setup skill plus N−1 synthetic skills (schema, "
        "skill.json, two templates, SKILL.md, six Korean/English triggers sharing words such as \"set up\" and \"설정\", "
        "objects of their own and a context word they all share). "
        f"Whole process: `skillrun --skills-dir DIR list` and `... match \"{KO_REQUEST}\"` (the match builds the trigger index "
        "of all N skills on the way). In process: criterion (`cargo bench --bench inprocess`), per-iteration times of its samples.",
        "",
        "| Skills | `list` wall ms | `match` wall ms | `match` peak RSS MiB | registry load ms | trigger index build ms | match one request (ko) ms | match one request (en) ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    dash = "—"
    for n in sizes:
        st = start_r[n]
        c = lambda key: cell(crit[key][n]) if key in crit and n in crit[key] else dash
        lines.append(
            f"| {n:,} | {cell(st['list']['wall_ms'])} | {cell(st['match']['wall_ms'])} | {cell(st['match']['rss_kib'], mib)} | "
            f"{c('registry_load')} | {c('trigger_index')} | {c('match_ko')} | {c('match_en')} |"
        )
    lines += ["", "How the cost grows, between the two largest sizes:", ""]
    xs = sizes
    lines.append(f"- `list` process: {growth(xs, [start_r[n]['list']['wall_ms']['median'] for n in xs])}")
    lines.append(f"- `match` process: {growth(xs, [start_r[n]['match']['wall_ms']['median'] for n in xs])}")
    for key, label in [("registry_load", "registry load"), ("trigger_index", "trigger index build"), ("match_ko", "matching one request (ko)"), ("match_en", "matching one request (en)")]:
        if key in crit and all(n in crit[key] for n in xs):
            lines.append(f"- {label}: {growth(xs, [crit[key][n]['median'] for n in xs])}")
    lines.append("")
    if 1000 in start_r:
        for cmd in ["list", "match"]:
            v = start_r[1000][cmd]["wall_ms"]["median"]
            targets.append((f"start-up with 1,000 skills < 50 ms (`{cmd}`, wall)", "< 50 ms", f"{ms(v)} ms", v < 50))
    if "match_ko" in crit and 10000 in crit["match_ko"]:
        for key in ["match_ko", "match_en"]:
            v = crit[key][10000]["median"]
            targets.append((f"matching one request against 10,000 skills < 1 ms ({key[-2:]})", "< 1 ms", f"{ms(v)} ms", v < 1))
    if "generate" in crit:
        g = crit["generate"]
        lines += [
            "In process (criterion), the embedded database-setup skill: dry run (validate, render, compare) "
            f"{cell(g['dry_run'])} ms; a full run into a fresh directory {cell(g['apply_fresh'])} ms.",
            "",
        ]
    lines += [f"![scaling](./{args.svg.name})" if args.svg else "", ""]

    t = ["## Targets", "", "| Target | Goal | Measured (this run) | Met |", "|---|---|---|---|"]
    t += [f"| {name} | {goal} | {got} | {'yes' if ok else '**no**'} |" for name, goal, got, ok in targets]
    lines[lines.index("## Machine and versions"):lines.index("## Machine and versions")] = t + [""]
    if args.notes and args.notes.exists():
        lines += [args.notes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines), targets


def svg_plot(path: Path, sizes: list[int], start_r, crit) -> None:
    """Log-log plot of the scaling figures, in plain SVG."""
    series = [
        ("`list` process (wall)", "#1f77b4", [start_r[n]["list"]["wall_ms"]["median"] for n in sizes]),
        ("`match` process (wall)", "#ff7f0e", [start_r[n]["match"]["wall_ms"]["median"] for n in sizes]),
    ]
    colors = {"registry_load": "#2ca02c", "trigger_index": "#9467bd", "match_ko": "#d62728", "match_en": "#8c564b"}
    labels = {"registry_load": "registry load (in process)", "trigger_index": "trigger index build (in process)", "match_ko": "match one request, ko (in process)", "match_en": "match one request, en (in process)"}
    for key in colors:
        if key in crit and all(n in crit[key] for n in sizes):
            series.append((labels[key], colors[key], [crit[key][n]["median"] for n in sizes]))
    W, H, L, R, T, B = 820, 520, 80, 300, 40, 60
    ys = [v for _, _, vals in series for v in vals if v > 0]
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    x0, x1 = math.log10(sizes[0]), math.log10(sizes[-1])
    px = lambda n: L + (math.log10(n) - x0) / max(x1 - x0, 1e-9) * (W - L - R)
    py = lambda v: T + (y1 - math.log10(v)) / max(y1 - y0, 1e-9) * (H - T - B)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="22" font-size="15">skillrun: cost against the number of skills (log-log, median)</text>']
    for e in range(y0, y1 + 1):
        y = py(10**e)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"{10**e:g} ms" if e >= 0 else f"{10**e * 1000:g} µs"
        out.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for n in sizes:
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 15}" text-anchor="middle">skills in the set</text>')
    for i, (label, color, vals) in enumerate(series):
        pts = " ".join(f"{px(n):.1f},{py(max(v, 10**y0)):.1f}" for n, v in zip(sizes, vals))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for n, v in zip(sizes, vals):
            out.append(f'<circle cx="{px(n):.1f}" cy="{py(max(v, 10**y0)):.1f}" r="3" fill="{color}"/>')
        ly = T + 10 + i * 20
        out.append(f'<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 35}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{W - R + 40}" y="{ly + 4}">{label.replace("`", "")}</text>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--sets", type=Path, required=True, help="skill sets by size (DIR/10, DIR/100, ...)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--svg", type=Path)
    ap.add_argument("--notes", type=Path)
    ap.add_argument("--template", type=Path, required=True, help="the copier template (make_copier_template.py)")
    ap.add_argument("--criterion", type=Path)
    ap.add_argument("--nosync", type=Path, help="a shared object whose fsync is a no-op (diagnostic row)")
    ap.add_argument("--floor", type=Path, help="the floor program (benches/floor, skillrun-floor)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    global WRITER_MIB
    WRITER_MIB = 64 if args.quick else WRITER_MIB
    sizes = [int(s) for s in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    template = args.template
    log = lambda m: print(f"harness: {m}", file=sys.stderr, flush=True)
    log("cold generation")
    cold_r = cold(args.bin, template, args.work / "cold", args.runs, args.nosync, args.floor)
    log("warm MCP calls")
    warm_r = warm(args.bin, args.work / "warm", args.calls, args.floor, args.template)
    log("start-up with generated skill sets")
    start_r = startup(args.bin, args.sets, sizes, args.runs)
    log("matching the evaluation set")
    match_r = matching(args.bin)
    crit = criterion_figures(args.criterion, sizes)
    text, targets = report(args, cold_r, warm_r, start_r, crit, sizes, match_r)
    args.out.write_text(text, encoding="utf-8")
    if args.svg:
        svg_plot(args.svg, sizes, start_r, crit)
    print(text)
    missed = [name for name, _, _, ok in targets if not ok]
    log(f"wrote {args.out}; targets met {len(targets) - len(missed)}/{len(targets)}")


if __name__ == "__main__":
    main()
