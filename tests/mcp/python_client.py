"""Drive `skillrun serve` with the official Python MCP SDK, as an assistant would.

    python python_client.py SKILLRUN_BINARY MODE PROJECT_DIR
    python python_client.py http://HOST:PORT/mcp MODE PROJECT_DIR OUTSIDE_DIR

The first form launches `SKILLRUN_BINARY serve` on stdio. The second connects to a running
`skillrun serve --http` over Streamable HTTP with the bearer token in $SKILLRUN_TOKEN, and also
checks that a call whose projectPath (OUTSIDE_DIR) is outside the server's --root is refused.

MODE is the SDK's connect mode: "auto" (its default: server/discover, then the 2026-07-28
per-request lifecycle) or "legacy" (the initialize handshake). Lists the tools, reads the skill's
SKILL.md, matches a Korean request, calls database-setup on PROJECT_DIR (a SQLite project) with a
progress callback, then makes an invalid call. Prints one JSON summary on stdout for the Rust test
(tests/mcp/clients.rs) to check; any failed expectation raises, so the exit code is non-zero.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(target: str, mode: str, project: str, outside: str | None = None) -> dict[str, Any]:
    if target.startswith("http://"):
        headers = {"Authorization": f"Bearer {os.environ['SKILLRUN_TOKEN']}"}
        server: Any = streamable_http_client(target, http_client=create_mcp_http_client(headers=headers))
    else:
        # As an assistant does: the server starts in the workspace, the only place it may write.
        workspace = os.path.dirname(os.path.abspath(project))
        server = StdioServerParameters(command=target, args=["serve"], env={"RUST_LOG": "warn"}, cwd=workspace)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async with Client(server, mode=mode) as client:
        tools = (await client.list_tools()).tools
        by_name = {t.name: t for t in tools}
        setup = by_name["database-setup"]
        assert set(setup.input_schema["required"]) == {"projectPath", "databaseUrl"}, setup.input_schema
        assert setup.output_schema is not None and "status" in setup.output_schema["properties"]

        doc = await client.read_resource("skill://database-setup/SKILL.md")
        assert doc.contents[0].text.startswith("---\nname: database-setup"), doc.contents[0]

        matched = await client.call_tool("match_skill", {"text": "DB 설정 해줘"})
        assert not matched.is_error, matched
        best = matched.structured_content["matches"][0]
        assert best["skill"] == "database-setup", best

        args = {"projectPath": project, "databaseUrl": "sqlite:///./app.db"}
        applied = await client.call_tool("database-setup", args, progress_callback=on_progress)
        assert not applied.is_error, applied
        report = applied.structured_content
        assert report["status"] == "applied", report
        assert json.loads(applied.content[1].text) == report

        invalid = await client.call_tool("database-setup", {"projectPath": project, "databaseUrl": "ftp://nowhere", "dryRun": True})
        assert invalid.is_error, invalid
        assert invalid.structured_content["errors"][0]["field"] == "/databaseUrl", invalid.structured_content

        refused = None
        if outside is not None:
            call = await client.call_tool("database-setup", {"projectPath": outside, "databaseUrl": "sqlite:///./app.db"})
            assert call.is_error, call
            refused = call.structured_content["errors"][0]["field"]

        return {
            "refusedField": refused,
            "mode": mode,
            "protocolVersion": client.protocol_version,
            "server": client.server_info.name if client.server_info else None,
            "tools": sorted(by_name),
            "status": report["status"],
            "files": len(report["files"]),
            "progress": [p[0] for p in progress],
            "invalidStatus": invalid.structured_content["status"],
        }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:5]))))
