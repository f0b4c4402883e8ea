#!/bin/bash
# test_resilience.sh — regmaster under kill -9: the design promises that a worker that
# dies is restarted, its peers fail only the requests in flight, and no data in the
# store is lost or left half-written. This suite kills workers in the middle of real
# work and checks exactly that, as root (privilege separation) and as an ordinary user.
#
# What it tests:
#   - a chunked upload (POST, 3 PATCHes of a few MiB, PUT ?digest=) survives kill -9 of
#     httpd after chunk 1 and of storaged after chunk 2: the status GET reports the
#     right Range each time and the committed blob has the right sha256
#   - skopeo pushes (retried, bounded) and pulls in the background while httpd and
#     storaged are killed alternately 6 times at random 0.3-1.5 s intervals: every push
#     eventually succeeds, every pull that succeeds is correct, a final pull of every
#     image has the pushed manifest digest and digest-correct blobs
#   - afterwards the store holds only complete blobs whose sha256 is their directory
#     name, nothing else under blobs/, and every _layers, revision and tag link points
#     at an existing blob
#   - a 64 MiB blob GET cut by kill -9 of httpd (or storaged) ends in a client-visible
#     error or a complete, correct body, never a complete-looking wrong one
#   - kill -9 of authd and gcd during pulls: every pull still succeeds
#
# regmaster runs in the foreground here (start -f, in the background of this shell) so
# the debug log of master and all workers lands in $T_DIR/regmaster.log: as a daemon it
# logs to syslog, which a test host may not have. Failures print the log's tail.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

MIB=1048576
RECOVER_TIMEOUT=15   # s; covers master's backoff after several quick deaths in a row
SKOPEO_TIMEOUT=90    # s; one skopeo run, retries included
PUSH_ATTEMPTS=10     # outer attempts per push, on top of skopeo's own retries
IMAGE_SETS=10        # at most this many fresh image sets pushed during the kill storm
STORM_KILLS=6

MASTER_JOB=""        # PID of the foreground master started by start_fg
declare -A KILLS     # kill -9s this suite sent, per worker
T_LOG=""

# ---------------------------------------------------------------- HTTP helpers
# req and hval come from lib.sh; what also shows the log.

# what: the last response and the log's tail, for failure details.
what() {
	printf 'status %s\n%s\nbody: %s\n' "$CODE" "$(tr -d '\r' <"$HDR")" "$(head -c 600 "$BODY")"
	log_tail
}

