"""The Python peer of `skillrun serve` for the warm tool-call bench: a minimal MCP server on the
official SDK (`MCPServer`, mcp 2.x) with one tool, `database-setup`, that does what a dry run of
skillrun does for it: derive the async URL and the database type, render every file of
skills/database-setup with Jinja2 (the same templates, which Jinja reads as they are), compare
each with the disk, and return the report (path and action of each file, the next commands).

    python benches/peers/mcp_server.py        (JSON-RPC over stdio)

Only what the bench sends is handled (a URL without a password, no conflicts resolution, no
writes): it is a fair floor for a Python implementation, not a replacement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from mcp.server.mcpserver import MCPServer

ROOT = Path(__file__).resolve().parents[2]
SKILL = ROOT / "skills" / "database-setup"
SPEC = json.loads((SKILL / "skill.json").read_text(encoding="utf-8"))
DIALECTS = SPEC["derive"][0]["dialects"]
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(SKILL), keep_trailing_newline=True, autoescape=False, undefined=jinja2.StrictUndefined
)

server = MCPServer("python-peer")


def derive(url: str, db_type: str | None) -> dict[str, str]:
    scheme, rest = url.split("://", 1)
    for name, dialect in DIALECTS.items():
        if scheme in dialect["schemes"]:
            if db_type and db_type != name:
                raise ValueError(f"dbType is {db_type!r} but databaseUrl is a {name} URL")
            async_url = f"{dialect['async']}://{rest}"
            return {"dbType": name, "databaseUrl": async_url, "databaseUrlExample": async_url}
    raise ValueError(f"databaseUrl: unknown scheme {scheme!r}")


def applies(when: dict[str, list[str]], context: dict[str, Any]) -> bool:
    return all(context.get(field) in values for field, values in when.items())


def action(path: Path, content: str, keep: bool) -> str:
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "created"
    if old == content:
        return "unchanged"
    return "skipped" if keep else "conflict"


@server.tool(name="database-setup")
def database_setup(projectPath: str, databaseUrl: str, dbType: str | None = None, dryRun: bool = False) -> dict[str, Any]:
    """Sets up SQLAlchemy 2.0 async + Alembic in a FastAPI project (dry run: plans, writes nothing)."""
    root = Path(projectPath).resolve()
    context: dict[str, Any] = {"projectPath": str(root), **derive(databaseUrl, dbType)}
    files = []
    for step in SPEC["steps"]:
        if not applies(step.get("when", {}), context):
            continue
        kind = step["kind"]
        if kind == "render":
            content = ENV.get_template(step["template"]).render({**context, **step.get("vars", {})})
            path, keep = step["path"], step.get("ifExists") == "keep"
        elif kind == "env-file":
            content = "".join(f"{k}={ENV.from_string(v).render(context)}\n" for k, v in step["set"].items())
            path, keep = step["path"], False
        elif kind == "lines":
            content = "".join(line + "\n" for line in step["lines"])
            path, keep = step["path"], False
        else:  # python-dependencies
            packages = step["packages"] + [
                p for field, by in step.get("byField", {}).items() for p in by.get(context[field], [])
            ]
            content = "".join(p + "\n" for p in packages)
            path, keep = "requirements.txt", False
        files.append({"path": path, "action": action(root / path, content, keep)})
    status = "conflict" if any(f["action"] == "conflict" for f in files) else ("dry-run" if dryRun else "planned")
    return {
        "skill": "database-setup",
        "status": status,
        "project": str(root),
        "files": files,
        "commands": [c["run"] for c in SPEC["commands"]],
    }


if __name__ == "__main__":
    server.run()
