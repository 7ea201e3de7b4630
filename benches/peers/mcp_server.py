"""The Python peer of `skillrun serve` for the warm tool-call bench: a minimal MCP server on the
official SDK (`MCPServer`, mcp 2.x) with one tool, `database-setup`, that does what a dry run of
skillrun does for it on an empty project: derive the async URL and the database type, render every
file with Jinja2, compare each with the disk, and return the report (path and action of each file,
the next commands). The files are those of the copier template (make_copier_template.py, path
given by SKILLRUN_PEER_TEMPLATE): the skill's own outputs for an empty project with the URL put
back as a variable, so this peer does less template work than skillrun does.

    SKILLRUN_PEER_TEMPLATE=DIR python benches/peers/mcp_server.py        (JSON-RPC over stdio)

Only what the bench sends is handled (a URL without a password, an empty project, no conflict
resolution, no writes): it is a fair floor for a Python implementation, not a replacement.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jinja2
from mcp.server.mcpserver import MCPServer

ROOT = Path(__file__).resolve().parents[2]
SKILL = ROOT / "skills" / "database-setup"
SPEC = json.loads((SKILL / "skill.json").read_text(encoding="utf-8"))
DIALECTS = SPEC["derive"][0]["dialects"]
TEMPLATE = Path(os.environ.get("SKILLRUN_PEER_TEMPLATE", ROOT / "benches" / "peers" / "copier-database-setup")) / "template"
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE), keep_trailing_newline=True, autoescape=False, undefined=jinja2.StrictUndefined
)
FILES = sorted(
    str(p.relative_to(TEMPLATE))[: -len(".jinja")]
    for p in TEMPLATE.rglob("*.jinja")
    if not p.name.startswith("{{")
)
# Files a user owns once they exist (package markers, .gitkeep): skipped, not a conflict.
KEEP = {"__init__.py", ".gitkeep"}

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
    for rel in FILES:
        content = ENV.get_template(rel + ".jinja").render(context)
        files.append({"path": rel, "action": action(root / rel, content, Path(rel).name in KEEP)})
    status = "conflict" if any(f["action"] == "conflict" for f in files) else ("dry-run" if dryRun else "planned")
    return {
        "skill": "database-setup",
        "status": status,
        "project": str(root),
        "files": files,
        "commands": [c["run"] for c in SPEC["commands"] if "when" not in c or c["when"].get("project.python.manager") == ["pip"]],
    }


if __name__ == "__main__":
    server.run()
