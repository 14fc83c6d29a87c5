# Shared by the scripts in this directory (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# PATH without any of our virtual environments: ensure_venv puts exactly one in front of it.
BASE_PATH="$PATH"

# The ansible-core series the collection is tested on (meta/runtime.yml's requires_ansible starts at
# the oldest). Each has its own virtual environment, created on first use from
# tests/requirements/ansible-<series>.txt. DEFAULT_CORE's is .venv: the demo, the benchmark and the
# quick test loop use it.
# shellcheck disable=SC2034 # used by the scripts that source this file
OLDEST_CORE=2.16 DEFAULT_CORE=2.19 NEWEST_CORE=2.21

# The virtual environment of an ansible-core series.
venv_of() {
    if [ "$1" = "$DEFAULT_CORE" ]; then
        echo "${IDENTITY_LIFECYCLE_VENV:-$ROOT/.venv}"
    else
        echo "$ROOT/.cache/venvs/ansible-$1"
    fi
}

# The Python versions an ansible-core series runs on, the preferred first (ansible-core 2.20 and
# later need Python 3.12 or newer; 2.16 stops at 3.12).
pythons_of() {
    case "$1" in
        2.16) echo "3.11 3.12 3.10" ;;
        2.19) echo "3.11 3.12 3.13" ;;
        2.21) echo "3.13 3.12" ;;
        *)
            echo "error: no Python versions known for ansible-core $1" >&2
            return 1
            ;;
    esac
}

# Print a working interpreter for Python X.Y: pythonX.Y on PATH, else one that pyenv has installed
# (pyenv's shims exist for every installed version but only run the ones selected).
find_python() {
    local version="$1" candidate installed
    candidate="python$version"
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c '' >/dev/null 2>&1; then
        command -v "$candidate"
        return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        installed="$(pyenv versions --bare 2>/dev/null | grep -E "^${version//./\\.}(\.[0-9]+)?$" | sort -V | tail -n 1)"
        candidate="$(pyenv root)/versions/$installed/bin/python$version"
        if [ -n "$installed" ] && "$candidate" -c '' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    fi
    return 1
}

# Print the first Python of pythons_of "$1" that can be found. For DEFAULT_CORE, any python3 of 3.11
# or newer will do, so that ./scripts/demo runs on a machine that has only Python.
pick_python() {
    local core="$1" version wanted
    wanted="$(pythons_of "$core")" || return 1
    for version in $wanted; do
        if find_python "$version"; then
            return 0
        fi
    done
    if [ "$core" = "$DEFAULT_CORE" ] && command -v python3 >/dev/null 2>&1 &&
        python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        command -v python3
        return 0
    fi
    echo "error: ansible-core $core needs Python ${wanted// / or }; none was found on PATH or in pyenv" \
        "(install one, for example with 'pyenv install ${wanted%% *}')" >&2
    return 1
}

# Create the virtual environment of an ansible-core series (default DEFAULT_CORE) once, install its
# requirements whenever they changed, and put it (alone) in front of PATH. Sets VENV.
ensure_venv() {
    local core="${1:-$DEFAULT_CORE}" python stamp wanted requirements
    VENV="$(venv_of "$core")"
    requirements="$ROOT/tests/requirements/ansible-$core.txt"
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(pick_python "$core")" || return 1
        echo "==> creating $VENV with $python (ansible-core $core)"
        mkdir -p "$(dirname "$VENV")"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.requirements.sha256"
    # The series' file includes requirements-dev.txt, which other changes edit.
    wanted="$(cat "$requirements" "$ROOT/requirements-dev.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "==> installing tests/requirements/ansible-$core.txt into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$wanted" >"$stamp"
    fi
    export PATH="$VENV/bin:$BASE_PATH"
}

# Copy the collection (the files git knows, committed or not) to
# $1/ansible_collections/identity/lifecycle and print that path.
collection_copy() {
    local base="$1" target
    target="$base/ansible_collections/identity/lifecycle"
    mkdir -p "$target"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$ROOT" && while IFS= read -r -d '' file; do
            [ -f "$file" ] || continue
            mkdir -p "$target/$(dirname "$file")"
            cp -p "$file" "$target/$file"
        done)
    echo "$target"
}

stage() {
    local name="$1"
    shift
    local started=$SECONDS
    echo
    echo "==> $name"
    "$@"
    echo "==> $name passed in $((SECONDS - started))s"
}