# log_tail [N]: the last N (20) lines of regmaster's log.
log_tail() {
	[ -n "$T_LOG" ] && [ -r "$T_LOG" ] || return 0
	printf -- '-- regmaster.log (tail):\n'
	tail -n "${1:-20}" "$T_LOG"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- running regmaster

# start_fg: start master in the foreground, as a background job of this shell, its and
# the workers' log in $T_LOG; wait (bounded) until every worker runs. The lib's
# cleanup still finds it through the pidfile, and t_stop stops it.
start_fg() {
	T_LOG=$T_DIR/regmaster.log
	REGMASTER_LIBEXECDIR=$T_LIBEXEC REGMASTER_TEST_TAG=$T_TAG \
		"$REGMASTER" -c "$T_CONF" start -f >"$T_LOG" 2>&1 </dev/null &
	MASTER_JOB=$!
	t_record_pid "$MASTER_JOB"
	t_wait_until 10 t_all_running && t_wait_http "$T_URL/v2/" 200 10
}

# stop_fg: stop the instance and reap the foreground master (stop waits for it to
# exit, so the wait is short; the lib's cleanup handles a master that would not stop).
stop_fg() {
	t_stop || t_diag "stop exited $T_RC: $T_OUT"
	if [ -n "$MASTER_JOB" ] && t_gone "$MASTER_JOB"; then
		wait "$MASTER_JOB" 2>/dev/null
	fi
	MASTER_JOB=""
}

# worker_back NAME OLDPID: a fresh status shows NAME running under a PID other than
# OLDPID, and the API answers 200 (so httpd has its fresh storaged socket).
worker_back() {
	local pid
	t_status || return 1
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$2" ] &&
		[ "$(t_worker_field "$1" state)" = running ] && t_http_is 200 "$T_URL/v2/"
}

# worker_running NAME: NAME is running with a live PID (fresh status).
worker_running() {
	local pid
	t_status || return 1
	pid=$(t_worker_pid "$1")
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$(t_worker_field "$1" state)" = running ] &&
		t_is_ours "$pid"
}

# kill_worker NAME: kill -9 the running NAME; sets KILLED (its PID) and counts the
# kill in KILLS[NAME]. 1 if none ran.
kill_worker() {
	KILLED=""
	t_wait_until "$RECOVER_TIMEOUT" worker_running "$1" || return 1
	KILLED=$(t_worker_pid "$1")
	# Only a PID regmaster's own status names, and only while it is a regmaster process.
	t_is_ours "$KILLED" && kill -KILL "$KILLED" 2>/dev/null || return 1
	KILLS[$1]=$((${KILLS[$1]:-0} + 1))
}

# check_deaths: master's log shows no worker death but our kill -9s: a worker that
# crashed or gave up because a peer died would be a resilience bug the HTTP checks
# might not see.
check_deaths() {
	local w want got other
	for w in $T_WORKERS; do
		want=${KILLS[$w]:-0}
		got=$(grep -cE "worker_exited: $w \(pid [0-9]+\) killed by signal 9\$" "$T_LOG")
		if [ "$got" = "$want" ]; then
			ok "log: $w died $got times, each by our kill -9"
		else
			fail "log: $w died only by our $want kill -9s" "log shows $got" \
				"$(grep -E "worker_exited: $w " "$T_LOG")"
		fi
	done
	other=$(grep -E 'worker_exited: .*(exited with status|killed by signal ([0-8]|[1-9][0-9]))' "$T_LOG")
	if [ -z "$other" ]; then ok "log: no worker exited or died any other way"; else
		fail "log: no worker exited or died any other way" "$other"
	fi
}

# kill_and_recover NAME: kill -9 NAME, wait until master brought it back; counted.
kill_and_recover() {
	local t0
	if ! kill_worker "$1"; then
		fail "$1 running before kill -9" "$T_STATUS" "$(log_tail)"
		return 1
	fi
	t0=$(t_now_ms)
	if t_wait_until "$RECOVER_TIMEOUT" worker_back "$1" "$KILLED"; then
		ok "$1 (pid $KILLED) killed -9 and back, /v2/ answers 200 ($(($(t_now_ms) - t0)) ms)"
	else
		fail "$1 killed -9 and back within $RECOVER_TIMEOUT s" "$T_STATUS" "$(log_tail)"
		return 1
	fi
}

# rand_sleep: sleep a random 0.3-1.5 s.
rand_sleep() {
	local ms=$((300 + RANDOM % 1201))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# ---------------------------------------------------------------- 1: resumable upload

# patch_chunk DESC URL FILE FROM: PATCH FILE at offset FROM; checks 202 and the Range.
patch_chunk() {
	local to=$(($4 + $(stat -c %s "$3") - 1))
	req PATCH "$2" -H 'Content-Type: application/octet-stream' -H "Content-Range: $4-$to" \
		--data-binary "@$3"
	is_code "$1: 202" 202
	is_hdr "$1: Range 0-$to" Range "0-$to"
}

# upload_status DESC URL END: the session's status GET answers 204 with Range 0-END.
upload_status() {
	req GET "$2"
	is_code "$1: upload status answers 204" 204
	is_hdr "$1: upload status Range 0-$3" Range "0-$3"
}

test_resume_upload() {
	local f=$T_DIR/resume s1=$((4 * MIB)) s2=$((3 * MIB)) s3=$((2 * MIB)) d l
	head -c $((s1 + s2 + s3)) /dev/urandom >"$f"
	head -c "$s1" "$f" >"$f.1"
	tail -c +$((s1 + 1)) "$f" | head -c "$s2" >"$f.2"
	tail -c +$((s1 + s2 + 1)) "$f" >"$f.3"
	d=sha256:$(sha_of "$f")
	req POST /v2/r/blobs/uploads/
	is_code "resume: POST starts an upload: 202" 202
	l=$(loc)
	[ -n "$l" ] || return 1
	patch_chunk "resume: chunk 1 (4 MiB)" "$l" "$f.1" 0
	l=$(loc)
	kill_and_recover httpd
	upload_status "resume: after httpd was killed" "$l" $((s1 - 1))
	patch_chunk "resume: chunk 2 (3 MiB) after the httpd restart" "$l" "$f.2" "$s1"
	l=$(loc)
	kill_and_recover storaged
	upload_status "resume: after storaged was killed" "$l" $((s1 + s2 - 1))
	patch_chunk "resume: chunk 3 (2 MiB) after the storaged restart" "$l" "$f.3" $((s1 + s2))
	req PUT "$(loc)?digest=$d"
	is_code "resume: PUT ?digest= commits the upload: 201" 201
	req GET "/v2/r/blobs/$d"
	if [ "$CODE" = 200 ] && [ "sha256:$(sha_of "$BODY")" = "$d" ]; then
		ok "resume: the blob reads back with sha256 = its digest"
	else
		fail "resume: the blob reads back with sha256 = its digest" "want $d" \
			"got sha256:$(sha_of "$BODY") ($(stat -c %s "$BODY") bytes)" "$(what)"
	fi
}

# range_end: the last byte of the Range header of the last response ("0-N" -> N).
range_end() {
	local r
	r=$(hval Range)
	[[ $r =~ ^0-([0-9]+)$ ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# test_resume_cut VICTIM: a PATCH cut short by kill -9 of VICTIM mid-body. Whatever
# offset the status GET then reports must lie between the last complete chunk and the
# end, and resuming from exactly there must commit a digest-correct blob: a worker's
# death may lose the bytes in flight, never keep wrong ones.
test_resume_cut() {
	local v=$1 f=$T_DIR/cut-$1 first=$MIB total=$((9 * MIB)) d l cjob end off
	head -c "$total" /dev/urandom >"$f"
	head -c "$first" "$f" >"$f.a"
	tail -c +$((first + 1)) "$f" >"$f.b"
	d=sha256:$(sha_of "$f")
	req POST "/v2/cut/$v/blobs/uploads/"
	l=$(loc)
	patch_chunk "cut by $v: chunk 1 (1 MiB)" "$l" "$f.a" 0
	l=$(loc)
	# 8 MiB at 4 MiB/s: the kill lands mid-body.
	curl -s -o /dev/null --max-time 30 --limit-rate 4M -X PATCH -H "Content-Range: $first-$((total - 1))" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$f.b" "$T_URL$l" &
	cjob=$!
	sleep 0.6
	if ! kill_worker "$v"; then
		fail "cut by $v: $v running to be killed" "$T_STATUS"
		wait "$cjob"
		return 1
	fi
	wait "$cjob"
	if ! t_wait_until "$RECOVER_TIMEOUT" worker_back "$v" "$KILLED"; then
		fail "cut by $v: $v back after kill -9" "$T_STATUS" "$(log_tail)"
		return 1
	fi
	req GET "$l"
	end=$(range_end)
	if [ "$CODE" = 204 ] && [ -n "$end" ] && [ "$end" -ge $((first - 1)) ] && [ "$end" -lt "$total" ]; then
		ok "cut by $v: the session survives, status Range 0-$end (sent 0-$((total - 1)))"
	else
		fail "cut by $v: the session survives with a Range within what was sent" "$(what)"
		return 1
	fi
	off=$((end + 1))
	if [ "$off" -lt "$total" ]; then
		tail -c +$((off + 1)) "$f" >"$f.c"
		patch_chunk "cut by $v: the rest from offset $off" "$(loc)" "$f.c" "$off"
	fi
	req PUT "$(loc)?digest=$d"
	is_code "cut by $v: PUT ?digest= after the resumed upload: 201" 201
	req GET "/v2/cut/$v/blobs/$d"
	if [ "$CODE" = 200 ] && [ "sha256:$(sha_of "$BODY")" = "$d" ]; then
		ok "cut by $v: the blob reads back with sha256 = its digest"
	else
		fail "cut by $v: the blob reads back with sha256 = its digest" "$(what)"
	fi
}

# ---------------------------------------------------------------- 2: kill storm

# make_sets: IMAGE_SETS fresh image sets (mkimages.sh: random content each run);
# their `NAME DIGEST` lines in $T_DIR/img<N>.list.
make_sets() {
	local n
	for ((n = 1; n <= IMAGE_SETS; n++)); do
		bash "$T_LIB_DIR/mkimages.sh" "$T_DIR/img$n" >"$T_DIR/img$n.list" 2>"$T_DIR/mkimages.err" ||
			return 1
	done
}

# all_flag NAME: --all for the multi-platform index, nothing otherwise (prints words).
all_flag() { [ "$1" = index ] && printf '%s\n' --all; }

# push_one SET NAME: push image NAME of SET to res/NAME:sSET; retried: skopeo's own
# --retry-times, and up to PUSH_ATTEMPTS runs, since skopeo does not retry every
# error a dying worker causes (a 5xx, for instance). Appends
# `NAME sSET DIGEST ATTEMPTS ok|failed` to $T_DIR/pushed.
# --format oci pins the manifest type: without it, when a manifest PUT gets no answer
# (httpd killed after storaged stored it) skopeo falls back to converting the OCI
# index to a Docker manifest list and PUTs that under the tag, a different digest;
# the registry is right to store it, but the digest check below would be meaningless.
push_one() {
	local set=$1 name=$2 digest i rc=1 out=$T_DIR/push-$1-$2.out
	local -a all
	mapfile -t all < <(all_flag "$name")
	digest=$(awk -v n="$name" '$1 == n { print $2 }' "$T_DIR/img$set.list")
	for ((i = 1; i <= PUSH_ATTEMPTS; i++)); do
		timeout -k 5 "$SKOPEO_TIMEOUT" skopeo copy -q --retry-times 5 --format oci "${all[@]}" \
			--dest-tls-verify=false "oci:$T_DIR/img$set/$name:latest" \
			"docker://$HOST/res/$name:s$set" >>"$out" 2>&1
		rc=$?
		[ "$rc" = 0 ] && break
		# Spend the next attempt on a registry that answers, not on master's backoff.
		t_wait_http "$T_URL/v2/" 200 "$RECOVER_TIMEOUT"
	done
	if [ "$rc" = 0 ]; then
		printf '%s s%s %s %s ok\n' "$name" "$set" "$digest" "$i" >>"$T_DIR/pushed"
	else
		printf '%s s%s %s %s failed\n' "$name" "$set" "$digest" "$PUSH_ATTEMPTS" >>"$T_DIR/pushed"
	fi
}

# pusher STORMFILE: push set after set, each image of a set one after the other, so
# uploads are in flight through the whole storm: at least 2 sets, then more until
# STORMFILE says the storm is over, at most IMAGE_SETS (bounded: sets x images x
# attempts x SKOPEO_TIMEOUT).
pusher() {
	local n name
	for ((n = 1; n <= IMAGE_SETS; n++)); do
		[ "$n" -gt 2 ] && [ -e "$1" ] && break
		for name in multi index; do push_one "$n" "$name"; done
	done
}

# verify_dir DIR DIGEST: a skopeo dir: copy whose manifest.json has sha256 DIGEST and
# whose every blob file (HEX) and per-platform manifest (HEX.manifest.json, from an
# index copied with --all) hashes to its HEX.
verify_dir() {
	local f n=0
	[ "sha256:$(sha_of "$1/manifest.json" 2>/dev/null)" = "$2" ] || return 1
	for f in "$1"/*; do
		[[ ${f##*/} =~ ^([0-9a-f]{64})(\.manifest\.json)?$ ]] || continue
		[ "$(sha_of "$f")" = "${BASH_REMATCH[1]}" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# pull_one NAME TAG DIGEST DIR: pull to a fresh dir: and verify it; 0 only if both.
pull_one() {
	local -a all
	mapfile -t all < <(all_flag "$1")
	rm -rf -- "$4"
	timeout -k 5 "$SKOPEO_TIMEOUT" skopeo copy -q "${all[@]}" --src-tls-verify=false \
		"docker://$HOST/res/$1:$2" "dir:$4" >"$4.out" 2>&1 || return 1
	verify_dir "$4" "$3" || return 2
}

# puller STOPFILE: pull the most recently pushed image again and again until STOPFILE
# exists (at most 200 rounds, 120 s). Appends `NAME TAG ok|failed|WRONG` to
# $T_DIR/pulled; a failure is allowed while workers die, a wrong image never.
puller() {
	local i deadline line name tag digest rc
	deadline=$(($(t_now_ms) + 120000))
	for ((i = 0; i < 200; i++)); do
		[ -e "$1" ] && break
		[ "$(t_now_ms)" -ge "$deadline" ] && break
		line=$(grep ' ok$' "$T_DIR/pushed" 2>/dev/null | tail -n 1)
		if [ -z "$line" ]; then
			sleep 0.2
			continue
		fi
		read -r name tag digest _ <<<"$line"
		pull_one "$name" "$tag" "$digest" "$T_DIR/pull-bg"
		rc=$?
		case $rc in
		0) printf '%s %s ok\n' "$name" "$tag" ;;
		1) printf '%s %s failed\n' "$name" "$tag" ;;
		*) printf '%s %s WRONG: manifest sha256:%s, want %s\n' "$name" "$tag" \
			"$(sha_of "$T_DIR/pull-bg/manifest.json" 2>/dev/null)" "$digest" ;;
		esac >>"$T_DIR/pulled"
	done
}

# tag_story NAME TAG: what the registry, the store and the log say about res/NAME:TAG
# (failure details: which manifest the tag names and how it came to).
tag_story() {
	local t=$T_STORE/docker/registry/v2/repositories/res/$1/_manifests/tags/$2 f
	printf 'pulled manifest.json: sha256:%s, %s bytes\n' \
		"$(sha_of "$T_DIR/pull-final/manifest.json" 2>/dev/null)" \
		"$(stat -c %s "$T_DIR/pull-final/manifest.json" 2>/dev/null)"
	head -c 400 "$T_DIR/pull-final/manifest.json" 2>/dev/null
	printf '\n-- HEAD /v2/res/%s/manifests/%s:\n' "$1" "$2"
	curl -s --max-time 5 -I -H "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json" \
		"$T_URL/v2/res/$1/manifests/$2" | tr -d '\r'
	printf -- '-- on disk, %s:\n' "${t#"$T_STORE"/}"
	for f in "$t/current/link" "$t"/index/sha256/*/link; do
		[ -e "$f" ] && printf '%s: %s\n' "${f#"$t"/}" "$(cat "$f")"
	done
	printf -- '-- log lines naming %s/%s:\n' "$1" "$2"
	grep -E "res/$1(/manifests/$2|: manifest .* as $2)" "$T_LOG" | tail -n 20
}

# storm: kill -9 httpd and storaged alternately STORM_KILLS times, 0.3-1.5 s apart.
# Each kill waits (bounded) for its target to run again first, so every kill hits a
# live worker; master's growing backoff makes that wait longer towards the end.
storm() {
	local i w n=0
	for ((i = 0; i < STORM_KILLS; i++)); do
		w=httpd
		[ $((i % 2)) = 1 ] && w=storaged
		rand_sleep
		if kill_worker "$w"; then
			n=$((n + 1))
			t_diag "storm: killed $w (pid $KILLED) at $(($(t_now_ms) - STORM_T0)) ms"
		else
			t_diag "storm: $w not running, not killed" "$T_STATUS"
		fi
	done
	STORM_DONE=$n
}

# wait_job PID SECONDS: wait for a background job of ours, bounded; if it overstays,
# kill that one PID (its skopeo children are bounded by their own timeout).
wait_job() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		t_diag "background job $1 still running after $2 s; killed"
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}

test_storm() {
	local pjob ljob stop=$T_DIR/storm.stop name tag digest n rc line tries n_ok n_fail
	if ! command -v skopeo >/dev/null 2>&1; then
		fail "skopeo is installed (the kill storm pushes and pulls with it)"
		return 1
	fi
	if ! make_sets; then
		fail "mkimages.sh builds the test images" "$(cat "$T_DIR/mkimages.err")"
		return 1
	fi
	: >"$T_DIR/pushed"
	: >"$T_DIR/pulled"
	pusher "$T_DIR/storm.over" &
	pjob=$!
	puller "$stop" &
	ljob=$!
	STORM_T0=$(t_now_ms)
	STORM_DONE=0
	storm
	touch "$T_DIR/storm.over"
	t_diag "storm: $STORM_DONE kills in $(($(t_now_ms) - STORM_T0)) ms"
	if [ "$STORM_DONE" -ge $((STORM_KILLS - 1)) ]; then
		ok "storm: $STORM_DONE of $STORM_KILLS kill -9s hit a live httpd/storaged"
	else
		fail "storm: at least $((STORM_KILLS - 1)) kill -9s hit a live worker" "$STORM_DONE kills" "$(log_tail)"
	fi
	wait_job "$pjob" $((IMAGE_SETS * 2 * 60))
	t_diag "storm: pushes done at $(($(t_now_ms) - STORM_T0)) ms"
	touch "$stop"
	wait_job "$ljob" $((SKOPEO_TIMEOUT + 10))
	t_wait_until "$RECOVER_TIMEOUT" t_all_running ||
		fail "storm: all workers running afterwards" "$T_STATUS" "$(log_tail)"

	# Every push got through, within the bounded attempts.
	n=$(wc -l <"$T_DIR/pushed")
	if [ "$n" -ge 4 ] && [ $((n % 2)) = 0 ] && ! grep -qv ' ok$' "$T_DIR/pushed"; then
		tries=$(awk '{ s = s " " $4 } END { print s }' "$T_DIR/pushed")
		ok "storm: all $n skopeo pushes succeeded (attempts:$tries)"
	else
		fail "storm: every skopeo push eventually succeeds" "$(cat "$T_DIR/pushed")" \
			"$(tail -n 20 "$T_DIR"/push-*.out)" "$(log_tail 40)"
	fi
	n_ok=$(grep -c ' ok$' "$T_DIR/pulled")
	n_fail=$(grep -c ' failed$' "$T_DIR/pulled")
	t_diag "storm: background pulls: $n_ok succeeded, $n_fail failed (failures allowed while workers die)"
	if grep -q ' WRONG' "$T_DIR/pulled"; then
		fail "storm: no background pull produced a wrong image" "$(grep ' WRONG' "$T_DIR/pulled" | sort | uniq -c)"
	else
		ok "storm: no background pull produced a wrong image ($n_ok verified)"
	fi

	# A final, quiet pull of everything pushed.
	n=0
	while read -r name tag digest _ rc; do
		[ "$rc" = ok ] || continue
		if pull_one "$name" "$tag" "$digest" "$T_DIR/pull-final"; then
			n=$((n + 1))
		else
			fail "storm: final pull of res/$name:$tag has digest $digest and correct blobs" \
				"$(cat "$T_DIR/pull-final.out")" "$(tag_story "$name" "$tag")"
		fi
	done <"$T_DIR/pushed"
	line=$(grep -c ' ok$' "$T_DIR/pushed")
	[ "$n" = "$line" ] && [ "$n" -gt 0 ] &&
		ok "storm: final pulls of all $n images: pushed manifest digests, every blob correct"
	rm -rf -- "$T_DIR/pull-final" "$T_DIR/pull-bg"
}

# ---------------------------------------------------------------- the store on disk

# check_blobs LABEL: every file under blobs/ is blobs/sha256/XX/HEX/data with sha256 HEX.
check_blobs() {
	local blobs=$T_STORE/docker/registry/v2/blobs f rel hex n=0 bad="" stray=""
	while IFS= read -r -d '' f; do
		rel=${f#"$blobs"/}
		hex=${rel#sha256/??/}
		hex=${hex%/data}
		if [[ ! $rel =~ ^sha256/([0-9a-f]{2})/([0-9a-f]{64})/data$ ]] ||
			[ "${BASH_REMATCH[1]}" != "${hex:0:2}" ] || [ ! -f "$f" ]; then
			stray="$stray $rel"
			continue
		fi
		n=$((n + 1))
		[ "$(sha_of "$f")" = "$hex" ] || bad="$bad $rel"
	done < <(find "$blobs" -mindepth 1 ! -type d -print0)
	if [ -z "$stray" ]; then
		ok "store ($1): nothing under blobs/ but data files in their digest dirs"
	else
		fail "store ($1): nothing under blobs/ but data files in their digest dirs" "strays:$stray"
	fi
	if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
		ok "store ($1): all $n blobs are complete, sha256 = directory name"
	else
		fail "store ($1): every blob's sha256 is its directory name" "$n blobs; wrong:$bad"
	fi
}

# check_links LABEL: every _layers, revision, tag index and tag current link is
# sha256:HEX of an existing blob (and, where the dir is named by a digest, that one).
check_links() {
	local repos=$T_STORE/docker/registry/v2/repositories
	local blobs=$T_STORE/docker/registry/v2/blobs f c hex dir n=0 bad=""
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		c=$(cat "$f")
		hex=${c#sha256:}
		dir=${f%/link}
		dir=${dir##*/}
		if [ "$c" != "sha256:$hex" ] || [[ ! $hex =~ ^[0-9a-f]{64}$ ]] ||
			[ ! -f "$blobs/sha256/${hex:0:2}/$hex/data" ]; then
			bad="$bad ${f#"$repos"/}=$c"
		elif [ "$dir" != current ] && [ "$dir" != "$hex" ]; then
			bad="$bad ${f#"$repos"/}=$c(dir)"
		fi
	done < <(find "$repos" -type f -name link \( -path '*/_layers/sha256/*' \
		-o -path '*/_manifests/revisions/sha256/*' -o -path '*/_manifests/tags/*' \) -print0)
	if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
		ok "store ($1): all $n layer, revision and tag links point at existing blobs"
	else
		fail "store ($1): every link points at an existing blob" "$n links; bad:$bad"
	fi
}

