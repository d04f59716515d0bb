#!/usr/bin/env bash
# `make fuzz`: every fuzz target (fuzz/) built with clang-14's libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, then run
# for FUZZ_SECONDS each (default 60), one after another, starting from the
# committed corpus. New inputs go to build-fuzz/corpus/<target>, never into
# the repository (copy an interesting one into fuzz/corpus/<target>/ by
# hand: `make check` replays those). Any crash, leak, timeout or
# out-of-memory fails the run; its reproducer is in build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [TARGET...]     (default: all; names as in fuzz/CMakeLists.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
B=${FUZZ_DIR:-build-fuzz}
CC_FUZZ=${CC_FUZZ:-clang-14}
command -v "$CC_FUZZ" >/dev/null || { echo "fuzz: $CC_FUZZ not found (scripts/deps.sh installs it)" >&2; exit 1; }

# Coverage for libFuzzer everywhere (-fsanitize=fuzzer-no-link); the
# targets themselves link -fsanitize=fuzzer. Warnings stay warnings here:
# the gcc build of `make check` is the one that treats them as errors.
cmake -S . -B "$B" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=Debug \
  -DRELAY_FUZZ=ON -DRELAY_TESTS=OFF -DRELAY_SANITIZE=ON -DRELAY_WERROR=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link -gline-tables-only" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n '/^set(FUZZ_TARGETS/,/)/p' fuzz/CMakeLists.txt |
    sed -e 's/set(FUZZ_TARGETS//' -e 's/)//' | tr ' ' '\n' | sed '/^$/d')
fi
cmake --build "$B" -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fails=0
for t in "${targets[@]}"; do
  mkdir -p "$B/corpus/$t" "$B/artifacts/$t"
  log=$B/fuzz_$t.log
  echo "fuzz: $t for ${SECS}s (log: $log)"
  # -timeout: one input taking 5 s is a hang worth a report;
  # -rss_limit_mb: a bounded parser does not need 2 GB
  if "$B/fuzz/fuzz_$t" "$B/corpus/$t" "fuzz/corpus/$t" -max_total_time="$SECS" \
       -timeout=5 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="$B/artifacts/$t/" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t clean: ${runs:-?} runs, ${cov:-cov ?}, corpus $(ls "$B/corpus/$t" | wc -l)"
  else
    echo "fuzz: $t FAILED; reproducer(s): $(ls "$B/artifacts/$t" | tr '\n' ' ')" >&2
    grep -m5 -E 'ERROR|runtime error|SUMMARY' "$log" >&2 || tail -20 "$log" >&2
    fails=$((fails + 1))
  fi
done
[ "$fails" = 0 ] && echo "fuzz: all ${#targets[@]} target(s) clean, ${SECS}s each" || exit 1
