#!/usr/bin/env bash
# Third-party conformance of the CalDAV server (make conformance):
#  1. caldav-server-tester grades a personal calendar on our server (Radicale + the iPoint
#     plugin) and on stock Radicale 3.9 with the same auth; the grades must be the same;
#  2. its read-only checks (no test data written) pass against an iPoint calendar;
#  3. vdirsyncer syncs an iPoint calendar one-way into a folder; a second run changes nothing,
#     a change and a deletion in iPoint propagate, and the run after that changes nothing again.
# Everything runs on 127.0.0.1 with free ports in a temporary folder. Results (JSON, logs and a
# summary.md) go to $CONFORMANCE_OUT (default artifacts/conformance). Exit status 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
OUT=${CONFORMANCE_OUT:-$ROOT/artifacts/conformance}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ipoint-conformance.XXXXXX")
mkdir -p "$OUT"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {  # host port
  for _ in $(seq 1 200); do
    if "$PY" -c "import socket, sys; socket.create_connection(('$1', $2), 1).close()" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "server on $1:$2 did not start" >&2; return 1
}

# ---------------------------------------------------------------- data and servers
cat > "$WORK/bridge.ini" <<EOF
[bridge]
timezone = America/Chicago
data_dir = data

[calendar:chris]
name = Chris
EOF

PYTHONPATH=$ROOT "$PY" - "$WORK/bridge.ini" <<'EOF'
import sys
from bridge.caldav import prepare_files, set_password
from bridge.config import load
from bridge.runtime import open_store
from bridge.validate import validate_record

settings = load(sys.argv[1])
prepare_files(settings)
htpasswd = settings.data_path(settings.caldav.htpasswd)
for login in ("tester", "chris"):
    set_password(htpasswd, login, login + "-pw")
store = open_store(settings)
records = []
for i in range(20):
    raw = {"id": f"WO-{i:03d}", "user": "chris", "kind": "work_order", "title": f"Install #{i}",
           "start": f"2026-12-{i + 1:02d}T09:00", "end": f"2026-12-{i + 1:02d}T11:00",
           "customer": "Müller, Hans", "location": "12 Main St; Suite 4"}
    if i == 0:
        raw["rrule"] = "FREQ=WEEKLY;COUNT=8"
    record, problems = validate_record(raw, settings.bridge.timezone)
    assert record is not None, problems
    records.append(record)
store.apply(records)
store.close()
EOF

PYTHONPATH=$ROOT "$PY" -m bridge.caldav -c "$WORK/bridge.ini" --port 0 >"$WORK/ours.out" 2>"$OUT/ours.log" &
PIDS+=($!)
for _ in $(seq 1 200); do grep -q '^caldav: ' "$WORK/ours.out" 2>/dev/null && break; sleep 0.1; done
OURS=$(sed -n 's/^caldav: //p' "$WORK/ours.out")
[ -n "$OURS" ] || { echo "our CalDAV server did not start" >&2; cat "$OUT/ours.log" >&2; exit 1; }

STOCK_PORT=$(free_port)
cat > "$WORK/stock.ini" <<EOF
[server]
hosts = 127.0.0.1:$STOCK_PORT
[auth]
type = htpasswd
htpasswd_filename = $WORK/data/users.htpasswd
htpasswd_encryption = bcrypt
cache_logins = True
[rights]
type = owner_only
[storage]
filesystem_folder = $WORK/stock
[logging]
level = warning
EOF
"$PY" -m radicale --config "$WORK/stock.ini" >"$OUT/stock.log" 2>&1 &
PIDS+=($!)
wait_port 127.0.0.1 "$STOCK_PORT"
STOCK=http://127.0.0.1:$STOCK_PORT
echo "ours: $OURS   stock Radicale: $STOCK"

# ---------------------------------------------------------------- 1. same grades
tester() {  # url user out [extra args]
  local url=$1 user=$2 out=$3; shift 3
  "$BIN/caldav-server-tester" --caldav-url "$url/" --caldav-username "$user" \
    --caldav-password "$user-pw" --format text --verbose "$@" >"$out" 2>"$out.log"
}
tester "$OURS" tester "$OUT/tester-ours.txt"
tester "$STOCK" tester "$OUT/tester-stock.txt"

READ_ONLY=(--run-checks CheckGetCurrentUserPrincipal --run-checks CheckWWWAuthenticate
           --run-checks CheckWellKnown --run-checks CheckPropfindAllprop
           --run-checks CheckPrincipalSearch)
# ---------------------------------------------------------------- 2. read-only, iPoint calendar
tester "$OURS" chris "$OUT/tester-ipoint.txt" --caldav-calendar "iPoint – Chris" "${READ_ONLY[@]}"
tester "$STOCK" tester "$OUT/tester-stock-readonly.txt" "${READ_ONLY[@]}"

# ---------------------------------------------------------------- 3. vdirsyncer one-way
VDIR=$WORK/vdir
mkdir -p "$VDIR/local"
cat > "$VDIR/config" <<EOF
[general]
status_path = "$VDIR/status"

[pair ipoint]
a = "ipoint_remote"
b = "ipoint_local"
collections = null
conflict_resolution = "a wins"

[storage ipoint_remote]
type = "caldav"
url = "$OURS/chris/ipoint/"
username = "chris"
password = "chris-pw"
read_only = true