# ---------------------------------------------------------------- big GET cut short

# big_get_round VICTIM N: GET the 64 MiB blob at a limited rate, kill -9 VICTIM while
# it flows; the client must see an error or the complete, correct body.
big_get_round() {
	local out=$T_DIR/big.get cjob rc size sum
	rm -f -- "$out"
	curl -s --max-time 60 --limit-rate 48M -o "$out" "$T_URL/v2/big/blobs/$BIG_DIGEST" &
	cjob=$!
	sleep 0.4
	kill_worker "$1" || t_diag "big GET $2: $1 not running, not killed"
	wait "$cjob"
	rc=$?
	size=$(stat -c %s "$out" 2>/dev/null || echo 0)
	sum=sha256:$(sha_of "$out" 2>/dev/null)
	if [ "$rc" != 0 ]; then
		ok "big GET $2 (kill -9 $1): client sees an error (curl exit $rc after $size bytes)"
	elif [ "$sum" = "$BIG_DIGEST" ]; then
		ok "big GET $2 (kill -9 $1): the complete, correct body ($size bytes)"
	else
		fail "big GET $2 (kill -9 $1): no complete-looking wrong body" \
			"curl exit 0, $size bytes, $sum, want $BIG_DIGEST" "$(log_tail)"
	fi
	t_wait_until "$RECOVER_TIMEOUT" worker_back "$1" "$KILLED" ||
		fail "big GET $2: $1 back afterwards" "$T_STATUS" "$(log_tail)"
}

