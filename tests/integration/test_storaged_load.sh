#!/bin/bash
# test_storaged_load.sh - storaged under big manifests, end to end.
#
# What it tests:
#   - memory: 100 manifests carrying 1-2.5 MB of annotations each leave storaged's
#     resident memory (VmRSS, and its peak VmHWM) within tens of MB, and so does
#     the index a restarted storaged rebuilds from them (annotations that big stay
#     in the blobs, not in the index)
#   - referrers: the referrers of a subject with those 100 big referrers and 150 small
#     ones come in pages bounded in descriptors and bytes, linked by Link
#     rel="next"; following the Links yields every referrer exactly once, each
#     descriptor with the annotations of its manifest; the artifactType filter
#     pages the same way
#   - latency: while 8 clients (8 loopback addresses) push 3.8 MB manifests in a loop
#     for 10 s, another client's GET /v2/ (which asks storaged) and manifest GET
#     stay fast: storaged parses, hashes and syncs manifest bodies off its loop
# Runs as root (privilege separation) and as an ordinary user.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_EMPTY=application/vnd.oci.empty.v1+json
EMPTY_DIGEST=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
BIG_TYPE=application/vnd.example.big
SMALL_TYPE=application/vnd.example.small
RSS_MAX_KB=$((64 * 1024))	# storaged's resident memory after the pushes
HWM_MAX_KB=$((96 * 1024))	# and its peak while they ran
PAGE_MAX_BYTES=$((4 * 1024 * 1024 + 8192))	# one descriptor: a manifest is <= 4 MiB
MULTI_PAGE_MAX_BYTES=$((1024 * 1024 + 64 * 1024))	# a page of several descriptors
LOAD_SECS=10
PUSHERS=8

# mk_manifest OUT ID PAD_BYTES TYPE [SUBJECT SUBJECT_SIZE]: an artifact manifest whose
# annotations carry ID and PAD_BYTES of padding, referring to SUBJECT if given.
mk_manifest() {
	{
		printf '{"schemaVersion":2,"mediaType":"%s","artifactType":"%s","config":{"mediaType":"%s","digest":"%s","size":2},"layers":[{"mediaType":"%s","digest":"%s","size":2}]' \
			"$MT_MANIFEST" "$4" "$MT_EMPTY" "$EMPTY_DIGEST" "$MT_EMPTY" "$EMPTY_DIGEST"
		if [ -n "${5:-}" ]; then
			printf ',"subject":{"mediaType":"%s","digest":"%s","size":%s}' "$MT_MANIFEST" "$5" "$6"
		fi
		printf ',"annotations":{"org.example.id":"%s","org.example.pad":"' "$2"
		head -c "$3" /dev/zero | tr '\0' a
		printf '"}}'
	} >"$1"
}

# put REPO REF FILE: PUT a manifest; CODE is the status.
put() {
	req PUT "/v2/$1/manifests/$2" -H "Content-Type: $MT_MANIFEST" --data-binary "@$3"
}

# status_kb PID FIELD: a /proc/PID/status memory field in kB.
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# storaged_pid: the running storaged's pid, from status.
storaged_pid() {
	t_status >/dev/null 2>&1
	t_worker_pid storaged
}

# below DESC VALUE MAX UNIT: ok when VALUE < MAX.
below() {
	if [ -n "$2" ] && [ "$2" -lt "$3" ]; then
		ok "$1 ($2 $4 < $3)"
	else
		fail "$1" "got ${2:-nothing} $4, bound $3"
	fi
}

# setup_repo REPO: the empty blob (config and layer of every manifest) and a subject.
setup_repo() {
	printf '{}' >"$T_DIR/empty"
	req POST "/v2/$1/blobs/uploads/?digest=$EMPTY_DIGEST" --data-binary "@$T_DIR/empty" \
		-H 'Content-Type: application/octet-stream'
	[ "$CODE" = 201 ] || fail "push the empty blob to $1" "$(what)"
	mk_manifest "$T_DIR/subject.json" subject 10 "$SMALL_TYPE"
	put "$1" subject "$T_DIR/subject.json"
	[ "$CODE" = 201 ] || fail "push the subject to $1" "$(what)"
	SUBJECT=$(dg "$T_DIR/subject.json")
	SUBJECT_SIZE=$(stat -c %s "$T_DIR/subject.json")
}

