#!/bin/sh
# run.sh - build every libFuzzer target in tests/fuzz with clang
# (-fsanitize=fuzzer,address,undefined) and run each for SECONDS (default 20)
# from its seed corpus.  Prints "N passed, N failed".
#   usage: tests/fuzz/run.sh [SECONDS]
set -u
secs=${1:-${FUZZ_SECONDS:-8}}
command -v "${FUZZ_CC:-clang}" >/dev/null || { echo "no clang: skipped"; exit 77; }
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$(mktemp -d)}
[ -n "${FUZZ_OUT:-}" ] || trap 'rm -rf "$out"' EXIT
CC=${FUZZ_CC:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
flags="$flags -D_GNU_SOURCE -DPKGLIBEXECDIR=\"/x\" -DSYSCONFDIR=\"/x\" -I$top/lib -I$top/tunneld"
libs="$(pkg-config --cflags --libs libbsd-overlay libcrypto jansson libconfig zlib) -lcrypt"
lib="$top/lib/buf.c $top/lib/log.c $top/lib/util.c $top/lib/msg.c $top/lib/msgtypes.c \
 $top/lib/http.c $top/lib/digest.c $top/lib/hash.c $top/lib/oci.c $top/lib/conf.c $top/lib/conf_file.c \
 $top/lib/conf_rules.c $top/lib/conf_tunnel.c $top/lib/conf_cache.c $top/lib/retention.c $top/lib/acl.c $top/lib/b64.c $top/lib/jwt.c $top/lib/htpasswd.c $top/lib/authhdr.c $top/lib/wwwauth.c $top/lib/fwdmap.c \
 $top/lib/tframe.c $top/lib/swrr.c $top/lib/mtext.c $top/lib/mtext_check.c $top/lib/thread.c $top/tunneld/ctrl.c $top/tunneld/probe.c \
 $top/lib/tzip.c $top/lib/proxyv2.c $top/lib/gcbatch.c"
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
pass=0 fail=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	corpus_name=${name#fuzz_}
	# shellcheck disable=SC2086
	if ! $CC $flags -o "$out/$name" "$src" $lib $libs 2>"$out/$name.build"; then
		echo "FAIL: $name (build)"; cat "$out/$name.build"; fail=$((fail + 1)); continue
	fi
	mkdir -p "$out/corpus-$corpus_name"
	seeds="$top/tests/fuzz/corpus/$corpus_name"
	[ -d "$seeds" ] || seeds=""
	# shellcheck disable=SC2086
	if "$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 \
	    -artifact_prefix="$out/$name-" "$out/corpus-$corpus_name" $seeds \
	    >"$out/$name.log" 2>&1; then
		echo "PASS: $name ($(grep -o 'Done [0-9]* runs' "$out/$name.log"))"
		pass=$((pass + 1))
	else
		echo "FAIL: $name"; tail -30 "$out/$name.log"; fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