test_big_get() {
	local f=$T_DIR/big
	head -c $((64 * MIB)) /dev/urandom >"$f"
	BIG_DIGEST=sha256:$(sha_of "$f")
	req POST "/v2/big/blobs/uploads/?digest=$BIG_DIGEST" -H 'Content-Type: application/octet-stream' \
		--data-binary "@$f"
	is_code "big: monolithic upload of 64 MiB: 201" 201
	rm -f -- "$f"
	big_get_round httpd 1
	big_get_round httpd 2
	big_get_round storaged 3
}

# ---------------------------------------------------------------- 3: authd, gcd

# quiet_puller STOPFILE: pull res/multi:s1 in a loop until STOPFILE exists (at most 60
# rounds, 90 s); `ok` or `failed` per pull in $T_DIR/pulled3.
quiet_puller() {
	local i deadline digest
	digest=$(awk '$1 == "multi" && $2 == "s1" { print $3 }' "$T_DIR/pushed")
	deadline=$(($(t_now_ms) + 90000))
	for ((i = 0; i < 60; i++)); do
		[ -e "$1" ] && break
		[ "$(t_now_ms)" -ge "$deadline" ] && break
		if pull_one multi s1 "$digest" "$T_DIR/pull3"; then
			echo ok
		else
			echo "failed: $(tr '\n' ' ' <"$T_DIR/pull3.out")"
		fi >>"$T_DIR/pulled3"
	done
}