# push_referrers REPO: 100 big and 150 small referrers of SUBJECT; "digest id padlen"
# of each in $T_DIR/want.
push_referrers() {
	local i pad f=$T_DIR/ref.json bad=0
	: >"$T_DIR/want"
	for ((i = 0; i < 100; i++)); do
		pad=$((1000000 + (i % 4) * 500000))
		mk_manifest "$f" "big$i" "$pad" "$BIG_TYPE" "$SUBJECT" "$SUBJECT_SIZE"
		put "$1" "$(dg "$f")" "$f"
		[ "$CODE" = 201 ] || bad=$((bad + 1))
		printf '%s big%s %s\n' "$(dg "$f")" "$i" "$pad" >>"$T_DIR/want"
	done
	for ((i = 0; i < 150; i++)); do
		mk_manifest "$f" "small$i" 100 "$SMALL_TYPE" "$SUBJECT" "$SUBJECT_SIZE"
		put "$1" "$(dg "$f")" "$f"
		[ "$CODE" = 201 ] || bad=$((bad + 1))
		printf '%s small%s 100\n' "$(dg "$f")" "$i" >>"$T_DIR/want"
	done
	rm -f "$f"
	same "250 referrers pushed, 100 of them with 1-2.5 MB of annotations" 0 "$bad"
}

test_memory() {
	local pid
	pid=$(storaged_pid)
	below "storaged's VmRSS after 100 manifests with MBs of annotations" \
		"$(status_kb "$pid" VmRSS)" "$RSS_MAX_KB" kB
	below "storaged's VmHWM while they were pushed" "$(status_kb "$pid" VmHWM)" "$HWM_MAX_KB" kB
	# A restarted storaged rebuilds its index from the store.
	t_is_ours "$pid" && kill -KILL "$pid"
	if ! t_wait_until 20 restarted "$pid"; then
		fail "storaged is restarted after kill -9" "$T_STATUS"
		return
	fi
	t_wait_http "$T_URL/v2/" 200 10 || fail "the registry answers again" "$(t_http_code "$T_URL/v2/")"
	pid=$(storaged_pid)
	req GET "/v2/$REPO/manifests/subject"
	same "the restarted storaged serves the subject" 200 "$CODE"
	below "a restarted storaged's VmRSS with the same index" \
		"$(status_kb "$pid" VmRSS)" "$RSS_MAX_KB" kB
}

# restarted OLD_PID: storaged runs under another pid and is running.
restarted() {
	local p
	p=$(storaged_pid)
	[ -n "$p" ] && [ "$p" != "$1" ] && [ "$(t_worker_field storaged state)" = running ]
}

# walk_pages PATH OUT: GET PATH and every Link rel="next"; "digest id padlen" of each
# descriptor into OUT, page sizes (bytes descriptors) into OUT.pages. 1 on a bad page.
walk_pages() {
	local p=$1 i link
	: >"$2"
	: >"$2.pages"
	for ((i = 0; i < 400; i++)); do
		req GET "$p"
		[ "$CODE" = 200 ] || return 1
		[ -z "${FILTERED:-}" ] || [ "$(hval OCI-Filters-Applied)" = artifactType ] || return 1
		jq -r '.manifests[] | "\(.digest) \(.annotations["org.example.id"]) \(.annotations["org.example.pad"] | length)"' \
			<"$BODY" >>"$2" || return 1
		printf '%s %s\n' "$(stat -c %s "$BODY")" "$(jq '.manifests | length' <"$BODY")" >>"$2.pages"
		link=$(hval Link)
		[ -n "$link" ] || return 0
		p=$(printf '%s\n' "$link" | sed -n 's/^<\([^>]*\)>; *rel="next"$/\1/p')
		[ -n "$p" ] || return 1
	done
	return 1
}

