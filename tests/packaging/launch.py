"""Start skillrun's MCP server the way an assistant's configuration says, and use it through the
official Python MCP SDK (pinned in tests/requirements/mcp.txt).

    python launch.py WORKSPACE COMMAND [ARG...]

Runs COMMAND ARG... as a stdio server with WORKSPACE as its working directory and this process's
environment, lists the tools, reads the skill's SKILL.md resource, and calls database-setup on
WORKSPACE/project (a SQLite project). Prints one JSON summary on stdout for tests/packaging.rs;
any failed expectation raises, so the exit code is non-zero.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from mcp import Client, StdioServerParameters


async def main(workspace: str, command: str, *args: str) -> dict[str, Any]:
    server = StdioServerParameters(command=command, args=list(args), cwd=workspace, env=dict(os.environ))
    async with Client(server) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
        doc = await client.read_resource("skill://database-setup/SKILL.md")
        assert "skillrun run database-setup" in doc.contents[0].text, doc.contents[0]
        project = os.path.join(workspace, "project")
        result = await client.call_tool("database-setup", {"projectPath": project, "databaseUrl": "sqlite:///./app.db"})
        assert not result.is_error, result
        report = result.structured_content
        return {
            "server": client.server_info.name if client.server_info else None,
            "tools": tools,
            "status": report["status"],
            "files": sorted(f["path"] for f in report["files"]),
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:]))))
