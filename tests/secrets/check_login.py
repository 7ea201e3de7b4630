"""Loads a generated project's settings and engine, and logs in to PostgreSQL through them.

    python check_login.py PROJECT ROLE      (the expected password in SKILLRUN_TEST_PASSWORD)

Checks that every generated Python file compiles, alembic.ini and pyproject.toml parse, the
password in the settings is exactly the expected one, the engine logs in as ROLE, and the same
role with a wrong password is refused (so the server really checks passwords). Prints "ok".
"""

import asyncio
import configparser
import os
import pathlib
import py_compile
import sys
import tomllib

project, role = pathlib.Path(sys.argv[1]), sys.argv[2]
password = os.environ["SKILLRUN_TEST_PASSWORD"]
for source in project.rglob("*.py"):
    py_compile.compile(str(source), doraise=True)
configparser.ConfigParser().read(project / "alembic.ini", encoding="utf-8")
if (project / "pyproject.toml").exists():
    tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))

os.chdir(project)
sys.path.insert(0, str(project))
from sqlalchemy.engine import make_url  # noqa: E402

from app.core.config import settings  # noqa: E402
from app.infrastructure.database.session import engine  # noqa: E402

url = make_url(settings.database_url)
assert url.password == password, "the password in the settings differs from the one given"


async def main() -> None:
    async with engine.connect() as conn:
        user = (await conn.exec_driver_sql("select current_user")).scalar()
        assert user == role, f"logged in as {user}, not {role}"
    await engine.dispose()
    import asyncpg

    try:
        await asyncpg.connect(host=url.host, port=url.port, user=role, password=password + "x", database=url.database)
    except asyncpg.InvalidPasswordError:
        return
    raise AssertionError("a wrong password was accepted: the server does not check passwords")


asyncio.run(main())
print("ok")
