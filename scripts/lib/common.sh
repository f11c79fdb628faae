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

# Progress for long steps: print a dot line every 30 s while PID lives.
with_heartbeat() {
	local what=$1
	shift
	"$@" &
	local pid=$! start=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ $(((SECONDS - start) % 30)) -lt 5 ] && kill -0 "$pid" 2>/dev/null; then
			log "$what: $((SECONDS - start)) s"
		fi
	done
	wait "$pid"
}
