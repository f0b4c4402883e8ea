#!/bin/bash
# test_cache_evict.sh — cache.max_size: gc evicts the least recently pulled images of
# the cached repositories (names under an upstream's prefix), never a local one, and
# storaged keeps the last pull times (written lazily as revision link mtimes).
#
# What it tests (as root with privilege separation, and as a plain user):
#   1. Four random images: app:v1 (local) is set S1; hub/a:v1 and hub/e:v1 (cached,
#      sharing every blob) are S2; hub/b:v1 is S3; hub/c:v1 is S4.  They are pushed
#      before the cache is configured (cache.push refuses pushes to cached names);
#      then regmaster restarts with an upstream for prefix "hub/" (never dialled: only
#      pulls by digest, which the store answers) and cache.pull_interval = 1h.
#   2. Last pull times: every link is aged (hub/e 5 days, a 4, b 3, c 2, app 9); a pull
#      of hub/a by digest does not touch its revision link at once (a time in
#      memory), `regmaster stop` writes it; app's pull never does (local).
#   3. cache.max_size = size(S2) + size(S4) + 1000: `gc --dry-run` lists hub/e and
#      hub/b to evict (e is the oldest but frees nothing: a still uses S2; b frees S3)
#      and deletes nothing; `gc` evicts exactly those (their revision links and tags
#      leave the store; the cache would fetch them again: 502, its upstream is down), S3's
#      blobs are gone, S2's stay, every blob re-hashes, app, hub/a and hub/c pull
#      whole with their digests; a second gc evicts nothing.
#   4. cache.pull_interval = 1s (reload): a pull of hub/c by digest reaches its link
#      within seconds without a gc, and survives kill -9 of storaged.
#
. "$(dirname "$0")/lib.sh"

V2=docker/registry/v2/repositories
MAN_ACCEPT="application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"

# push SET REPO:TAG: push image "multi" of set SET.
push() {
	t_skopeo_copy "skopeo pushes $(basename "$1") as $2" --dest-tls-verify=false \
		"oci:$1/multi:latest" "docker://127.0.0.1:$T_PORT/$2" </dev/null
}

# pull_digest REPO DIGEST: GET a manifest by digest; its status code.
pull_digest() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Accept: $MAN_ACCEPT" \
		"$T_URL/v2/$1/manifests/$2"
}

# revlink REPO DIGEST: the revision link's path.
revlink() { printf '%s/%s/%s/_manifests/revisions/sha256/%s/link\n' "$T_STORE" "$V2" "$1" "${2#sha256:}"; }
mtime() { stat -c %Y "$1"; }

# age REPO DIGEST DAYS: the repository's revision and tag links DAYS days old.
age() {
	local t=$(($(date +%s) - $3 * 86400))
	touch -h -d "@$t" "$(revlink "$1" "$2")" \
		"$T_STORE/$V2/$1/_manifests/tags/v1/current/link"
}

# gone_from_store REPO DIGEST: neither its revision link nor its tag v1 is left.
gone_from_store() {
	[ ! -e "$(revlink "$1" "$2")" ] && [ ! -e "$T_STORE/$V2/$1/_manifests/tags/v1/current/link" ]
}
is_200() { [ "$(pull_digest "$1" "$2")" = 200 ]; }

