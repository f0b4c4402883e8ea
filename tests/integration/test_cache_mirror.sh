#!/bin/bash
# test_cache_mirror.sh — regmaster as docker's `registry-mirrors`: the cache's upstream
# for prefix "docker.io/" (mirror = true) is a local regmaster standing in for Docker
# Hub, holding library/busybox:latest (mkimages.sh's 3-layer image, pushed by skopeo).
#
# What it tests:
#   1. (root mode: dockerd needs root) a dockerd of our own whose daemon.json has
#      registry-mirrors = the cache `docker pull busybox`: the one-word name becomes
#      library/busybox, which the mirror is asked for (the cache's log), which the cache
#      fetches from the upstream once per blob (the upstream's log); RepoDigests and
#      the image ID are the upstream's manifest and config digests. There is no
#      internet: when the mirror fails dockerd falls back to registry-1.docker.io,
#      which cannot answer, and a Hub image would not have these digests anyway.
#      Then, the upstream stopped and the image removed, the pull again (from the
#      cache alone); and a name the upstream never had fails after asking the mirror.
#   2. (both modes) skopeo asks the cache for library/busybox (what a mirror request
#      names) and for docker.io/busybox (the library/ rule): both are the upstream's
#      digest, and both come from the one stored copy, docker.io/library/busybox.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

UP_HOST=""	# the stand-in Hub's host:port
UP_LOG=""
CACHE_HOST=""
CACHE_LOG=""
CACHE_STORE=""

gets() { log_reqs "$1" GET "$2" "${3:-0}"; }

# blob_digests: the config and layer digests of the multi image.
blob_digests() { layout_blob_digests "$IMGS/multi"; }

# each_blob_gets LOG [MARK]: the number of GETs LOG shows for each blob, in order.
each_blob_gets() {
	local d out=""
	for d in $(blob_digests); do
		out="$out $(gets "$1" "/v2/library/busybox/blobs/$d" "${2:-0}")"
	done
	printf '%s' "${out# }"
}

hub_start() {
	t_init mirror-hub || return 1
	printf 'log_file = "%s/regmaster.log";\n' "$T_DIR" >>"$T_CONF"
	t_check "the stand-in Hub (a regmaster) starts" t_start || return 1
	UP_HOST=127.0.0.1:$T_PORT
	UP_LOG=$T_DIR/regmaster.log
	t_save_instance HUB
	t_skopeo_copy "skopeo pushes library/busybox:latest to the stand-in Hub" \
		--dest-tls-verify=false "oci:$IMGS/multi:latest" \
		"docker://$UP_HOST/library/busybox:latest"
}

cache_start() {
	t_init mirror-cache || return 1
	cat >>"$T_CONF" <<EOF
log_file = "$T_DIR/regmaster.log";
cache = { upstreams = ( { prefix = "docker.io/"; url = "http://$UP_HOST"; ttl = "1h";
	mirror = true; } ); };
EOF
	t_check "the cache regmaster starts" t_start || return 1
	CACHE_HOST=127.0.0.1:$T_PORT
	CACHE_LOG=$T_DIR/regmaster.log
	CACHE_STORE=$T_STORE
	t_save_instance CACHE
}