# check_pages DESC GOT WANT: every referrer once, with its annotations; pages bounded.
check_pages() {
	local n big multi
	n=$(wc -l <"$2.pages")
	t_true "$1: several pages ($n)" [ "$n" -gt 1 ]
	big=$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$2.pages")
	t_true "$1: no page over $PAGE_MAX_BYTES bytes (largest $big)" [ "$big" -le "$PAGE_MAX_BYTES" ]
	multi=$(awk '$2 > 1 { if ($1 > m) m = $1 } END { print m + 0 }' "$2.pages")
	t_true "$1: pages of several descriptors stay near 1 MiB (largest $multi)" \
		[ "$multi" -le "$MULTI_PAGE_MAX_BYTES" ]
	n=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$2.pages")
	t_true "$1: no page of more than 100 descriptors ($n)" [ "$n" -le 100 ]
	t_true "$1: no referrer twice" [ "$(cut -d' ' -f1 "$2" | sort | uniq -d | wc -l)" = 0 ]
	if cmp -s <(sort "$2") <(sort "$3"); then
		ok "$1: every referrer once, with its own annotations"
	else
		fail "$1: every referrer once, with its own annotations" \
			"$(diff <(sort "$3") <(sort "$2") | head -5)"
	fi
}

# t_true DESC CMD...: ok when CMD succeeds.
t_true() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d" "command: $*"; fi
}

test_referrers() {
	local t0 t1
	t0=$(t_now_ms)
	if walk_pages "/v2/$REPO/referrers/$SUBJECT" "$T_DIR/got"; then
		ok "the referrers pages all answer 200 and end"
	else
		fail "the referrers pages all answer 200 and end" "$(what | head -c 400)"
	fi
	t1=$(t_now_ms)
	t_diag "referrers: $(wc -l <"$T_DIR/got.pages") pages in $((t1 - t0)) ms"
	check_pages "referrers" "$T_DIR/got" "$T_DIR/want"
	FILTERED=1
	walk_pages "/v2/$REPO/referrers/$SUBJECT?artifactType=$BIG_TYPE" "$T_DIR/gotf" ||
		fail "the filtered referrers pages all answer 200, filtered, and end" "$(what | head -c 400)"
	FILTERED=
	grep ' big' "$T_DIR/want" >"$T_DIR/wantf"
	check_pages "referrers filtered by artifactType" "$T_DIR/gotf" "$T_DIR/wantf"
	req GET "/v2/$REPO/referrers/$SUBJECT?n=7"
	t_true "referrers?n=7: at most 7 descriptors" [ "$(jq '.manifests | length' <"$BODY")" -le 7 ]
	t_true "referrers?n=7: the Link keeps n" \
		[ -n "$(hval Link | grep -F "?n=7&last=sha256:")" ]
	req GET "/v2/$REPO/referrers/$SUBJECT?last=sha256:bad"
	same "referrers with a malformed last: 400" 400 "$CODE"
}

# pusher K DEADLINE_MS PAD: PUT fresh 3.8 MB manifests from 127.0.0.(K+2) until the
# deadline; one status per line into $T_DIR/push.K.
pusher() {
	local k=$1 i=0
	: >"$T_DIR/push.$k"
	while [ "$(t_now_ms)" -lt "$2" ] && [ "$i" -lt 1000 ]; do
		i=$((i + 1))
		{
			printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":2},"layers":[],"annotations":{"k":"%s-%s","pad":"' \
				"$MT_MANIFEST" "$MT_EMPTY" "$EMPTY_DIGEST" "$k" "$i"
			cat "$3"
			printf '"}}'
		} | curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 --interface "127.0.0.$((k + 2))" \
			-X PUT -H "Content-Type: $MT_MANIFEST" --data-binary @- \
			"$T_URL/v2/load/app/manifests/t$k" >>"$T_DIR/push.$k" 2>/dev/null
	done
}

