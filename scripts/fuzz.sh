#!/bin/bash
# Build qemu-fuzz-x86_64 (scripts/build-qemu-fuzz.sh) and run hsnic's
# libFuzzer targets (docs/fuzzing.md).
#
#   scripts/fuzz.sh                 every target, FUZZ_SECONDS each
#   FUZZ_TARGET=hsnic-rx scripts/fuzz.sh
#   FUZZ_PARALLEL=1 scripts/fuzz.sh all targets at once (one core each)
#   scripts/fuzz.sh --repro TARGET FILE...   run inputs once (a crash's
#                                   stack trace, or "no crash")
#
# Per target, under $HSNIC_CACHE/fuzz/<target>/: corpus/ (kept between
# runs), crashes/ (libFuzzer's crash-*, leak-*, timeout-*, oom-* files),
# logs/. A run that finds a crash is restarted with the time left, so a
# long run reports every distinct crash it meets. Exits 1 if a crash was
# found, 2 on a setup error.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
HSNIC_STEP=fuzz

ALL_TARGETS="generic-fuzz-hsnic hsnic-rx hsnic-tx"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGET=${FUZZ_TARGET:-}
FUZZ_PARALLEL=${FUZZ_PARALLEL:-0}
# Fuzzing is a background job: never compete with foreground work.
NICE=(nice -n "${FUZZ_NICE:-19}")
# Restarts after crashes, per target and run.
MAX_RESTARTS=${FUZZ_MAX_RESTARTS:-20}

bin=$("${NICE[@]}" "$HSNIC_TOP/scripts/build-qemu-fuzz.sh") ||
	die "building the fuzzer failed"
version=$(cat "$(dirname "$bin")/VERSION")
src=$HSNIC_CACHE/qemu-fuzz-build/$version/src

# UBSan reports are crashes too; leaks of QEMU itself are suppressed as
# in QEMU's OSS-Fuzz setup.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:symbolize=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
if [ -f "$src/scripts/oss-fuzz/lsan_suppressions.txt" ]; then
	export LSAN_OPTIONS=suppressions=$src/scripts/oss-fuzz/lsan_suppressions.txt
fi

# Arguments for one target: libFuzzer options and its extra corpus dirs.
target_args() {
	case $1 in
	hsnic-rx | hsnic-tx)
		echo "-max_len=8192"
		;;
	generic-fuzz-hsnic)
		echo "-max_len=4096"
		;;
	*)
		die "unknown fuzz target $1 (one of: $ALL_TARGETS)"
		;;
	esac
}

# Seeds shipped in the repository, regenerated for every run.
seed_dir() {
	local t=$1 dir=$HSNIC_CACHE/fuzz/$1/seeds
	case $t in
	hsnic-rx)
		rm -rf "$dir"
		/usr/bin/python3 "$HSNIC_TOP/tests/fuzz/rx_seeds.py" "$dir"
		echo "$dir"
		;;
	hsnic-tx)
		rm -rf "$dir"
		/usr/bin/python3 "$HSNIC_TOP/tests/fuzz/tx_seeds.py" "$dir"
		echo "$dir"
		;;
	esac
}

if [ "${1:-}" = --repro ]; then
	[ $# -ge 3 ] || die "usage: $0 --repro TARGET FILE..."
	t=$2
	shift 2
	# shellcheck disable=SC2046
	exec "${NICE[@]}" "$bin" --fuzz-target="$t" $(target_args "$t") \
		-runs=1 "$@"
fi

# run_target TARGET: fuzz for FUZZ_SECONDS, print a summary line, return
# 1 if it found a crash.
run_target() {
	local t=$1 dir=$HSNIC_CACHE/fuzz/$1
	local corpus=$dir/corpus crashes=$dir/crashes logs=$dir/logs
	local seeds stamp end left n=0 found=0 execs=0 rate cov ft log
	local -a logs_run=()

	mkdir -p "$corpus" "$crashes" "$logs"
	seeds=$(seed_dir "$t")
	stamp=$(date -u +%Y%m%dT%H%M%S)
	end=$((SECONDS + FUZZ_SECONDS))
	while left=$((end - SECONDS)) && [ "$left" -gt 0 ] &&
		[ "$n" -le "$MAX_RESTARTS" ]; do
		log=$logs/$stamp-$n.log
		logs_run+=("$log")
		log "$t: fuzzing for $left s (log $log)"
		# shellcheck disable=SC2046
		if "${NICE[@]}" "$bin" --fuzz-target="$t" $(target_args "$t") \
			-max_total_time="$left" -print_final_stats=1 \
			-timeout=30 -rss_limit_mb=4096 -close_fd_mask=1 \
			-artifact_prefix="$crashes/" "$corpus" ${seeds:+"$seeds"} \
			>"$log" 2>&1; then
			:
		elif grep -q 'Test unit written to' "$log"; then
			found=$((found + 1))
			log "$t: CRASH: $(grep -m1 -E '^==[0-9]+==ERROR|runtime error|deadly signal|timeout after|out-of-memory' "$log" || true)"
			log "$t: $(grep -m1 'Test unit written to' "$log")"
		else
			log "$t: the fuzzer failed without a crash file:"
			tail -n 20 "$log" >&2
			return 2
		fi
		n=$((n + 1))
	done

	# Totals over the restarts. libFuzzer's final stats give the exec
	# counts; the last status line gives coverage.
	for log in "${logs_run[@]}"; do
		execs=$((execs + $(sed -n 's/^stat::number_of_executed_units: //p' "$log" | tail -n1 | grep . || echo 0)))
	done
	rate=$((execs / (FUZZ_SECONDS > 0 ? FUZZ_SECONDS : 1)))
	cov=$(grep -hoE 'cov: [0-9]+' "${logs_run[@]}" | tail -n1 | cut -d' ' -f2)
	ft=$(grep -hoE 'ft: [0-9]+' "${logs_run[@]}" | tail -n1 | cut -d' ' -f2)
	echo "fuzz $t: ${execs} execs (${rate}/s), cov ${cov:-?} ft ${ft:-?}," \
		"corpus $(find "$corpus" -type f | wc -l) files," \
		"crashes this run: $found (all kept in $crashes)"
	[ "$found" -eq 0 ]
}

targets=${FUZZ_TARGET:-$ALL_TARGETS}
for t in $targets; do
	target_args "$t" >/dev/null
done

log "binary: $bin"
rc=0
summary=$(mktemp)
trap 'rm -f "$summary" "$summary".*' EXIT
if [ "$FUZZ_PARALLEL" = 1 ]; then
	pids=()
	for t in $targets; do
		(run_target "$t" >"$summary.$t") &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=$((rc > $? ? rc : $?))
	done
	for t in $targets; do
		cat "$summary.$t" >>"$summary"
	done
else
	for t in $targets; do
		run_target "$t" >>"$summary" || rc=$((rc > $? ? rc : $?))
	done
fi

echo "==== fuzz summary (${FUZZ_SECONDS} s per target) ===="
cat "$summary"
if [ "$rc" -eq 1 ]; then
	echo "CRASHES FOUND: see the crashes/ directories above and docs/fuzzing.md"
elif [ "$rc" -ne 0 ]; then
	echo "FUZZING FAILED (setup error)"
else
	echo "no crashes"
fi
exit "$rc"