# set_bytes SET: what image multi of SET takes in the store (every blob of it).
set_bytes() { stat -c %s "$1"/multi/blobs/sha256/* | awk '{ n += $1 } END { print n }'; }

# recent FILE: its mtime is within the last 120 s.
recent() { [ $(($(date +%s) - $(mtime "$1"))) -lt 120 ]; }

setup() {
	local s
	t_init cache_evict || return 1
	printf 'gc = { interval = "0s"; grace = "0s"; };\n' >>"$T_CONF"
	t_check "regmaster starts (no cache yet)" t_start || return 1
	for s in 1 2 3 4; do build_images "$T_DIR/s$s" || return 1; done
	push "$T_DIR/s1" app:v1 && push "$T_DIR/s2" hub/a:v1 && push "$T_DIR/s2" hub/e:v1 &&
		push "$T_DIR/s3" hub/b:v1 && push "$T_DIR/s4" hub/c:v1 || return 1
	t_check "regmaster stops" t_stop
	D1=$(img_digest "$T_DIR/s1" multi) D2=$(img_digest "$T_DIR/s2" multi)
	D3=$(img_digest "$T_DIR/s3" multi) D4=$(img_digest "$T_DIR/s4" multi)
	age hub/e "$D2" 5; age hub/a "$D2" 4; age hub/b "$D3" 3; age hub/c "$D4" 2
	age app "$D1" 9
	MAX=$(($(set_bytes "$T_DIR/s2") + $(set_bytes "$T_DIR/s4") + 1000))
	printf 'cache = { upstreams = ( { prefix = "hub/"; url = "http://127.0.0.1:9"; } ); max_size = "%s"; pull_interval = "1h"; };\n' \
		"$MAX" >>"$T_CONF"
	t_check "regmaster check accepts the cache keys" t_rm check
	t_check "regmaster starts with the cache" t_start
}

test_pull_times() {
	local a_old app_old
	a_old=$(mtime "$(revlink hub/a "$D2")") app_old=$(mtime "$(revlink app "$D1")")
	same "hub/a pulls by digest" 200 "$(pull_digest hub/a "$D2")"
	same "app pulls by digest" 200 "$(pull_digest app "$D1")"
	sleep 1
	same "a pull writes nothing at once" "$a_old" "$(mtime "$(revlink hub/a "$D2")")"
	t_check "regmaster stops" t_stop
	t_check "the stop wrote hub/a's last pull" recent "$(revlink hub/a "$D2")"
	same "a local repository's link keeps its push time" "$app_old" \
		"$(mtime "$(revlink app "$D1")")"
	t_check "regmaster starts again" t_start
}

test_evict() {
	local before after s2 s3
	s2=$(layout_set "$T_DIR/s2/multi") s3=$(layout_set "$T_DIR/s3/multi")
	before=$(store_blobs)
	t_check "gc --dry-run succeeds" gc_run --dry-run
	same "--dry-run lists hub/e and hub/b to evict" "evict hub/b@$D3
evict hub/e@$D2" "$(grep '^evict ' <<<"$GC_OUT" | sort)"
	same "--dry-run evicts nothing" "$before" "$(store_blobs)"
	t_check "gc succeeds" gc_run
	same "gc evicts two images" 2 "$(gc_field "images evicted")"
	t_check "hub/e's revision link and tag are gone" gone_from_store hub/e "$D2"
	t_check "hub/b's revision link and tag are gone" gone_from_store hub/b "$D3"
	# the cache would fetch them again; its upstream is down: 502
	t_check "hub/e is no longer served from the store" t_not is_200 hub/e "$D2"
	after=$(store_blobs)
	t_check "hub/b's blobs are swept" has_none "$after" "$s3"
	t_check "hub/a's blobs (hub/e's too) stay" has_all "$after" "$s2"
	t_check "app's and hub/c's blobs stay" has_all "$after" \
		"$(sort -u <(layout_set "$T_DIR/s1/multi") <(layout_set "$T_DIR/s4/multi"))"
	t_check "every remaining blob re-hashes to its digest" rehash_all
	t_skopeo_copy "app:v1 pulls whole" --src-tls-verify=false \
		"docker://127.0.0.1:$T_PORT/app:v1" "oci:$T_DIR/pull-app:x"
	t_skopeo_copy "hub/a:v1 pulls whole" --src-tls-verify=false \
		"docker://127.0.0.1:$T_PORT/hub/a@$D2" "oci:$T_DIR/pull-a:x"
	t_skopeo_copy "hub/c:v1 pulls whole" --src-tls-verify=false \
		"docker://127.0.0.1:$T_PORT/hub/c@$D4" "oci:$T_DIR/pull-c:x"
	same "app's pulled digest" "$D1" "$(jq -r '.manifests[0].digest' <"$T_DIR/pull-app/index.json")"
	t_rm status
	same "status shows what the cache holds" "cache: $(gc_field "after") bytes held by cached repositories (cache.max_size $MAX; 0: no limit)" \
		"$(grep '^cache: ' <<<"$T_OUT")"
	t_check "gc succeeds again" gc_run
	same "a second gc evicts nothing" 0 "$(gc_field "images evicted")"
}

test_interval() {
	local sp
	sed -i 's/pull_interval = "1h"/pull_interval = "1s"/' "$T_CONF"
	t_check "reload with cache.pull_interval = 1s" t_rm reload
	sleep 1
	age hub/c "$D4" 2
	same "hub/c pulls by digest" 200 "$(pull_digest hub/c "$D4")"
	t_check "within seconds, hub/c's last pull is on disk" \
		t_wait_until 10 recent "$(revlink hub/c "$D4")"
	t_status
	sp=$(t_worker_pid storaged)
	kill -KILL "$sp" 2>/dev/null
	t_check "storaged comes back after kill -9" t_wait_until 15 storaged_new "$sp"
	t_check "the last pull outlives kill -9" recent "$(revlink hub/c "$D4")"
	same "hub/c still pulls" 200 "$(pull_digest hub/c "$D4")"
}

# storaged_new OLDPID: every worker runs, storaged under another pid.
storaged_new() { t_all_running && [ "$(t_worker_pid storaged)" != "$1" ]; }

body() {
	local tool
	for tool in skopeo jq curl; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (the cache eviction tests need it)"
		return 1
	done
	setup || return 1
	test_pull_times
	test_evict
	test_interval
}

t_run_modes body
t_summary
