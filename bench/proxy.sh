#!/bin/sh
# Load test of the authenticating proxies, signed in, in one run on
# loopback: wrk against a hello upstream directly (upstream), through a
# bare httputil.ReverseProxy with a tuned transport and nothing else
# (bare), through the same bare proxy adding fixed headers the size of
# entraweb's identity headers for the user (bareid: what sending them
# costs by itself, in the proxy, the kernel and the upstream), through
# `entraweb proxy` (entraweb: sessions in its default bolt
# store, the signed assertion and Easy Auth headers on, Prometheus metrics
# on, no access log), and through oauth2-proxy v7.15.4 (oauth2proxy:
# cookie sessions, OIDC provider, no request log), both signed in to the
# same emulator. Prints requests/sec and p99 per target, each as a ratio
# to the upstream, and entraweb's ratios to oauth2-proxy and to the two
# bare proxies.
#
# oauth2-proxy is built once in a throwaway module outside the repository
# (a module that requires github.com/oauth2-proxy/oauth2-proxy/v7 v7.15.4,
# go mod tidy, go build; `go install ...@v7.15.4` does not work here) and
# kept in ${XDG_CACHE_HOME:-$HOME/.cache}/entraweb-bench. OAUTH2_PROXY=path
# uses a binary of your own; NO_OAUTH2_PROXY=1 leaves it out. ENTRAWEB_BIN
# runs an entraweb binary of your own instead of building one.
#
# Everything shares this machine's cores: compare the ratios of one run.
# ROUNDS=3 repeats the targets in rotated order and reports medians.
#
#   bench/proxy.sh                    # 10 s per target, one round
#   DURATION=5s ROUNDS=3 bench/proxy.sh
set -eu

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-1}
O2P_VERSION=v7.15.4

cd "$(dirname "$0")/.."
GO=${GO:-go}
repo=$(pwd)

for cmd in wrk curl; do
	if ! command -v $cmd >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ]; then
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl
		else
			echo "bench/proxy.sh: $cmd is missing (sudo apt-get install -y wrk curl)" >&2
			exit 1
		fi
	fi
done

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A free loopback port: bind :0, read it back, release it.
freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# waitfor URL: until it answers at all (any status), at most 60 s.
waitfor() {
	i=0
	until curl -s -o /dev/null "$1"; do
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then
			echo "bench/proxy.sh: $1 did not answer within 60s" >&2
			exit 1
		fi
		sleep 0.1
	done
}

targets="upstream bare bareid entraweb"
o2p=""
if [ -z "${NO_OAUTH2_PROXY:-}" ]; then
	if [ -n "${OAUTH2_PROXY:-}" ]; then
		o2p=$OAUTH2_PROXY
	else
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/entraweb-bench
		o2p=$cache/oauth2-proxy-$O2P_VERSION
		if [ ! -x "$o2p" ]; then
			echo "== building oauth2-proxy $O2P_VERSION in a throwaway module (once; kept in $cache)"
			mkdir -p "$cache" "$tmp/o2p"
			cat >"$tmp/o2p/go.mod" <<EOF
module o2pbuild

go 1.26.0

require github.com/oauth2-proxy/oauth2-proxy/v7 $O2P_VERSION
EOF
			cat >"$tmp/o2p/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/oauth2-proxy/oauth2-proxy/v7"
EOF
			if ! (cd "$tmp/o2p" && $GO mod tidy && $GO build -o "$o2p" github.com/oauth2-proxy/oauth2-proxy/v7) >"$tmp/o2p.log" 2>&1; then
				tail -20 "$tmp/o2p.log" >&2
				echo "bench/proxy.sh: could not build oauth2-proxy; NO_OAUTH2_PROXY=1 leaves it out" >&2
				exit 1
			fi
		fi
	fi
	targets="$targets oauth2proxy"
fi

echo "== building entraweb and the helper"
if [ -n "${ENTRAWEB_BIN:-}" ]; then
	cp "$ENTRAWEB_BIN" "$tmp/entraweb" # a binary of your own (a profiling build)
else
	$GO build -o "$tmp/entraweb" ./cmd/entraweb
fi
$GO build -o "$tmp/proxybench" ./bench/proxybench

"$tmp/proxybench" env -out "$tmp/env" &
env_pid=$!
pids="$pids $env_pid"
i=0
while [ ! -f "$tmp/env" ]; do
	i=$((i + 1))
	if [ "$i" -gt 600 ]; then
		echo "bench/proxy.sh: the emulator was not ready within 60s" >&2
		exit 1
	fi
	sleep 0.1
done
. "$tmp/env"

bare_port=$(freeport)
# BARE_PPROF=127.0.0.1:6061 serves the baseline's profiles.
"$tmp/proxybench" bare -listen "127.0.0.1:$bare_port" -upstream "$UPSTREAM_URL" ${BARE_PPROF:+-pprof "$BARE_PPROF"} >/dev/null &
bare_pid=$!
pids="$pids $bare_pid"
bareid_port=$(freeport)
"$tmp/proxybench" bare -listen "127.0.0.1:$bareid_port" -upstream "$UPSTREAM_URL" -identity-sized-headers >/dev/null &
bareid_pid=$!
pids="$pids $bareid_pid"