[storage ipoint_local]
type = "filesystem"
path = "$VDIR/local"
fileext = ".ics"
EOF
vdir() { "$BIN/vdirsyncer" -c "$VDIR/config" "$@" 2>&1; }
digest() { (cd "$VDIR/local" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
vdir discover >"$OUT/vdirsyncer-discover.txt"
vdir sync >"$OUT/vdirsyncer-1.txt"
FILES=$(find "$VDIR/local" -name '*.ics' | wc -l)
FIRST=$(digest)
vdir sync >"$OUT/vdirsyncer-2.txt"
SECOND=$(digest)
PYTHONPATH=$ROOT "$PY" - "$WORK/bridge.ini" <<'EOF'
import sys
from bridge.config import load
from bridge.runtime import open_store
from bridge.validate import validate_record

settings = load(sys.argv[1])
store = open_store(settings)
record, _ = validate_record({"id": "WO-005", "user": "chris", "title": "Install #5 (moved)",
                             "start": "2026-12-09T13:00", "end": "2026-12-09T15:00"},
                            settings.bridge.timezone)
assert record is not None
store.apply([record], ["WO-006"])
store.close()
EOF
vdir sync >"$OUT/vdirsyncer-3.txt"
vdir sync >"$OUT/vdirsyncer-4.txt"
FOURTH=$(digest)

# ---------------------------------------------------------------- verdicts and summary
PYTHONPATH=$ROOT "$PY" - "$OUT" "$FIRST" "$SECOND" "$FOURTH" "$FILES" <<'EOF'
import re
import sys
from pathlib import Path

out, first, second, fourth, files_text = Path(sys.argv[1]), *sys.argv[2:6]
files = int(files_text)
failures: list[str] = []
_FEATURE = re.compile(r"^## (\S+)\nFeature support level found: (\S+)", re.M)


def features(name: str) -> dict[str, str]:
    """feature -> support level, from caldav-server-tester's verbose text report."""
    return dict(_FEATURE.findall((out / name).read_text()))


def grade(value: str | None) -> str:
    return value or "-"


ours, stock = features("tester-ours.txt"), features("tester-stock.txt")
diff = sorted(k for k in set(ours) | set(stock) if grade(ours.get(k)) != grade(stock.get(k)))
if diff:
    failures.append("personal calendar grades differ from stock Radicale: " + ", ".join(diff))
ipoint, stock_ro = features("tester-ipoint.txt"), features("tester-stock-readonly.txt")
ro_diff = sorted(k for k in set(ipoint) | set(stock_ro)
                 if grade(ipoint.get(k)) != grade(stock_ro.get(k)))
if ro_diff:
    failures.append("read-only checks on the iPoint calendar differ: " + ", ".join(ro_diff))
for key in ("get-current-user-principal", "propfind", "auth.www-authenticate"):
    if grade(ipoint.get(key)) != "full":
        failures.append(f"read-only check {key} is not 'full' on the iPoint calendar")

runs = [(out / f"vdirsyncer-{i}.txt").read_text() for i in (1, 2, 3, 4)]
copied = runs[0].count("Copying (uploading)")
if copied != 20 or files != 20:
    failures.append(f"first vdirsyncer run copied {copied} items, folder has {files} (want 20)")
for n in (2, 4):
    if any(w in runs[n - 1] for w in ("Copying", "Deleting", "error", "critical")):
        failures.append(f"vdirsyncer run {n} changed something:\n{runs[n - 1]}")
if first != second:
    failures.append("the folder changed on the second vdirsyncer run")
if "Copying (updating) item ipoint-WO-005" not in runs[2] or "Deleting item ipoint-WO-006" not in runs[2]:
    failures.append(f"an iPoint change and deletion did not propagate:\n{runs[2]}")

lines = [
    "# Conformance results",
    "",
    "## caldav-server-tester on a personal calendar (ours vs stock Radicale 3.9)",
    f"Features graded: {len(ours)} (ours), {len(stock)} (stock); differences: "
    + (", ".join(diff) or "none"),
    "",
    "| feature | ours | stock |",
    "|---|---|---|",
    *(f"| {k} | {grade(ours.get(k))} | {grade(stock.get(k))} |" for k in sorted(ours)),
    "",
    "## Read-only checks on an iPoint calendar",
    "",
    "| feature | iPoint calendar | stock (personal) |",
    "|---|---|---|",
    *(f"| {k} | {grade(ipoint.get(k))} | {grade(stock_ro.get(k))} |"
      for k in sorted(ipoint)),
    "",
    "## vdirsyncer one-way sync of an iPoint calendar",
    f"- run 1: {copied} items copied into the folder ({files} files)",
    f"- run 2: {'no change' if first == second and 'Copying' not in runs[1] else 'CHANGED'}",
    "- run 3 (after an update and a deletion in iPoint): "
    + "; ".join(line for line in runs[2].splitlines() if not line.startswith("Syncing")),
    f"- run 4: {'no change' if 'Copying' not in runs[3] and 'Deleting' not in runs[3] else 'CHANGED'}",
    "",
    "Verdict: " + ("PASS" if not failures else "FAIL"),
]
summary = "\n".join(lines) + "\n"
(out / "summary.md").write_text(summary)
print(summary)
for failure in failures:
    print("FAIL:", failure, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF
