#!/bin/sh
# Load test of a signed-in request: wrk against the same handler served
# bare, and behind RequireLogin with a memory store, a bolt store and a
# Redis store (redis, which serves a session it has read from memory and
# Redis invalidates; and redisnc, with that client-side caching off: a
# GET per request), in one run on loopback. Prints requests/sec and p99
# latency per route, the throughput ratios of each store to bare, and for
# Redis the commands per request, counted by Redis itself (INFO
# commandstats).
#
# The script starts its own redis-server on a free loopback port, with
# its data in a temp dir, and stops it at the end. Without redis-server
# (or with NO_REDIS=1) the redis route is left out.
#
# The server, wrk and Redis share this machine's cores, so compare the
# ratios of one run, not absolute numbers across machines or runs. On a
# busy machine one round's ratios swing by ±0.2; ROUNDS=3 repeats the
# routes in rotated order and reports the median ratios.
#
#   bench/run.sh                 # 10 s per route, one round
#   DURATION=5s ROUNDS=3 bench/run.sh
set -eu

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-1}
NO_REDIS=${NO_REDIS:-}

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
redis_pid=""
cleanup() {
	for p in $pid $redis_pid; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

routes="bare mem bolt"
redis_flag=""
if [ -z "$NO_REDIS" ] && command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
	# A random port; another try when something already listens there.
	tries=0
	while :; do
		tries=$((tries + 1))
		redis_port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		mkdir -p "$tmp/redis"
		redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" \
			--appendonly yes --save "" --logfile "$tmp/redis.log" --daemonize no &
		redis_pid=$!
		i=0
		while [ "$i" -lt 50 ] && kill -0 "$redis_pid" 2>/dev/null &&
			[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" != PONG ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; then
			break
		fi
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
		redis_pid=""
		if [ "$tries" -ge 5 ]; then
			echo "bench/run.sh: redis-server did not start:" >&2
			cat "$tmp/redis.log" >&2
			exit 1
		fi
	done
	routes="bare mem bolt redis redisnc"
	redis_flag="-redis-url=redis://127.0.0.1:$redis_port/0"
	echo "== redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$redis_port (appendonly)"
else
	echo "== redis-server or redis-cli missing (or NO_REDIS set): no redis route (sudo apt-get install -y redis-server)"
fi

# Build first, so the server starts at once and compile time is not
# mistaken for a hung server.
$GO build -o "$tmp/server" ./bench/server
# shellcheck disable=SC2086 # redis_flag is one word or none
"$tmp/server" -out "$tmp/env" $redis_flag &
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

# bench NAME ROUND: one wrk run of route NAME into $tmp/NAME.ROUND. It
# fails when the route does not answer 200 first (a redirect to sign-in
# would be fast and meaningless) and when wrk saw any response that is not
# 2xx or 3xx. For redis it also counts Redis's commands during the run.
bench() {
	case $1 in
	bare) url=$BARE_URL cookie= ;;
	mem) url=$MEM_URL cookie=$MEM_COOKIE ;;
	bolt) url=$BOLT_URL cookie=$BOLT_COOKIE ;;
	redis) url=$REDIS_ROUTE_URL cookie=$REDIS_COOKIE ;;
	redisnc) url=$REDISNC_ROUTE_URL cookie=$REDISNC_COOKIE ;;
	esac
	out="$tmp/$1.$2"
	if command -v curl >/dev/null 2>&1; then
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$url" || true)
		if [ "$code" != 200 ]; then
			echo "bench/run.sh: $url answered ${code:-nothing}, not 200" >&2
			exit 1
		fi
	fi
	case $1 in redis*) redis-cli -p "$redis_port" config resetstat >/dev/null ;; esac
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
	case $1 in redis*)
		# Commands per request: Redis's own counters over wrk's request
		# count (requests still in flight when wrk stops make the
		# ratio a hair high, never low).
		reqs=$(awk '/requests in/ {print $1}' "$out")
		redis-cli -p "$redis_port" info commandstats | tr -d '\r' >"$out.stats"
		awk -F'[:,=]' -v n="$reqs" '
			/^cmdstat_/ && $1 != "cmdstat_info" && $1 !~ /^cmdstat_config/ {
				cmd = substr($1, 9); calls[cmd] = $3; total += $3
			}
			END {
				printf "redis commands per request: total %.4f", total / n
				for (c in calls) printf "  %s %.4f", c, calls[c] / n
				printf "  (%d requests)\n", n
			}' "$out.stats" | tee "$out.ops"
		;;
	esac
}

nroutes=$(echo "$routes" | wc -w)
# Rotate the order each round, so no route always runs first or last.
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order=$(echo "$routes" | awk -v k=$(((r - 1) % nroutes)) '{
		for (i = 0; i < NF; i++) printf "%s ", $((i + k) % NF + 1)
	}')
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
	line=""
	for name in $routes; do
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/$name.$r")
		p99=$(awk '$1 == "99%" {print $2}' "$tmp/$name.$r")
		printf 'round %d  %-7s %12s req/s   p99 %s\n' "$r" "$name" "$rps" "$p99"
		line="$line $name=$rps"
	done
	echo "$line" | awk -v r="$r" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2]; name[i] = kv[1] }
		printf "round %d  ratio", r
		for (i = 2; i <= NF; i++) {
			printf "  %s/bare %.3f", name[i], v[name[i]] / v["bare"]
			printf "%s %f\n", name[i], v[name[i]] / v["bare"] > "/dev/stderr"
		}
		printf "\n"
	}' 2>>"$tmp/ratios"
	for name in redis redisnc; do
		if [ -f "$tmp/$name.$r.ops" ]; then
			printf 'round %d  %-7s ' "$r" "$name"
			cat "$tmp/$name.$r.ops"
		fi
	done
	r=$((r + 1))
done
if [ "$ROUNDS" -gt 1 ]; then
	for name in $routes; do
		[ "$name" = bare ] && continue
		awk -v n="$name" '$1 == n {print $2}' "$tmp/ratios" | sort -n |
			awk -v l="$name/bare" '{v[NR] = $1} END {
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "median ratio %-10s %.3f\n", l, m
			}'
	done
fi