ew_port=$(freeport)
metrics_port=$(freeport)
mkdir -p "$tmp/ew"
(cd "$tmp/ew" && exec env -u ASPNETCORE_ENVIRONMENT -u DOTNET_ENVIRONMENT \
	AzureAd__Instance="$EMU_URL/" AzureAd__TenantId="$TENANT_ID" \
	AzureAd__ClientId="$CLIENT_ID" AzureAd__ClientSecret="$CLIENT_SECRET" \
	SSL_CERT_FILE="$CA_FILE" \
	"$tmp/entraweb" proxy -upstream "$UPSTREAM_URL" -listen "127.0.0.1:$ew_port" \
	-state-dir "$tmp/ew/state" -metrics-listen "127.0.0.1:$metrics_port" -quiet >"$tmp/ew.log" 2>&1) &
ew_pid=$!
pids="$pids $ew_pid"

if [ -n "$o2p" ]; then
	o2p_port=$(freeport)
	SSL_CERT_FILE="$CA_FILE" "$o2p" \
		--provider=oidc --oidc-issuer-url="$EMU_URL/$TENANT_ID/v2.0" \
		--client-id="$CLIENT_ID" --client-secret="$CLIENT_SECRET" \
		--cookie-secret="$(head -c 32 /dev/urandom | base64 | tr -d '\n' | head -c 32)" \
		--cookie-secure=false --email-domain='*' --insecure-oidc-allow-unverified-email \
		--upstream="$UPSTREAM_URL" --http-address="127.0.0.1:$o2p_port" \
		--redirect-url="http://127.0.0.1:$o2p_port/oauth2/callback" \
		--skip-provider-button --request-logging=false >"$tmp/o2p-run.log" 2>&1 &
	o2p_pid=$!
	pids="$pids $o2p_pid"
fi

waitfor "http://127.0.0.1:$bare_port/"
waitfor "http://127.0.0.1:$bareid_port/"
waitfor "http://127.0.0.1:$ew_port/healthz"
if [ -n "$o2p" ]; then
	waitfor "http://127.0.0.1:$o2p_port/ping"
fi

# Sign the demo user in at each proxy, as a browser would.
signin() {
	c=$(curl -s -f -G --data-urlencode "url=$1" --data-urlencode "cookie=$2" "$CONTROL_URL/signin") || {
		echo "bench/proxy.sh: signing in at $1 failed:" >&2
		curl -s -G --data-urlencode "url=$1" --data-urlencode "cookie=$2" "$CONTROL_URL/signin" >&2 || true
		cat "$tmp/ew.log" "$tmp/o2p-run.log" 2>/dev/null | tail -20 >&2
		exit 1
	}
	echo "$c"
}
ew_cookie=$(signin "http://127.0.0.1:$ew_port/" entraweb_session)
if [ -n "$o2p" ]; then
	o2p_cookie=$(signin "http://127.0.0.1:$o2p_port/" _oauth2_proxy)
fi

# cpu PID: the CPU time the process has used, in clock ticks.
cpu() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}
ticks=$(getconf CLK_TCK)
# Read and write system calls of a process so far (sockets included).
syscalls() {
	awk '$1 == "syscr:" {r = $2} $1 == "syscw:" {w = $2} END {print r, w}' "/proc/$1/io"
}

# bench NAME ROUND: one wrk run into $tmp/NAME.ROUND. It fails when the
# target does not answer "hello" signed in first (a redirect to sign-in
# would be fast and meaningless) and when wrk saw any response that is
# not 2xx or 3xx.
bench() {
	case $1 in
	upstream) url=$UPSTREAM_URL/ cookie= pid=$env_pid ;;
	bare) url=http://127.0.0.1:$bare_port/ cookie= pid=$bare_pid ;;
	bareid) url=http://127.0.0.1:$bareid_port/ cookie= pid=$bareid_pid ;;
	entraweb) url=http://127.0.0.1:$ew_port/ cookie=$ew_cookie pid=$ew_pid ;;
	oauth2proxy) url=http://127.0.0.1:$o2p_port/ cookie=$o2p_cookie pid=$o2p_pid ;;
	esac
	body=$(curl -s -H "Cookie: $cookie" -H "X-Bench-Probe: 1" "$url" || true)
	if [ "$body" != hello ]; then
		echo "bench/proxy.sh: $1 ($url) did not answer hello signed in: $(echo "$body" | head -c 300)" >&2
		exit 1
	fi
	idbytes=$(curl -s "$CONTROL_URL/identity-bytes")
	out="$tmp/$1.$2"
	echo "== $1 (round $2): wrk -t$THREADS -c$CONNS -d$DURATION --latency $url"
	echo "identity headers reaching the upstream: $idbytes bytes" >"$out.id"
	before=$(cpu "$pid")
	io_before=$(syscalls "$pid")
	if [ -n "$cookie" ]; then
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "Cookie: $cookie" "$url" >"$out"
	else
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$out"
	fi
	after=$(cpu "$pid")
	io_after=$(syscalls "$pid")
	# The CPU the target's own process spent per request (the proxy's,
	# or for upstream the helper that serves it): unlike throughput, it
	# hardly depends on what else the machine is doing.
	awk -v b="$before" -v a="$after" -v hz="$ticks" '/requests in/ {
		printf "cpu: %.1f us per request in the process (%.2f s for %d requests)\n", (a - b) / hz * 1e6 / $1, (a - b) / hz, $1
	}' "$out" >>"$out"
	awk -v b="$io_before" -v a="$io_after" '/requests in/ {
		split(b, x, " "); split(a, y, " ")
		printf "syscalls: %.2f reads and %.2f writes per request in the process\n", (y[1] - x[1]) / $1, (y[2] - x[2]) / $1
	}' "$out" >>"$out"
	cat "$out.id" "$out"
	if grep -q 'Non-2xx or 3xx' "$out"; then
		echo "bench/proxy.sh: $1 had error responses" >&2
		exit 1
	fi
}

