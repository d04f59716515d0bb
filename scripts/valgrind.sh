#!/usr/bin/env bash
# `make valgrind`: librelay's tests under valgrind's memcheck, in a build
# without sanitizers (build-valgrind/; ASan and valgrind do not mix). A
# second opinion next to `make check`'s ASan/UBSan run: uninitialised reads
# (which ASan does not see) and leaks, definite or indirect, fail it.
#
#   scripts/valgrind.sh [CTEST_REGEX]   (default: the client's tests)
#
# Each test runs as ctest would run it (its command line and environment,
# read from `ctest --show-only=json-v1`), with valgrind in front of it;
# the servers a test starts (relayd, sipp) run natively.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${VALGRIND_DIR:-build-valgrind}
REGEX=${1:-'^unit\.test_(client_|golden)|^integration\.test_(client_|examples)'}
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh installs it)" >&2; exit 1; }
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Debug -DRELAY_SANITIZE=OFF -DRELAY_TESTS=ON >/dev/null
cmake --build "$B" -j "$(nproc)" >/dev/null
mkdir -p "$B/valgrind"
ctest --test-dir "$B" --show-only=json-v1 -R "$REGEX" > "$B/valgrind/tests.json"
python3 - "$B" <<'PY'
import json, os, subprocess, sys, time
b = sys.argv[1]
tests = json.load(open(f"{b}/valgrind/tests.json"))["tests"]
supp = os.path.abspath("tests/valgrind.supp")
failed = []
for t in tests:
    env = dict(os.environ)
    for p in t.get("properties", []):
        if p["name"] == "ENVIRONMENT":
            for kv in p["value"]:
                k, _, v = kv.partition("=")
                env[k] = v
    log = os.path.abspath(f"{b}/valgrind/{t['name']}.log")
    cmd = ["valgrind", "--error-exitcode=99", "--leak-check=full",
           "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
           "--track-origins=yes", f"--suppressions={supp}", f"--log-file={log}"] + t["command"]
    cwd = next((p["value"] for p in t.get("properties", []) if p["name"] == "WORKING_DIRECTORY"),
               os.path.dirname(t["command"][0]))
    start = time.time()
    rc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode
    summary = [l.split("== ", 1)[-1].strip() for l in open(log) if "ERROR SUMMARY" in l]
    print(f"{t['name']:45s} rc={rc:<3d} {time.time() - start:6.1f} s  {summary[-1] if summary else ''}")
    if rc != 0:
        failed.append(t["name"])
if failed:
    print("valgrind: FAILED:", " ".join(failed), f"(logs in {b}/valgrind/)")
    sys.exit(1)
print(f"valgrind: {len(tests)} test programs clean")
PY
