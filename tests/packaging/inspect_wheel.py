"""Read a skillrun-cli wheel the way an installer does, for tests/packaging.rs.

    python inspect_wheel.py WHEEL RELEASE_BINARY

Prints one JSON object: the distribution name and version from METADATA, the tags from WHEEL,
the path of the `skillrun` script, whether that binary is byte for byte RELEASE_BINARY (the
release build, reused rather than rebuilt), whether it still has a symbol table (it should be
stripped), and the highest GLIBC symbol version it needs.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile

from elftools.elf.elffile import ELFFile


def main(wheel_path: str, release_binary: str) -> dict[str, object]:
    wheel = zipfile.ZipFile(wheel_path)
    names = wheel.namelist()
    info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
    metadata = wheel.read(f"{info}/METADATA").decode()
    field = lambda text, key: [l.split(": ", 1)[1] for l in text.splitlines() if l.startswith(f"{key}: ")]
    scripts = [n for n in names if re.fullmatch(r"[^/]+\.data/scripts/skillrun", n)]
    binary = wheel.read(scripts[0])
    elf = ELFFile(io.BytesIO(binary))
    glibc = set()
    for section in elf.iter_sections():
        if section.name == ".gnu.version_r":
            for _, aux in section.iter_versions():
                glibc.update(a.name for a in aux if a.name.startswith("GLIBC_"))
    newest = max(glibc, key=lambda v: tuple(int(p) for p in v[6:].split(".")))
    with open(release_binary, "rb") as f:
        same = f.read() == binary
    return {
        "name": field(metadata, "Name")[0],
        "version": field(metadata, "Version")[0],
        "tags": field(wheel.read(f"{info}/WHEEL").decode(), "Tag"),
        "scripts": scripts,
        "sameAsRelease": same,
        "symtab": elf.get_section_by_name(".symtab") is not None,
        "glibc": newest,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:3])))
