"""Follows a database-setup report on a fixture project, as its user would.

    python follow_report.py PROJECT_DIR --venv VENV_DIR --report REPORT.json [--no-own-tests]

Runs every command of the report's `commands`, top to bottom, with `bash -c` in PROJECT_DIR
(the venv's bin first on PATH, so `python`, `alembic` and `uv` are the pinned ones; a `uv run`
or `poetry run` command uses the project's own environment), each of which must succeed. Then,
as the app would run after the undo command at the end: `upgrade head` again (through the
report's own prefix), the project's own app (`--package`'s `main:app`, imported from `--app-dir`) served by uvicorn with a probe route that goes
through the generated `DBSession` and `UserModel` (POST then GET over HTTP), and the project's
own tests (`python -m pytest`). Exits 0 when all pass; prints the failing step's output and exits
1 otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TIMEOUT = 600

PROBE = '''"""Probe: the project's app plus a route through the generated session dependency."""

from sqlalchemy import select

from MOD_api.v1.dependencies.database import DBSession
from MOD_infrastructure.database.models import UserModel
from MOD_main import app


@app.post("/probe/users", status_code=201)
async def probe_create(email: str, session: DBSession) -> dict[str, int]:
    user = UserModel(email=email)
    session.add(user)
    await session.flush()
    return {"id": user.id}


@app.get("/probe/users")
async def probe_list(session: DBSession) -> list[str]:
    return [user.email for user in await session.scalars(select(UserModel))]
'''


class Failed(Exception):
    pass


def run(cmd: str, cwd: Path, env: dict[str, str]) -> str:
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise Failed(f"`{cmd}` exited {done.returncode}:\n{out}")
    print(f"  ok  {cmd}  ({time.monotonic() - started:.1f}s)", flush=True)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str) -> tuple[int, object]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def probe(project: Path, env: dict[str, str], prefix: str, package: str, app_dir: str, probe_dir: str) -> None:
    # `--package ""`: the modules are imported at the top (`main`, `api.v1...`).
    (project / probe_dir / "skillrun_probe.py").write_text(PROBE.replace("MOD_", f"{package}." if package else ""))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = project / "uvicorn.log"
    # `cd backend && poetry run ` -> `cd backend && exec poetry run python -m uvicorn ...`
    cd, run_with = prefix.rsplit("&& ", 1) if "&& " in prefix else ("", prefix)
    cd = f"{cd}&& " if cd else ""
    cmd = f"{cd}exec {run_with}python -m uvicorn skillrun_probe:app --app-dir {app_dir} --host 127.0.0.1 --port {port}"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            ["bash", "-c", cmd], cwd=project, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                raise Failed(f"uvicorn exited {server.returncode}:\n{log.read_text()}")
            try:
                if http("GET", f"{base}/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise Failed(f"uvicorn did not answer /health:\n{log.read_text()}")
            time.sleep(0.2)
        print(f"  ok  the project's app serves /health on port {port}", flush=True)
        code, body = http("POST", f"{base}/probe/users?email=ada%40example.com")
        if code != 201 or not isinstance(body, dict):
            raise Failed(f"POST /probe/users -> {code} {body}")
        code, listed = http("GET", f"{base}/probe/users")
        if code != 200 or listed != ["ada@example.com"]:
            raise Failed(f"GET /probe/users -> {code} {listed}")
        print("  ok  POST and GET /probe/users through DBSession", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        (project / probe_dir / "skillrun_probe.py").unlink()
    if "Traceback" in log.read_text():
        raise Failed(f"uvicorn logged a traceback:\n{log.read_text()}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", type=Path)
    parser.add_argument("--venv", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--no-own-tests", action="store_true")
    parser.add_argument("--package", default="app", help="the generated code's package")
    parser.add_argument("--app-dir", default=".", help="where that package is imported from, after the commands' own `cd`")
    parser.add_argument("--probe-dir", help="where the probe module goes, in the project (default: --app-dir)")
    args = parser.parse_args()
    project = args.project.resolve()
    report = json.loads(args.report.read_text())
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("DATABASE_")}
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX"):
        env.pop(key, None)
    env["PATH"] = f"{args.venv.resolve() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # No __pycache__ in the project: bytecode goes under the caller's PYTHONPYCACHEPREFIX when
    # it names one (a project venv made by `uv sync` or `poetry install` has none compiled, and
    # every `uv run` / `poetry run` would compile the same libraries again), else nowhere.
    if env.get("PYTHONPYCACHEPREFIX"):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    commands: list[str] = report["commands"]
    # `cd backend && uv run alembic -c db/alembic.ini upgrade head`: the alembic command with its
    # options, and the prefix that runs the project's tools.
    upgrade = next((c for c in commands if "alembic" in c and c.endswith(" upgrade head")), "alembic upgrade head")
    alembic = upgrade.removesuffix(" upgrade head")
    prefix = alembic.split("alembic")[0]
    try:
        for cmd in commands:
            run(cmd, project, env)
        run(f"{alembic} upgrade head", project, env)
        probe(project, env, prefix, args.package, args.app_dir, args.probe_dir or args.app_dir)
        if not args.no_own_tests:
            run(f"{prefix}python -m pytest -q -p no:cacheprovider tests", project, env)
    except (Failed, subprocess.TimeoutExpired) as exc:
        print(f"FAIL {exc}", flush=True)
        return 1
    print("the report's commands, the app and the project's tests all passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