test_other_workers() {
	local ljob stop=$T_DIR/others.stop w n
	grep -q '^multi s1 .* ok$' "$T_DIR/pushed" 2>/dev/null || {
		fail "authd/gcd: the image to pull was pushed"
		return 1
	}
	: >"$T_DIR/pulled3"
	quiet_puller "$stop" &
	ljob=$!
	for w in authd gcd authd gcd; do
		rand_sleep
		kill_and_recover "$w"
	done
	sleep 0.5
	touch "$stop"
	wait_job "$ljob" $((SKOPEO_TIMEOUT + 10))
	n=$(grep -c '^ok$' "$T_DIR/pulled3")
	if [ "$n" -gt 0 ] && ! grep -qv '^ok$' "$T_DIR/pulled3"; then
		ok "authd/gcd killed during pulls: all $n pulls succeeded and verified"
	else
		fail "authd/gcd killed during pulls: every pull succeeds" "$(cat "$T_DIR/pulled3")" "$(log_tail 40)"
	fi
}

# ---------------------------------------------------------------- the suite

body() {
	local t0
	t0=$(t_now_ms)
	t_init resilience || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	HOST=127.0.0.1:$T_PORT
	if start_fg; then ok "start regmaster in the foreground (debug log to a file)"; else
		fail "start regmaster in the foreground" "$T_STATUS" "$(log_tail)"
		stop_fg
		return 1
	fi
	test_resume_upload
	test_resume_cut httpd
	test_resume_cut storaged
	t_diag "timing: resumable upload done at $(($(t_now_ms) - t0)) ms"
	test_storm
	# Nothing is in flight now: what the crashes left on disk is what is checked.
	check_blobs "after the storm"
	check_links "after the storm"
	t_diag "timing: kill storm done at $(($(t_now_ms) - t0)) ms"
	test_big_get
	t_diag "timing: big GETs done at $(($(t_now_ms) - t0)) ms"
	test_other_workers
	t_diag "timing: authd/gcd kills done at $(($(t_now_ms) - t0)) ms"
	stop_fg
	check_deaths
	check_blobs "at the end"
	check_links "at the end"
	t_diag "timing: $T_MODE mode took $(($(t_now_ms) - t0)) ms"
}

t_run_modes body
t_summary
