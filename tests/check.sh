#!/bin/sh
# check.sh - the whole test run from a clean clone: install what the build
# and the tests need (Debian packages, when root), build, run `make check`
# (unit tests with check, integration suites with real clients, a short
# fuzz run of every parser), and print one closing line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

./bootstrap --test || exit 1
./configure -q || exit 1
make -j2 >make.log 2>&1 || { tail -50 make.log; exit 1; }
make -j2 check >check.log 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.log

# Per-suite summaries, then the totals in one line.
pass=0 fail=0
for log in tests/unit/*.log; do
	[ -f "$log" ] || continue
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
	[ -n "$line" ] || { fail=$((fail + 1)); echo "$log: no summary"; continue; }
	echo "$(basename "$log" .log): $line"
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/')
	bad=$(( ${f% *} + ${f#* } ))
	pass=$((pass + n - bad)); fail=$((fail + bad))
done
for log in tests/integration/*.log tests/fuzz/*.log; do
	[ -f "$log" ] || continue
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	[ -n "$line" ] || { fail=$((fail + 1)); echo "$log: no summary"; continue; }
	echo "$(basename "$log" .log): $line"
	pass=$((pass + ${line%% passed*}))
	f=${line#*passed, }; fail=$((fail + ${f%% failed*}))
done
if [ "$rc" -ne 0 ]; then
	for log in $(grep -lE '^:test-result: (FAIL|ERROR)' tests/*/*.trs 2>/dev/null); do
		# Every failed check with the details below it, then the log's end.
		echo "=== ${log%.trs}.log: failed checks"
		awk '/^FAIL [0-9]+ - / { p = 1; n = 0 } p && n++ < 30 { print }
		    p && !/^FAIL / && !/^#/ { p = 0 }' "${log%.trs}.log" | head -200
		echo "=== ${log%.trs}.log: last lines"; tail -40 "${log%.trs}.log"
	done
	[ "$fail" -gt 0 ] || fail=1
fi
echo "$pass passed, $fail failed"
[ "$rc" -eq 0 ] && [ "$fail" -eq 0 ]
