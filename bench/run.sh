#!/bin/sh
# Load test of a signed-in request: wrk against the same handler served
# bare, behind RequireLogin with a memory store, and with a bolt store,
# in one run on loopback. Prints requests/sec and p99 latency per route
# and the throughput ratios mem/bare and bolt/bare.
#
# The server and wrk share this machine's cores, so compare the ratios of
# one run, not absolute numbers across machines or runs. On a busy
# machine one round's ratios swing by ±0.2; ROUNDS=3 repeats the three
# routes in rotated order and reports the median ratios.
#
#   bench/run.sh                 # 10 s per route, one round
#   DURATION=5s ROUNDS=3 bench/run.sh
set -eu

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-1}

cd "$(dirname "$0")/.."
GO=${GO:-go}

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
	else
		echo "bench/run.sh: wrk is missing (sudo apt-get install -y wrk)" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Build first, so the server starts at once and compile time is not
# mistaken for a hung server.
$GO build -o "$tmp/server" ./bench/server
"$tmp/server" -out "$tmp/env" &
pid=$!
i=0
while [ ! -f "$tmp/env" ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "bench/run.sh: the server exited before it was ready" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ "$i" -gt 600 ]; then
		echo "bench/run.sh: the server was not ready within 60s" >&2
		exit 1
	fi
	sleep 0.1
done
. "$tmp/env"

# bench NAME ROUND: one wrk run of route NAME (bare, mem or bolt) into
# $tmp/NAME.ROUND. It fails when the route does not answer 200 first (a
# redirect to sign-in would be fast and meaningless) and when wrk saw any
# response that is not 2xx or 3xx.
bench() {
	case $1 in
	bare) url=$BARE_URL cookie= ;;
	mem) url=$MEM_URL cookie=$MEM_COOKIE ;;
	bolt) url=$BOLT_URL cookie=$BOLT_COOKIE ;;
	esac
	out="$tmp/$1.$2"
	if command -v curl >/dev/null 2>&1; then
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url" || true)
		if [ "$code" != 200 ]; then
			echo "bench/run.sh: $url answered ${code:-nothing}, not 200" >&2
			exit 1
		fi
	fi
	echo "== $1 (round $2): wrk -t$THREADS -c$CONNS -d$DURATION --latency $url"
	if [ -n "$cookie" ]; then
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $cookie" "$url" >"$out"
	else
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$out"
	fi
	cat "$out"
	if grep -q 'Non-2xx or 3xx' "$out"; then
		echo "bench/run.sh: $1 had error responses" >&2
		exit 1
	fi
}

# Rotate the order each round, so no route always runs first or last.
r=1
while [ "$r" -le "$ROUNDS" ]; do
	case $((r % 3)) in
	1) order="bare mem bolt" ;;
	2) order="mem bolt bare" ;;
	0) order="bolt bare mem" ;;
	esac
	for name in $order; do
		bench "$name" "$r"
	done
	r=$((r + 1))
done

# Requests/sec and the p99 line of each run, the ratios of each round,
# and (over several rounds) their medians.
echo
echo "== summary (wrk -t$THREADS -c$CONNS -d$DURATION, loopback, $ROUNDS round(s))"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for name in bare mem bolt; do
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/$name.$r")
		p99=$(awk '$1 == "99%" {print $2}' "$tmp/$name.$r")
		printf 'round %d  %-5s %12s req/s   p99 %s\n' "$r" "$name" "$rps" "$p99"
		eval "rps_$name=$rps"
	done
	awk -v r="$r" -v b="$rps_bare" -v m="$rps_mem" -v o="$rps_bolt" 'BEGIN {
		printf "round %d  ratio mem/bare %.3f   bolt/bare %.3f\n", r, m / b, o / b
		printf "%f %f\n", m / b, o / b > "/dev/stderr"
	}' 2>>"$tmp/ratios"
	r=$((r + 1))
done
if [ "$ROUNDS" -gt 1 ]; then
	for col in 1 2; do
		label=$([ "$col" = 1 ] && echo mem/bare || echo bolt/bare)
		cut -d' ' -f"$col" "$tmp/ratios" | sort -n |
			awk -v l="$label" '{v[NR] = $1} END {
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "median ratio %-9s %.3f\n", l, m
			}'
	done
fi