# probe DEADLINE_MS: GET /v2/ and a small manifest from 127.0.0.20 every 0.1 s; the
# times (ms) into $T_DIR/lat.v2 and $T_DIR/lat.mf, failures into $T_DIR/lat.bad.
probe() {
	local out i
	: >"$T_DIR/lat.v2"
	: >"$T_DIR/lat.mf"
	: >"$T_DIR/lat.bad"
	for ((i = 0; i < 500; i++)); do
		[ "$(t_now_ms)" -lt "$1" ] || break
		out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 \
			--interface 127.0.0.20 "$T_URL/v2/")
		case $out in "200 "*) printf '%s\n' "${out#* }" >>"$T_DIR/lat.v2" ;; *) echo "v2 $out" >>"$T_DIR/lat.bad" ;; esac
		out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 \
			--interface 127.0.0.20 -H "Accept: $MT_MANIFEST" "$T_URL/v2/$REPO/manifests/subject")
		case $out in "200 "*) printf '%s\n' "${out#* }" >>"$T_DIR/lat.mf" ;; *) echo "mf $out" >>"$T_DIR/lat.bad" ;; esac
		sleep 0.1
	done
}

# lat_stats FILE: "median max count" in ms of the seconds in FILE.
lat_stats() {
	sort -g "$1" | awk '{ v[NR] = $1 * 1000 } END {
		if (NR == 0) { print "0 0 0"; exit }
		printf "%d %d %d\n", v[int((NR + 1) / 2)], v[NR], NR }'
}

test_latency() {
	local pad=$T_DIR/pad deadline k pids=() med max n pushed
	head -c 3800000 /dev/zero | tr '\0' b >"$pad"
	req POST "/v2/load/app/blobs/uploads/?digest=$EMPTY_DIGEST" --data-binary "@$T_DIR/empty" \
		-H 'Content-Type: application/octet-stream'
	[ "$CODE" = 201 ] || fail "push the empty blob to load/app" "$(what)"
	deadline=$(($(t_now_ms) + LOAD_SECS * 1000))
	for ((k = 0; k < PUSHERS; k++)); do
		pusher "$k" "$deadline" "$pad" &
		pids+=($!)
	done
	sleep 1
	probe "$deadline"
	wait "${pids[@]}"
	pushed=$(cat "$T_DIR"/push.* | grep -c '^201$')
	t_diag "pushes: $pushed answered 201, others: $(cat "$T_DIR"/push.* | grep -v '^201$' | sort | uniq -c | tr '\n' ' ')"
	t_true "the 8 pushers stored 3.8 MB manifests all along ($pushed)" [ "$pushed" -ge "$PUSHERS" ]
	same "every probe answered 200" "" "$(head -3 "$T_DIR/lat.bad")"
	read -r med max n < <(lat_stats "$T_DIR/lat.v2")
	t_diag "GET /v2/ under load: median $med ms, max $max ms, $n probes"
	t_true "GET /v2/ under load: enough probes ($n)" [ "$n" -gt 10 ]
	t_true "GET /v2/ under load: median under 300 ms ($med)" [ "$med" -lt 300 ]
	t_true "GET /v2/ under load: max under 1000 ms ($max)" [ "$max" -lt 1000 ]
	read -r med max n < <(lat_stats "$T_DIR/lat.mf")
	t_diag "manifest GET under load: median $med ms, max $max ms, $n probes"
	t_true "manifest GET under load: enough probes ($n)" [ "$n" -gt 10 ]
	t_true "manifest GET under load: median under 300 ms ($med)" [ "$med" -lt 300 ]
	t_true "manifest GET under load: max under 1000 ms ($max)" [ "$max" -lt 1000 ]
	rm -f "$pad"
}

body() {
	t_serve storaged_load || return 1
	REPO=big/refs
	setup_repo "$REPO"
	push_referrers "$REPO"
	test_memory
	test_referrers
	test_latency
	t_stop
}

t_run_modes body
t_summary
