#!/bin/bash
# test_index_build.sh - storaged answers from its first moment, whatever the store's
# size: its index is built in the background and a repository not delivered yet is
# read on demand (issue 8).
#
# What it tests, on a store of a few thousand manifests written straight to disk in
# Distribution layout (a small generator below, with the digests it wrote):
#   - from the start: the first manifest GET by tag and by digest answers 200 with the
#     generator's digest and bytes; no answer while the index builds is anything else
#   - tags/list and the catalog asked at once (the catalog waits for the names) equal
#     the generator's, and equal what they answer once the build is logged complete
#   - a tag pushed at once is listed and served after the build
#   - the log has the names-phase and build-complete lines
#   - kill -9 of storaged: the next manifest GET with the right digest within 1 s
#   - a tag moved on disk while regmaster was stopped is served moved after start
#   - with the names walk slowed (REGMASTER_TEST_NAMES_DELAY_US, honoured only with
#     REGMASTER_TEST_TAG set): catalog pages asked while it goes on are answered
#     before it ends, byte for byte (body and Link) the pages after the build; a
#     page past what the walk can reach in the catalog's wait answers 503 with
#     Retry-After
# Runs as root (privilege separation) and as an ordinary user.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

REPOS=1500	# two manifests and two tags each
MT=application/vnd.oci.image.manifest.v1+json
T_LOG=""
MASTER_JOB=""
EXP=""		# the generator's "repo tag digest" lines

# gen_store ROOT OUT: REPOS repositories under ROOT, their "repo tag digest" in OUT.
gen_store() {
	python3 - "$1" "$REPOS" "$2" <<'EOF'
import hashlib, json, os, sys
root, n, out = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "w")
v2 = os.path.join(root, "docker/registry/v2")
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    put(os.path.join(v2, "blobs/sha256", h[:2], h, "data"), data)
    return "sha256:" + h
layers = [blob(b"layer %d" % i * 50) for i in range(8)]
for i in range(n):
    name = "team%d/app%d" % (i % 37, i)
    r = os.path.join(v2, "repositories", name)
    for k in range(2):
        cfg = blob(json.dumps({"os": "linux", "n": [i, k]}).encode())
        ls = [layers[(i + k) % 8], layers[(3 * i + k + 1) % 8]]
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": cfg, "size": 30},
             "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                         "digest": l, "size": 350} for l in ls]}
        dg = blob(json.dumps(m, indent=2).encode())
        h = dg.split(":")[1]
        put(os.path.join(r, "_manifests/revisions/sha256", h, "link"), dg.encode())
        put(os.path.join(r, "_manifests/tags/v%d/current/link" % k), dg.encode())
        put(os.path.join(r, "_manifests/tags/v%d/index/sha256" % k, h, "link"), dg.encode())
        for b in [cfg] + ls:
            put(os.path.join(r, "_layers/sha256", b.split(":")[1], "link"), b.encode())
        out.write("%s v%d %s\n" % (name, k, dg))
EOF
}

# start_fg: master in the foreground (its log in T_LOG), as in test_resilience.sh.
start_fg() {
	T_LOG=$T_DIR/regmaster.log
	REGMASTER_LIBEXECDIR=$T_LIBEXEC REGMASTER_TEST_TAG=$T_TAG \
		"$REGMASTER" -c "$T_CONF" start -f >>"$T_LOG" 2>&1 </dev/null &
	MASTER_JOB=$!
	t_record_pid "$MASTER_JOB"
}

stop_fg() {
	t_stop || t_diag "stop exited $T_RC: $T_OUT"
	[ -n "$MASTER_JOB" ] && t_gone "$MASTER_JOB" && wait "$MASTER_JOB" 2>/dev/null
	MASTER_JOB=""
}

exp_digest() { awk -v r="$1" -v t="$2" '$1 == r && $2 == t { print $3 }' "$EXP"; }

# first_get REPO REF TIMEOUT_MS: poll a manifest GET until it answers 200 or the time
# is up; sets FIRST_MS (ms to the 200, or empty) and BAD (answers other than 200
# after the first HTTP answer, "code" each, 503s of a worker being restarted
# excepted when ALLOW_503 is set).
first_get() {
	local t0 now code
	t0=$(t_now_ms)
	FIRST_MS=""
	BAD=""
	for ((i = 0; i < 2000; i++)); do
		req GET "/v2/$1/manifests/$2" -H "Accept: $MT"
		now=$(t_now_ms)
		code=$CODE
		if [ "$code" = 200 ]; then
			FIRST_MS=$((now - t0))
			return 0
		fi
		case $code in
		000) ;;
		503) [ -n "${ALLOW_503:-}" ] || BAD="$BAD $code" ;;
		*) BAD="$BAD $code" ;;
		esac
		[ $((now - t0)) -ge "$3" ] && return 1
		sleep 0.02
	done
	return 1
}

