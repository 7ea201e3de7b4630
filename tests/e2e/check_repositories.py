"""End-to-end check of a project made by database-setup, then repository-pattern for
Author and Post (Post.author_id references Author).

    python check_repositories.py PROJECT_DIR --venv VENV_DIR [--mypy-cache DIR]
        [--package PKG --module PREFIX --import-root DIR --generated-only]

PROJECT_DIR is where alembic.ini is (a backend's subdirectory); PKG the generated package under
it (default `app`; `src/shop` in a src layout; `app` imported as the top, with `PYTHONPATH=app`,
in a flat layout), PREFIX how its modules are imported (default `app.`; `shop.`; empty), DIR
the import root the project runs with (default `.`; `src`; `app`), which alembic.ini's
`prepend_sys_path` must name. ruff knows DIR as the first-party root, mypy gets it as MYPYPATH
(with explicit package bases, so a wrong root fails), uvicorn as `--app-dir`, and the app's
imports take PREFIX. --generated-only lints the generated files only (a fixture's own code is not
the skill's); otherwise the whole project.

ruff (rules and format) and mypy --strict on the generated code; Alembic autogenerate
creates both tables with their constraints and indexes, upgrade, check, downgrade and
upgrade again, a second autogenerate that is empty; then a FastAPI app (repo_app_main.py) under uvicorn creates,
reads, lists with paging and filters, updates and deletes through the repositories over
HTTP. Exits 0 when all pass. Reuses check_project.py's runner.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_project import (
    HERE,
    CheckError,
    Project,
    check_ruff,
    served,
    step,
)

GENERATED = [
    "domain/repositories",
    "infrastructure/repositories",
    "schemas",
    "api/v1/dependencies/author_repository.py",
    "api/v1/dependencies/post_repository.py",
    "infrastructure/database/models/author.py",
    "infrastructure/database/models/post.py",
    "infrastructure/database/models/__init__.py",
]


def generated(project: Project) -> list[str]:
    return [f"{project.package}/{path}" for path in GENERATED]


def check_types(project: Project, import_root: str) -> None:
    # The repository-pattern files, strictly; what they import is read, not reported. Module
    # names come from the import root only, as Python finds them when the project runs.
    project.env["MYPYPATH"] = import_root
    project.mypy(
        "--strict",
        "--explicit-package-bases",
        "--follow-imports=silent",
        *generated(project),
    )


def check_generated_ruff(project: Project, import_root: str) -> None:
    """ruff on the generated files only, `import_root` its first-party root (import sorting)."""
    package = project.package
    files = [
        *generated(project),
        f"{package}/infrastructure/database",
        f"{package}/api/v1/dependencies",
    ]
    exclude = str(project.versions)
    project.run(
        "ruff",
        "check",
        "--isolated",
        "--config",
        f"src = [{import_root!r}]",
        "--no-cache",
        "--target-version",
        "py311",
        "--select",
        "E,F,W,I,UP,B,SIM,RUF,N,ASYNC",
        "--extend-exclude",
        exclude,
        *files,
    )
    project.run(
        "ruff",
        "format",
        "--isolated",
        "--no-cache",
        "--check",
        "--extend-exclude",
        exclude,
        *files,
    )


def backend(project: Project) -> str:
    """The database kind of the project's URL (`.env`): postgresql, mysql or sqlite."""
    # The app's .env, or the repository's top one above a backend's directory.
    env = project.root / ".env"
    if not env.exists():
        env = project.root.parent / ".env"
    for line in env.read_text().splitlines():
        if line.startswith("DATABASE_URL="):
            return line.split("=", 1)[1].strip("'\"").split(":", 1)[0].split("+", 1)[0]
    raise CheckError(".env has no DATABASE_URL")


def check_alembic(project: Project) -> None:
    if project.revisions():
        raise CheckError(f"{project.versions} is not empty before the first revision")
    project.run("alembic", "revision", "--autogenerate", "-m", "Add authors and posts")
    revisions = project.revisions()
    if len(revisions) != 1:
        raise CheckError(f"expected one revision file, found {revisions}")
    script = revisions[0].read_text()
    for needle in (
        "op.create_table('authors'",
        "op.create_table('posts'",
        "'fk_posts_author_id_authors'",
        "'uq_authors_name'",
        "'ix_authors_email'",
        "'ix_posts_title'",
        "'pk_posts'",
    ):
        if needle not in script:
            raise CheckError(f"{revisions[0].name} lacks {needle}:\n{script}")
    # The foreign key column is indexed: by the model, or by MySQL/MariaDB themselves.
    if backend(project) != "mysql" and "'ix_posts_author_id'" not in script:
        raise CheckError(f"{revisions[0].name} lacks ix_posts_author_id:\n{script}")
    step("autogenerate: authors and posts with their keys, constraints and indexes")
    project.run("alembic", "upgrade", "head")
    project.run("alembic", "check", expect="No new upgrade operations detected.")
    # The migration undoes cleanly (posts before the authors they reference) and redoes.
    project.run("alembic", "downgrade", "-1")
    project.run("alembic", "upgrade", "head")
    project.run("alembic", "check", expect="No new upgrade operations detected.")
    project.run("alembic", "revision", "--autogenerate", "-m", "nothing to do")
    second = next(p for p in project.revisions() if p not in revisions)
    body = second.read_text()
    second.unlink()
    upgrade = body.split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    if "op." in upgrade:
        raise CheckError(f"second autogenerate is not empty:\n{body}")
    step("a second autogenerate is empty")


