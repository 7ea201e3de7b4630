#!/usr/bin/env bash
# Make (or reuse) a Python virtualenv for the project's tests.
#
#   scripts/venv.sh NAME REQFILE
#
# Creates <repo>/.venv-NAME and pip-installs REQFILE into it. The venv is reused while
# REQFILE's content is unchanged (its sha256 is kept in the venv) and rebuilt when it
# changes or when an earlier build did not finish. Parallel callers are serialised with
# flock, so concurrent tests can all call it. Prints the venv's absolute path on stdout
# and nothing else; pip's output goes to stderr.
#
# Environment: PYTHON (default python3) is the interpreter the venv is made from.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 NAME REQFILE" >&2
    exit 2
fi
name=$1
reqfile=$2
if [[ ! $name =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "venv.sh: NAME must be letters, digits, '.', '_' or '-': $name" >&2
    exit 2
fi
if [[ ! -f $reqfile ]]; then
    echo "venv.sh: no such requirements file: $reqfile" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv-$name"
stamp="$venv/.requirements.sha256"
python=${PYTHON:-python3}
want=$( { "$python" -c 'import sys; print(sys.version)'; cat "$reqfile"; } | sha256sum | cut -d' ' -f1)

exec 9>"$root/.venv-$name.lock"
flock 9

if [[ ! -f $stamp || $(cat "$stamp") != "$want" || ! -x $venv/bin/python ]]; then
    echo "venv.sh: building $venv from $reqfile" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        -r "$reqfile" >&2
    echo "$want" >"$stamp"
fi

echo "$venv"