# tags_of REPO OUT / catalog_to OUT: the whole list, sorted as given.
tags_of() { req GET "/v2/$1/tags/list" && jq -r '.tags[]' "$BODY" >"$2"; }
catalog_to() { req GET "/v2/_catalog?n=100000" && jq -r '.repositories[]' "$BODY" >"$1"; }

built() { grep -q "index: built" "$T_LOG"; }

# The first answers after start, while the index builds.
test_start() {
	local repo=team19/app1499 d
	d=$(exp_digest "$repo" v1)
	start_fg
	if first_get "$repo" v1 10000 && [ -z "$BAD" ] && [ "$(hval Docker-Content-Digest)" = "$d" ] &&
		[ "$(dg "$BODY")" = "$d" ]; then
		ok "the first manifest GET by tag after start is right ($FIRST_MS ms after launch)"
	else
		fail "the first manifest GET by tag after start is right" "bad answers:$BAD" "$(what)"
	fi
	built && t_diag "(the build was complete by then)" || t_diag "(answered before the build was complete)"
	req GET "/v2/team3/app3/manifests/$(exp_digest team3/app3 v0)" -H "Accept: $MT"
	if [ "$CODE" = 200 ] && [ "$(dg "$BODY")" = "$(exp_digest team3/app3 v0)" ]; then
		ok "a manifest GET by digest at start is right"
	else fail "a manifest GET by digest at start is right" "$(what)"; fi
	tags_of team7/app7 "$T_DIR/tags.early"
	catalog_to "$T_DIR/cat.early"
	is_code "the catalog asked at start answers" 200
	req PUT /v2/team7/app7/manifests/pushed -H "Content-Type: $MT" \
		--data-binary @"$T_STORE/docker/registry/v2/blobs/sha256/$(exp_digest team7/app7 v0 | cut -c8-9)/$(exp_digest team7/app7 v0 | cut -c8-)/data"
	is_code "a manifest PUT at start is stored" 201
}

# Once the build is complete: the same lists, and the push.
test_after() {
	if t_wait_until 60 built; then ok "the build is logged complete"; else
		fail "the build is logged complete" "$(tail -5 "$T_LOG")"; fi
	if grep -qE "index: $REPOS repository names in [0-9]+ ms" "$T_LOG"; then
		ok "the names phase is logged with its count"
	else fail "the names phase is logged with its count" "$(grep 'index:' "$T_LOG")"; fi
	awk '{ print $1 }' "$EXP" | sort -u >"$T_DIR/cat.want"
	catalog_to "$T_DIR/cat.late"
	t_check "the catalog at start is the generator's" cmp -s "$T_DIR/cat.early" "$T_DIR/cat.want"
	t_check "the catalog after the build is the same" cmp -s "$T_DIR/cat.late" "$T_DIR/cat.want"
	printf 'v0\nv1\n' >"$T_DIR/tags.want"
	t_check "tags/list at start is the generator's" cmp -s "$T_DIR/tags.early" "$T_DIR/tags.want"
	tags_of team7/app7 "$T_DIR/tags.late"
	printf 'pushed\nv0\nv1\n' >"$T_DIR/tags.want"
	t_check "tags/list after the build has the tag pushed at start" \
		cmp -s "$T_DIR/tags.late" "$T_DIR/tags.want"
	req GET /v2/team7/app7/manifests/pushed -H "Accept: $MT"
	if [ "$CODE" = 200 ] && [ "$(hval Docker-Content-Digest)" = "$(exp_digest team7/app7 v0)" ]; then
		ok "the tag pushed at start is served"
	else fail "the tag pushed at start is served" "$(what)"; fi
}

# kill -9 of storaged: the next right answer within a second.
test_kill() {
	local pid repo=team1/app1000
	t_status
	pid=$(t_worker_pid storaged)
	if ! { [ -n "$pid" ] && t_is_ours "$pid" && kill -KILL "$pid"; }; then
		fail "kill -9 storaged" "$T_STATUS"
		return
	fi
	if ALLOW_503=1 first_get "$repo" v0 1000 && [ -z "$BAD" ] &&
		[ "$(hval Docker-Content-Digest)" = "$(exp_digest "$repo" v0)" ]; then
		ok "after kill -9 of storaged, the right manifest within 1 s ($FIRST_MS ms)"
	else
		fail "after kill -9 of storaged, the right manifest within 1 s" "${FIRST_MS:-none}$BAD" "$(what)"
	fi
}