# The suite's dockerd, mirror = the cache, pulls busybox.
test_dockerd_mirror() {
	local want config
	want=$(img_digest "$IMGS" multi)
	config=$(blob_digests | head -1)
	mkdir -p "$T_DIR/d"
	printf '{ "registry-mirrors": [ "http://%s" ], "insecure-registries": [ "%s" ] }\n' \
		"$CACHE_HOST" "$CACHE_HOST" >"$T_DIR/d/daemon.json"
	dkd_start --config-file "$T_DIR/d/daemon.json" || return 1
	cl "docker pull busybox (through registry-mirrors)" dk pull busybox
	cl "docker image inspect busybox" \
		dk image inspect --format '{{range .RepoDigests}}{{.}} {{end}}{{.Id}}' busybox
	same "the pulled image's RepoDigests and ID are the upstream's digests" \
		"busybox@$want $config" "$OUT"
	# dockerd HEADs the tag, then GETs the manifest by digest and each blob
	same "dockerd asked the mirror for library/busybox:latest (the cache's log)" 1 \
		"$(log_reqs "$CACHE_LOG" HEAD /v2/library/busybox/manifests/latest)"
	same "... and for each blob of it" "1 1 1 1" "$(each_blob_gets "$CACHE_LOG")"
	same "the cache fetched each blob from the upstream exactly once" "1 1 1 1" \
		"$(each_blob_gets "$UP_LOG")"
	same "the upstream served the manifest by tag" 1 \
		"$(gets "$UP_LOG" /v2/library/busybox/manifests/latest)"
	if [ -d "$CACHE_STORE/docker/registry/v2/repositories/docker.io/library/busybox" ]; then
		ok "the copy is stored as docker.io/library/busybox"
	else
		fail "the copy is stored as docker.io/library/busybox" \
			"$(ls -R "$CACHE_STORE/docker/registry/v2/repositories" | head)"
	fi

	cl "docker rmi busybox" dk rmi busybox
	t_use_instance HUB
	t_check "the stand-in Hub stops" t_stop
	t_use_instance CACHE
	cl "with the upstream down, docker pull busybox again (from the cache)" dk pull busybox
	cl "docker image inspect busybox, again" dk image inspect --format '{{.Id}}' busybox
	same "it is the same image" "$config" "$OUT"
	if dk pull nosuchimage >"$T_DIR/nosuch.out" 2>&1; then
		fail "a name the upstream never had is not pulled" "$(cat "$T_DIR/nosuch.out")"
	else
		ok "a name the upstream never had is not pulled"
	fi
	same "... after asking the mirror for library/nosuchimage" 1 \
		"$(log_reqs "$CACHE_LOG" HEAD /v2/library/nosuchimage/manifests/latest)"
	dkd_stop
	t_check "dockerd and what it started are stopped" \
		test -z "$(dkd_leftovers)$(dkd_is_ours && echo alive)"
}

# skopeo pulls both spellings of the Hub name.
test_spellings() {
	local want before mark
	want=$(img_digest "$IMGS" multi)
	mark=$(stat -c %s "$UP_LOG")
	t_skopeo_copy "skopeo pulls library/busybox:latest (a mirror request's name)" \
		--src-tls-verify=false "docker://$CACHE_HOST/library/busybox:latest" \
		"oci:$T_DIR/pull-mirror:latest"
	same "... its digest is the upstream's" "$want" "$(jq -r '.manifests[0].digest' \
		"$T_DIR/pull-mirror/index.json" 2>/dev/null)"
	before=$(each_blob_gets "$UP_LOG" "$mark")
	t_skopeo_copy "skopeo pulls docker.io/busybox:latest (the library/ rule)" \
		--src-tls-verify=false "docker://$CACHE_HOST/docker.io/busybox:latest" \
		"oci:$T_DIR/pull-hub:latest"
	same "... its digest is the upstream's" "$want" "$(jq -r '.manifests[0].digest' \
		"$T_DIR/pull-hub/index.json" 2>/dev/null)"
	same "... served from the copy the first pull stored (no new upstream GET)" \
		"$before" "$(each_blob_gets "$UP_LOG" "$mark")"
	same "the upstream served each blob once for both" "1 1 1 1" \
		"$(each_blob_gets "$UP_LOG" "$mark")"
}

trap 'dkd_stop; t_cleanup' EXIT
trap 'dkd_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'dkd_stop; t_cleanup; trap - EXIT; exit 143' TERM

body() {
	local tools="skopeo jq curl"
	[ "$T_MODE" = root ] && tools="$tools dockerd docker"
	# shellcheck disable=SC2086 # the tools are words
	t_require_tools $tools || return 1
	t_images mirror || return 1
	hub_start || return 1
	cache_start || return 1
	if [ "$T_MODE" = root ]; then
		test_dockerd_mirror
		t_use_instance HUB
		t_check "the stand-in Hub starts again" t_start
		t_use_instance CACHE
		t_check "the first cache stops" t_stop
		cache_start || return 1		# a second one, its store empty
	else
		t_diag "dockerd: root mode only (dockerd needs root; rootless docker needs rootlesskit)"
	fi
	test_spellings
	t_check "the cache stops" t_stop
	t_use_instance HUB
	t_check "the stand-in Hub stops" t_stop
}

t_run_modes body
t_summary
