"""Write a skill set of N skills for the scaling benchmarks: the real database-setup skill plus
N-1 synthetic ones, each a complete skill (manifest entry, input schema, skill.json, template,
SKILL.md) with six trigger phrases in Korean and English that share common words ("set up",
"설정") with database-setup and with each other but carry a pseudo-word of their own.

    python3 benches/synth.py N OUT_DIR

Deterministic: the same N gives the same files. Standard library only.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LATIN = ["ka", "lo", "mi", "ne", "su", "ta", "vo", "ri", "pe", "zu", "ho", "da", "fi", "gu", "bo", "xe"]
HANGUL = "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허고노도로"


def pseudo(i: int, alphabet: list[str] | str, width: int) -> str:
    """The i-th pseudo-word: i written in base len(alphabet), one syllable per digit."""
    out = []
    for _ in range(width):
        out.append(alphabet[i % len(alphabet)])
        i //= len(alphabet)
    return "".join(out)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def synthetic(root: Path, i: int) -> dict:
    sid = f"synthetic-{i:05d}"
    w = pseudo(i, LATIN, 4)  # "kaloka"..., unique per skill
    v = pseudo(i * 7 + 3, LATIN, 3)
    h = pseudo(i, HANGUL, 3)  # three Hangul syllables, unique per skill
    write(
        root,
        f"schemas/{sid}.json",
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "projectPath": {"type": "string", "minLength": 1, "x-extract": "path", "x-project-dir": True},
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "pattern": "^[a-z][a-z0-9_]*$",
                        "x-hint": {"en": f"name the {w}", "ko": f"{h} 이름을 쓰세요"},
                    },
                    "size": {"type": "integer", "minimum": 1, "default": 3},
                },
                "required": ["projectPath", "name"],
                "additionalProperties": False,
            }
        ),
    )
    write(
        root,
        f"skills/{sid}/skill.json",
        json.dumps(
            {
                "steps": [
                    {"kind": "render", "path": f"{w}/{{{{ name }}}}.py", "template": "templates/module.py.tera"},
                    {"kind": "render", "path": f"{w}/__init__.py", "template": "templates/init.py.tera", "ifExists": "keep"},
                    {"kind": "lines", "path": ".gitignore", "lines": [f"{w}.log"]},
                ],
                "commands": [{"run": f"python -m {w}", "about": {"en": f"run {w}", "ko": f"{h} 실행"}}],
            }
        ),
    )
    write(
        root,
        f"skills/{sid}/templates/module.py.tera",
        f'"""{w}: {{{{ name }}}}."""\n\n{{% for n in range(end=size) %}}\ndef step_{{{{ n }}}}():\n'
        f'    return "{{{{ name | upper }}}}-{{{{ n }}}}"\n{{% endfor %}}\n',
    )
    write(root, f"skills/{sid}/templates/init.py.tera", f'"""{w} package."""\n')
    write(
        root,
        f"skills/{sid}/SKILL.md",
        f"---\nname: {sid}\ndescription: Adds a {w} module. Use for \"set up {w}\" or \"{h} 설정\".\n---\n\n# {w}\n",
    )
    return {
        "id": sid,
        "version": "0.1.0",
        "title": {"en": f"{w} setup", "ko": f"{h} 설정"},
        "description": {"en": f"Adds a {w} module.", "ko": f"{h} 모듈을 추가합니다."},
        "triggers": {
            "ko": [f"{h} 설정", f"{h} {v} 구성", f"{h} 추가"],
            "en": [f"set up {w}", f"configure the {w} {v}", f"{w} setup"],
        },
        "inputSchema": f"schemas/{sid}.json",
        "dir": f"skills/{sid}",
    }


def main(n: int, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    real = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))["skills"][0]
    shutil.copytree(ROOT / real["dir"], out / real["dir"])
    write(out, real["inputSchema"], (ROOT / real["inputSchema"]).read_text(encoding="utf-8"))
    skills = [real] + [synthetic(out, i) for i in range(1, n)]
    write(out, "manifest.json", json.dumps({"skills": skills}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
