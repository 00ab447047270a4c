# Shared by scripts/serve, scripts/test and bench/run: system packages and virtualenvs.
# Sourced, not run.

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages listed in the given files (one per line, # comments) that are missing.
ensure_packages() {
    local missing=() pkg
    for pkg in $(sed 's/#.*//' "$@"); do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing system packages: ${missing[*]}" >&2
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# Create the virtualenv $1 (if needed) and pip-install the other arguments into it.
venv_install() {
    local venv=$1
    shift
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    # The callers run with pipefail: a failing pip fails the whole pipeline.
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "^WARNING: Location" >&2 || true; }; then
        echo "error: pip could not install $* into $venv (see above)" >&2
        exit 1
    fi
}

# Create .venv (if needed) and install the project into it with the given extras.
ensure_venv() {
    local extras=$1 spec="."
    [ -n "$extras" ] && spec=".[${extras}]"
    venv_install .venv -e "$spec"
    .venv/bin/python -c "import autoconfig" || { echo "error: the project did not install into .venv" >&2; exit 1; }
}

# Install the test-only npm packages of package.json (axe-core) into node_modules/, when missing or
# when package.json changed since the last install.
# npm comes with some nodejs builds and is a separate Debian package otherwise.
ensure_node_modules() {
    command -v npm >/dev/null || ensure_packages <(echo npm)
    if [ ! -f node_modules/.installed ] || [ package.json -nt node_modules/.installed ]; then
        npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2
        touch node_modules/.installed
    fi
}