def check_import_root(project: Project, import_root: str) -> None:
    """alembic.ini imports the project from the root the other checks are given."""
    ini = (project.root / "alembic.ini").read_text()
    line = f"prepend_sys_path = {import_root}\n"
    if line not in ini:
        raise CheckError(f"alembic.ini lacks {line!r}:\n{ini}")
    step(f"alembic.ini: {line.strip()}")


def check_http(project: Project, module: str, import_root: str) -> None:
    # The app as the package's main module, its `app.` imports taking the layout's prefix.
    app = (HERE / "repo_app_main.py").read_text().replace("\nfrom app.", f"\nfrom {module}")
    (project.root / project.package / "main.py").write_text(app)
    with served(project, f"{module}main:app", import_root) as expect:
        author = expect(
            "POST",
            "/authors",
            201,
            {
                "name": "Ada",
                "email": "ada@example.com",
                "born": "1815-12-10",
                "ext_id": "12345678-1234-5678-1234-567812345678",
                "profile": {"langs": ["en"], "n": 1},
            },
        )
        assert isinstance(author, dict)
        if author["balance"] not in ("1.50", "1.5") or author["active"] is not True:
            raise CheckError(f"defaults not applied: {author}")
        if not author["created_at"] or author["profile"] != {"langs": ["en"], "n": 1}:
            raise CheckError(f"author read back wrong: {author}")
        if expect("GET", f"/authors/{author['id']}", 200) != author:
            raise CheckError("GET /authors/{id} differs from what POST returned")
        expect("POST", "/authors", 409, {"name": "Ada"})
        other = expect("POST", "/authors", 201, {"name": "Grace"})
        assert isinstance(other, dict)
        expect("POST", "/posts", 422, {"title": "x", "body": "y", "author_id": 999999})
        ids = []
        for i in range(5):
            writer = author["id"] if i < 3 else other["id"]
            post = expect(
                "POST",
                "/posts",
                201,
                {"title": f"Post {i}", "body": "text " * 50, "author_id": writer},
            )
            assert isinstance(post, dict)
            if post["views"] != 0 or post["published_at"] is not None:
                raise CheckError(f"post defaults wrong: {post}")
            ids.append(post["id"])
        page = expect("GET", "/posts?offset=0&limit=2", 200)
        assert isinstance(page, dict)
        if [p["id"] for p in page["items"]] != ids[:2] or page["total"] != 5:
            raise CheckError(f"first page: {page}")
        page = expect("GET", "/posts?offset=4&limit=2", 200)
        assert isinstance(page, dict)
        if [p["id"] for p in page["items"]] != ids[4:]:
            raise CheckError(f"last page: {page}")
        mine = expect("GET", f"/posts?author_id={author['id']}&limit=10", 200)
        assert isinstance(mine, dict)
        if [p["id"] for p in mine["items"]] != ids[:3] or mine["total"] != 3:
            raise CheckError(f"filtered by author: {mine}")
        updated = expect(
            "PATCH",
            f"/posts/{ids[0]}",
            200,
            {"title": "Renamed", "views": 7, "published_at": "2026-01-02T03:04:05Z"},
        )
        assert isinstance(updated, dict)
        if updated["title"] != "Renamed" or updated["views"] != 7:
            raise CheckError(f"PATCH returned {updated}")
        if not updated["published_at"] or updated["body"] != "text " * 50:
            raise CheckError(f"PATCH lost fields: {updated}")
        if expect("GET", f"/posts/{ids[0]}", 200) != updated:
            raise CheckError("GET after PATCH differs")
        expect("DELETE", f"/posts/{ids[1]}", 204)
        expect("GET", f"/posts/{ids[1]}", 404)
        expect("DELETE", f"/posts/{ids[1]}", 404)
        after = expect("GET", "/posts?limit=100", 200)
        assert isinstance(after, dict)
        if after["total"] != 4 or ids[1] in [p["id"] for p in after["items"]]:
            raise CheckError(f"after delete: {after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--venv", type=Path, default=Path(sys.prefix))
    parser.add_argument("--package", default="app")
    parser.add_argument("--module", default="app.")
    parser.add_argument("--import-root", default=".")
    parser.add_argument("--generated-only", action="store_true")
    parser.add_argument("--mypy-cache", type=Path, help="see check_project.py")
    args = parser.parse_args()
    project = Project(
        args.project.resolve(), args.venv.resolve(), args.package, args.mypy_cache
    )
    root = args.import_root
    started = time.monotonic()
    try:
        check_import_root(project, root)
        if args.generated_only:
            check_generated_ruff(project, root)
        else:
            check_ruff(project)
        check_types(project, root)
        check_alembic(project)
        check_http(project, args.module, root)
    except CheckError as exc:
        print(f"FAIL {exc}", flush=True)
        return 1
    print(
        f"repository e2e check passed in {time.monotonic() - started:.1f}s", flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
