# Shared shell helpers for hsnic's build scripts. Source, don't run.

HSNIC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HSNIC_CACHE=${HSNIC_CACHE:-$HOME/.cache/hsnic}
export HSNIC_TOP HSNIC_CACHE
mkdir -p "$HSNIC_CACHE"

log() { printf '[%s] %s\n' "${HSNIC_STEP:-hsnic}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# hash_inputs FILE|DIR...: short content hash of files (names and bytes).
hash_inputs() {
	local f
	for f in "$@"; do
		if [ -d "$f" ]; then
			find "$f" -type f ! -name '*.o' ! -name '*.ko' ! -name '.*' \
				-print0 | sort -z | xargs -0 -r sha256sum
		elif [ -e "$f" ]; then
			sha256sum "$f"
		else
			echo "missing $f"
		fi
	done | sed "s|$HSNIC_TOP/||" | sha256sum | cut -c1-16
}

# run_logged LOGFILE CMD...: run quietly into a log, print its tail on error.
run_logged() {
	local logf=$1
	shift
	if ! "$@" >"$logf" 2>&1; then
		log "command failed: $*"
		tail -n 40 "$logf" >&2
		return 1
	fi
}

# Progress for long steps: every 30 s while PID lives, print the elapsed
# time and, given a log file, the last progress mark in it (ninja's
# "[N/M]"; kbuild's last built object).
with_heartbeat() {
	local what=$1 progress_log=""
	shift
	if [ "${1:-}" = run_logged ]; then
		progress_log=$2
	fi
	"$@" &
	local pid=$! start=$SECONDS next=$((SECONDS + 30)) mark
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		if [ $SECONDS -ge $next ] && kill -0 "$pid" 2>/dev/null; then
			next=$((next + 30))
			mark=""
			if [ -n "$progress_log" ] && [ -f "$progress_log" ]; then
				# (no match is fine: the callers run with errexit)
				mark=$(tail -c 4096 "$progress_log" | tr '\r' '\n' |
					grep -oE '^\[[0-9]+/[0-9]+\]|^  (CC|LD|AR)[^ ]* +[^ ]+' |
					tail -n 1 | tr -s ' ' | sed 's/^ //') || mark=""
			fi
			log "$what: $((SECONDS - start)) s${mark:+ ($mark)}"
		fi
	done
	wait "$pid"
}
