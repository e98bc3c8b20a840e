# Sourced by the scripts in this folder: make sure .venv exists and holds what
# pyproject.toml asks for. Re-installs only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"
extras="${1:-}"
stamp="$VENV/.installed${extras:+-$extras}"
wanted="$(cat pyproject.toml | "$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"

if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating $VENV ..." >&2
    "$PYTHON" -m venv "$VENV"
fi
installed() { [ -f "$1" ] && [ "$(cat "$1")" = "$wanted" ]; }
# The dev install holds everything the plain one does.
if ! installed "$stamp" && ! installed "$VENV/.installed-dev"; then
    echo "Installing dependencies into $VENV (first run takes a minute) ..." >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e ".${extras:+[$extras]}" >&2
    echo "$wanted" > "$stamp"
fi
export PATH="$PWD/$VENV/bin:$PATH"
