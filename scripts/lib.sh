# Shared by the scripts in this directory (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IDENTITY_LIFECYCLE_VENV:-$ROOT/.venv}"

pick_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is needed" >&2
    return 1
}

# Create .venv (once) and install requirements-dev.txt whenever it changed.
ensure_venv() {
    local python stamp wanted
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(pick_python)"
        echo "==> creating $VENV with $python"
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.requirements.sha256"
    wanted="$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
        echo "==> installing requirements-dev.txt into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
        echo "$wanted" >"$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
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