# A tag moved on disk while stopped (as docker-registry would) is served moved.
test_moved() {
	local repo=team5/app5 to link
	to=$(exp_digest "$repo" v1)
	stop_fg
	link=$T_STORE/docker/registry/v2/repositories/$repo/_manifests/tags/v0
	printf '%s' "$to" >"$link/current/link"
	mkdir -p "$link/index/sha256/${to#sha256:}"
	printf '%s' "$to" >"$link/index/sha256/${to#sha256:}/link"
	start_fg
	if first_get "$repo" v0 10000 && [ "$(hval Docker-Content-Digest)" = "$to" ]; then
		ok "a tag moved while stopped is served moved at start"
	else fail "a tag moved while stopped is served moved at start" "$(what)"; fi
}

# catalog_pages N OUT: walk the catalog N a page, following Link, every page's
# status, Link and body into OUT; fails on a status other than 200.
catalog_pages() {
	local path="/v2/_catalog?n=$1" pages=0
	: >"$2"
	while [ -n "$path" ] && [ $pages -lt 1000 ]; do
		req GET "$path"
		[ "$CODE" = 200 ] || { what >>"$2"; return 1; }
		printf '%s\nLink: %s\n' "$CODE" "$(hval Link)" >>"$2"
		cat "$BODY" >>"$2"
		echo >>"$2"
		path=$(hval Link | sed -n 's/^<\([^>]*\)>; *rel="next".*/\1/p')
		pages=$((pages + 1))
	done
}

names_done() { grep -qE "index: [0-9]+ repository names in" "$T_LOG"; }

# The catalog while a slowed names walk goes on: 5 ms a name, 7.5 s for the store.
test_catalog_walking() {
	local last a1 pid code secs
	stop_fg
	: >"$T_LOG"
	REGMASTER_TEST_NAMES_DELAY_US=5000 start_fg
	first_get team3/app3 v0 10000
	# the last name of all: its page needs the whole walk, more than the wait
	last=$(awk '{ print $1 }' "$EXP" | sort | tail -1)
	curl -s --max-time 60 -D "$T_DIR/far.hdr" -o "$T_DIR/far.body" -w '%{http_code} %{time_total}' \
		"${T_CURL_ARGS[@]}" "$T_URL/v2/_catalog?n=10&last=$last" >"$T_DIR/far.code" &
	pid=$!
	req GET "/v2/_catalog?n=37"
	names_done && a1=late || a1=early
	if [ "$CODE" = 200 ] && [ "$a1" = early ]; then ok "the first catalog page is answered while the names walk goes on"
	else fail "the first catalog page is answered while the names walk goes on" "$a1 $(what)"; fi
	catalog_pages 37 "$T_DIR/pages.early"
	wait "$pid"
	read -r code secs <"$T_DIR/far.code"
	# the wait is 5 s; the walk takes 7.5 s at least
	if [ "$code" = 503 ] && grep -qi '^Retry-After: ' "$T_DIR/far.hdr" &&
		awk -v s="$secs" 'BEGIN { exit !(s >= 4.5 && s < 7) }'; then
		ok "a page past the walk's reach answers 503 with Retry-After after the wait (${secs} s)"
	else fail "a page past the walk's reach answers 503 with Retry-After after the wait" \
		"$(cat "$T_DIR/far.code") $(cat "$T_DIR/far.hdr")"; fi
	t_wait_until 60 built
	catalog_pages 37 "$T_DIR/pages.late"
	t_check "the pages served during the walk are those after the build, byte for byte" \
		cmp "$T_DIR/pages.early" "$T_DIR/pages.late"
	if [ "$(grep -c '^Link: <' "$T_DIR/pages.late")" -ge 40 ]; then ok "the walk had 40 pages and more"
	else fail "the walk had 40 pages and more" "$(grep -c '^Link: <' "$T_DIR/pages.late")"; fi
}

body() {
	t_init index_build || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	EXP=$T_DIR/expected
	if ! gen_store "$T_STORE" "$EXP"; then
		fail "generate a store of $((REPOS * 2)) manifests"
		return 1
	fi
	ok "generated a store of $(wc -l <"$EXP") manifests and tags"
	test_start
	test_after
	test_kill
	test_moved
	test_catalog_walking
	stop_fg
}

t_require_tools python3 jq curl && t_run_modes body
t_summary