n=$(echo "$targets" | wc -w)
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order=$(echo "$targets" | awk -v k=$(((r - 1) % n)) '{
		for (i = 0; i < NF; i++) printf "%s ", $((i + k) % NF + 1)
	}')
	for name in $order; do
		bench "$name" "$r"
	done
	r=$((r + 1))
done

# The signed-in request counted in entraweb's own metrics: a check that
# the load went through sign-in and the upstream, not around them.
ew_upstream=$(curl -s "http://127.0.0.1:$metrics_port/metrics" |
	awk '/^entraweb_proxy_requests_total\{class="upstream",code="200"\}/ {print $2}')

# bareid stands for entraweb's identity headers only if it sends as many
# bytes of them.
ew_id=$(awk '{print $6}' "$tmp/entraweb.1.id")
bareid_id=$(awk '{print $6}' "$tmp/bareid.1.id")
if [ "$(awk -v a="$ew_id" -v b="$bareid_id" 'BEGIN {d = a - b; if (d < 0) d = -d; print (a + 0 <= 0 || d > a / 20) ? 1 : 0}')" = 1 ]; then
	echo "bench/proxy.sh: bareid sends $bareid_id bytes of identity headers, entraweb $ew_id: update identityHeaders in bench/proxybench" >&2
	exit 1
fi

echo
echo "== summary (wrk -t$THREADS -c$CONNS -d$DURATION, loopback, $ROUNDS round(s); $(nproc) cores)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	line=""
	for name in $targets; do
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/$name.$r")
		p99=$(awk '$1 == "99%" {print $2}' "$tmp/$name.$r")
		cpuus=$(awk '/^cpu:/ {print $2}' "$tmp/$name.$r")
		printf 'round %d  %-12s %12s req/s   p99 %-9s cpu %6s us/req\n' "$r" "$name" "$rps" "$p99" "$cpuus"
		line="$line $name=$rps"
	done
	echo "$line" | awk -v r="$r" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "round %d  ratios: bare/upstream %.3f  entraweb/upstream %.3f", r, v["bare"] / v["upstream"], v["entraweb"] / v["upstream"]
		if ("oauth2proxy" in v) printf "  oauth2proxy/upstream %.3f", v["oauth2proxy"] / v["upstream"]
		printf "\n         entraweb/bare %.3f  bareid/bare %.3f  entraweb/bareid %.3f", v["entraweb"] / v["bare"], v["bareid"] / v["bare"], v["entraweb"] / v["bareid"]
		if ("oauth2proxy" in v) printf "  entraweb/oauth2proxy %.2f", v["entraweb"] / v["oauth2proxy"]
		printf "\n"
		printf "%f %f %f\n", v["entraweb"] / v["bare"], ("oauth2proxy" in v) ? v["entraweb"] / v["oauth2proxy"] : 0, v["entraweb"] / v["bareid"] > "/dev/stderr"
	}' 2>>"$tmp/ratios"
	r=$((r + 1))
done
if [ "$ROUNDS" -gt 1 ]; then
	sort -n -k1 "$tmp/ratios" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) {printf "median entraweb/bare %.3f\n", $1}'
	sort -n -k2 "$tmp/ratios" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) && $2 > 0 {printf "median entraweb/oauth2proxy %.2f\n", $2}'
	sort -n -k3 "$tmp/ratios" | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) {printf "median entraweb/bareid %.3f\n", $3}'
fi
echo "entraweb's metrics counted $ew_upstream signed-in requests answered 200 by the upstream"
echo "targets: entraweb/bare >= 0.85, entraweb/oauth2proxy >= 3.5"
