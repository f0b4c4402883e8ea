#!/bin/bash
# test_interop.sh — the store format, checked against the real thing: Debian's
# docker-registry (Docker Distribution 2.8) serves a store regmaster wrote, and
# regmaster serves a store docker-registry wrote, with every digest unchanged.
#
# What it tests (both modes: as root with privilege separation, and as a plain user):
#   1. regmaster -> Distribution: skopeo pushes a 3-layer image, a two-platform index
#      and an OCI 1.1 artifact (next to its subject) into regmaster; regmaster stops;
#      docker-registry started on the same storage root serves them: `skopeo inspect
#      --raw` and `skopeo copy` to an OCI layout give the digests regmaster reported
#      (Docker-Content-Digest) and blobs whose sha256 is their name, the same blob set
#      as the source layout; tags/list and _catalog list the repositories and tags.
#   2. Distribution -> regmaster: the same images pushed into docker-registry on a
#      fresh store; docker-registry stops; regmaster started on that store serves them
#      to skopeo with the same digests, and to curl: manifest by tag, blob by digest,
#      tags/list, _catalog, the referrers of the artifact's subject (which regmaster
#      can only know from the stored manifests: Distribution 2.8 keeps no referrers).
#      Then a new image is pushed into regmaster under a new tag, and docker-registry,
#      restarted on the store, serves the new tag next to the old ones.
#   3. And back again: docker-registry adds a tag to that store, and regmaster, started
#      on it once more, serves that tag, moves it to another image and deletes it.
#      (As root this checks that regmaster takes over what a root-run Distribution
#      wrote into a store that regmaster already owned.)
#
# docker-registry is started by this suite, in the background, and stopped by its PID
# (only after checking that PID still runs docker-registry). Without docker-registry or
# skopeo the suite reports that as a failure: interop is what it exists to check.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_INDEX=application/vnd.oci.image.index.v1+json
ARTIFACT_TYPE=application/vnd.example.sbom.v1
# Every manifest type we push, so a HEAD by tag is never refused by Accept negotiation.
ACCEPT="$MT_MANIFEST, $MT_INDEX, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

# What is pushed: source image (a layout made by mkimages.sh) and repository:tag. The
# artifact goes next to a copy of its subject, since referrers are per repository.
PUSHES="multi interop/multi:v1
index interop/index:v1
multi interop/artifact:subject
artifact interop/artifact:v1"
REPOS="interop/artifact interop/index interop/multi"

CODE=""     # status of the last req
GOT=""      # digest found by the last head_digest
PULLS=0     # skopeo pulls so far (each gets its own layout directory)

# ---------------------------------------------------------------- helpers

# t_true DESC CMD...: ok when CMD succeeds, else a failure (details: the last response)
# and status 1.
t_true() {
	local d=$1
	shift
	if "$@"; then
		ok "$d"
	else
		fail "$d" "command: $*" "$(what)"
		return 1
	fi
}

# blob_set LAYOUT: the blob names of an OCI layout, sorted, on one line.
blob_set() { (cd "$1/blobs/sha256" && printf '%s ' *); }

# blobs_verify LAYOUT: every blob file's sha256 is its name.
blobs_verify() {
	local b
	for b in "$1"/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || return 1
	done
}

# head_digest URL REPO REF: sets GOT to the Docker-Content-Digest of a manifest HEAD
# (empty unless 200). Not a $(...) function, so CODE stays set for what().
head_digest() {
	GOT=""
	req HEAD "$1/v2/$2/manifests/$3" -H "Accept: $ACCEPT"
	[ "$CODE" = 200 ] && GOT=$(hval Docker-Content-Digest)
}

# all_flag SRC: skopeo's --all for the index (both platforms), nothing otherwise.
all_flag() { [ "$1" = index ] && printf -- '--all\n'; }

# ---------------------------------------------------------------- skopeo

# sk_push IMGDIR SRC HOST REPO:TAG WHO: push layout SRC of an image set to HOST.
sk_push() {
	local out=$T_DIR/skopeo.out
	# shellcheck disable=SC2046 # all_flag prints nothing or one word
	if timeout 120 skopeo copy -q $(all_flag "$2") --dest-tls-verify=false \
		"oci:$1/$2:latest" "docker://$3/$4" >"$out" 2>&1 </dev/null; then
		ok "skopeo pushes $2 into $5 as $4"
	else
		fail "skopeo pushes $2 into $5 as $4" "$(cat "$out")"
		return 1
	fi
}

# sk_pull_check IMGDIR SRC HOST REPO:TAG WHO: HOST serves REPO:TAG as the image SRC of
# the set: inspect --raw gives its digest, and a copy to an OCI layout has the same
# digest and exactly the source layout's blobs, each matching its digest.
sk_pull_check() {
	local imgs=$1 src=$2 host=$3 ref=$4 who=$5 want got back out=$T_DIR/skopeo.out
	want=$(img_digest "$imgs" "$src")
	got=$(timeout 60 skopeo inspect --raw --tls-verify=false "docker://$host/$ref" 2>"$out" </dev/null |
		sha256sum | cut -d' ' -f1)
	same "$who: skopeo inspect --raw $ref has the pushed digest" "$want" "sha256:$got" "$(cat "$out")"
	PULLS=$((PULLS + 1))
	back=$T_DIR/pulled-$PULLS-${ref//[\/:]/_}
	rm -rf -- "$back"
	# shellcheck disable=SC2046 # all_flag prints nothing or one word
	if timeout 120 skopeo copy -q $(all_flag "$src") --src-tls-verify=false \
		"docker://$host/$ref" "oci:$back:latest" >"$out" 2>&1 </dev/null; then
		ok "$who: skopeo copy pulls $ref"
	else
		fail "$who: skopeo copy pulls $ref" "$(cat "$out")"
		return 1
	fi
	same "$who: the pulled $ref has the pushed digest" "$want" \
		"$(jq -r '.manifests[0].digest' <"$back/index.json")"
	same "$who: the pulled $ref has exactly the source's blobs" \
		"$(blob_set "$imgs/$src")" "$(blob_set "$back")"
	t_check "$who: every pulled blob of $ref matches its digest" blobs_verify "$back"
}

# sk_pull_all IMGDIR HOST WHO: sk_pull_check every entry of PUSHES.
sk_pull_all() {
	local src ref
	while read -r src ref; do
		sk_pull_check "$1" "$src" "$2" "$ref" "$3" </dev/null
	done <<<"$PUSHES"
}

# sk_push_all IMGDIR HOST WHO: push every entry of PUSHES, and check that the registry's
# Docker-Content-Digest for each is mkimages.sh's digest. (skopeo reads no stdin, but
# the loop's stdin is the list, so every command in it gets /dev/null.)
sk_push_all() {
	local src ref
	while read -r src ref; do
		sk_push "$1" "$src" "$2" "$ref" "$3" </dev/null || continue
		head_digest "http://$2" "${ref%:*}" "${ref##*:}" </dev/null
		same "$3 reports the layout's digest for $ref (Docker-Content-Digest)" \
			"$(img_digest "$1" "$src")" "$GOT" "$(what)"
	done <<<"$PUSHES"
}

# The harness's traps clean regmaster up; docker-registry is ours to stop first.
trap 'dr_stop; t_cleanup' EXIT
trap 'dr_stop; t_cleanup; trap - EXIT; exit 130' INT
trap 'dr_stop; t_cleanup; trap - EXIT; exit 143' TERM

# ---------------------------------------------------------------- listings

# check_listings URL WHO [REPO TAGS]...: tags/list of each REPO is exactly TAGS (JSON
# array), and _catalog lists every repository of REPOS.
check_listings() {
	local url=$1 who=$2 repo tags cat
	shift 2
	while [ $# -ge 2 ]; do
		repo=$1 tags=$2
		shift 2
		req GET "$url/v2/$repo/tags/list"
		same "$who: tags/list of $repo" "{\"name\":\"$repo\",\"tags\":$tags}" \
			"$(jq -c '{name, tags: (.tags | sort)}' <"$BODY" 2>/dev/null)" "$(what)"
	done
	req GET "$url/v2/_catalog"
	cat=$(jq -r '.repositories[]' <"$BODY" 2>/dev/null | grep '^interop/' | tr '\n' ' ')
	same "$who: _catalog lists the repositories" "$REPOS " "$cat" "$(what)"
}

# ---------------------------------------------------------------- 1. regmaster -> Distribution

test_to_distribution() {
	local imgs
	t_init interop-rm2dr || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	imgs=$T_DIR/img
	build_images "$imgs" || return 1
	t_start || {
		fail "start regmaster" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10 || {
		fail "regmaster answers /v2/" "$(t_http_code "$T_URL/v2/")"
		return 1
	}
	sk_push_all "$imgs" "127.0.0.1:$T_PORT" regmaster
	t_check "regmaster stops" t_stop

	dr_start "$T_STORE" || return 1
	sk_pull_all "$imgs" "$DR_HOST" docker-registry
	# Distribution reads regmaster's tag links and revision links the same way.
	head_digest "$DR_URL" interop/multi v1
	same "docker-registry: Docker-Content-Digest of interop/multi:v1" \
		"$(img_digest "$imgs" multi)" "$GOT" "$(what)"
	head_digest "$DR_URL" interop/index v1
	same "docker-registry: Docker-Content-Digest of interop/index:v1" \
		"$(img_digest "$imgs" index)" "$GOT" "$(what)"
	check_listings "$DR_URL" docker-registry interop/multi '["v1"]' interop/index '["v1"]' \
		interop/artifact '["subject","v1"]'
	dr_stop
}

# ---------------------------------------------------------------- 2. Distribution -> regmaster

# check_curl_regmaster IMGDIR: manifest by tag, blob by digest, referrers, via curl.
check_curl_regmaster() {
	local imgs=$1 md ad layer
	md=$(img_digest "$imgs" multi)
	ad=$(img_digest "$imgs" artifact)
	req GET "$T_URL/v2/interop/multi/manifests/v1" -H "Accept: $ACCEPT"
	t_true "regmaster: manifest GET by tag: 200" [ "$CODE" = 200 ]
	same "regmaster: the manifest body is the one pushed" "$md" "$(dg "$BODY")"
	same "regmaster: Docker-Content-Digest of the manifest" "$md" "$(hval Docker-Content-Digest)"
	same "regmaster: Content-Type of the manifest" "$MT_MANIFEST" "$(hval Content-Type)"
	# The biggest layer (5 MiB) of the image, by its digest.
	layer=$(jq -r '.layers | max_by(.size) | .digest' <"$BODY")
	req GET "$T_URL/v2/interop/multi/blobs/$layer"
	t_true "regmaster: blob GET by digest: 200" [ "$CODE" = 200 ]
	same "regmaster: the blob's sha256 is its digest" "$layer" "$(dg "$BODY")"
	same "regmaster: the blob is the source layout's" "$(dg "$imgs/multi/blobs/sha256/${layer#sha256:}")" \
		"$(dg "$BODY")"
	req GET "$T_URL/v2/interop/index/manifests/v1" -H "Accept: $ACCEPT"
	same "regmaster: the index by tag has its digest" "$(img_digest "$imgs" index)" "$(dg "$BODY")"
	same "regmaster: Content-Type of the index" "$MT_INDEX" "$(hval Content-Type)"
	# Distribution 2.8 kept no referrers: regmaster finds them in the stored manifests.
	req GET "$T_URL/v2/interop/artifact/referrers/$md"
	t_true "regmaster: referrers of the artifact's subject: 200" [ "$CODE" = 200 ]
	same "regmaster: the referrers list the artifact docker-registry stored" \
		"$ad $ARTIFACT_TYPE" "$(jq -r '.manifests[] | "\(.digest) \(.artifactType)"' <"$BODY" 2>/dev/null)" "$(what)"
	req GET "$T_URL/v2/interop/multi/referrers/$md"
	same "regmaster: no referrers in a repository without the artifact" "[]" \
		"$(jq -c '.manifests' <"$BODY" 2>/dev/null)" "$(what)"
}

test_from_distribution() {
	local imgs imgs2 v2
	t_init interop-dr2rm || return 1
	HDR=$T_DIR/resp.hdr
	BODY=$T_DIR/resp.body
	imgs=$T_DIR/img
	imgs2=$T_DIR/img2
	build_images "$imgs" || return 1
	build_images "$imgs2" || return 1

	dr_start "$T_STORE" || return 1
	sk_push_all "$imgs" "$DR_HOST" docker-registry
	dr_stop

	t_start || {
		fail "start regmaster on docker-registry's store" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10 || {
		fail "regmaster answers /v2/ on docker-registry's store" "$(t_http_code "$T_URL/v2/")"
		return 1
	}
	sk_pull_all "$imgs" "127.0.0.1:$T_PORT" regmaster
	check_curl_regmaster "$imgs"
	check_listings "$T_URL" regmaster interop/multi '["v1"]' interop/index '["v1"]' \
		interop/artifact '["subject","v1"]'

	# New content under a new tag, written by regmaster into Distribution's store.
	v2=$(img_digest "$imgs2" multi)
	if sk_push "$imgs2" multi "127.0.0.1:$T_PORT" interop/multi:v2 regmaster; then
		head_digest "$T_URL" interop/multi v2
		same "regmaster reports the new image's digest" "$v2" "$GOT" "$(what)"
	fi
	t_check "regmaster stops" t_stop

	dr_start "$T_STORE" || return 1
	sk_pull_check "$imgs2" multi "$DR_HOST" interop/multi:v2 docker-registry
	sk_pull_check "$imgs" multi "$DR_HOST" interop/multi:v1 docker-registry
	check_listings "$DR_URL" docker-registry interop/multi '["v1","v2"]'
	dr_stop
	test_back_again "$imgs2"
}

# ---------------------------------------------------------------- 3. and back again

# test_back_again IMGDIR2: on the store of test_from_distribution (which regmaster has
# taken over), docker-registry writes once more, then regmaster must be able to change
# what it wrote. A deployment that goes back to registry:2 for a while (run as root, as
# its image does) and then returns to regmaster does exactly this.
test_back_again() {
	local imgs2=$1 v2 v3
	v2=$(img_digest "$imgs2" multi)
	v3=$(img_digest "$imgs2" index)
	dr_start "$T_STORE" || return 1
	# The second set's index: content no one has written into this store yet.
	if sk_push "$imgs2" index "$DR_HOST" interop/multi:v3 docker-registry; then
		head_digest "$DR_URL" interop/multi v3
		same "docker-registry reports the digest of the tag it added" "$v3" "$GOT" "$(what)"
	fi
	dr_stop
	t_start || {
		fail "restart regmaster after docker-registry wrote to its store" "$T_OUT"
		return 1
	}
	t_wait_http "$T_URL/v2/" 200 10
	head_digest "$T_URL" interop/multi v3
	same "regmaster serves the tag docker-registry added" "$v3" "$GOT" "$(what)"
	# Moving and deleting that tag rewrites files docker-registry created.
	req GET "$T_URL/v2/interop/multi/manifests/v2" -H "Accept: $ACCEPT"
	cp -- "$BODY" "$T_DIR/v2.json"
	req PUT "$T_URL/v2/interop/multi/manifests/v3" -H "Content-Type: $MT_MANIFEST" \
		--data-binary "@$T_DIR/v2.json"
	# The checks after a refusal would only repeat it, so they wait for success.
	if t_true "regmaster moves the tag docker-registry added: 201" [ "$CODE" = 201 ]; then
		head_digest "$T_URL" interop/multi v3
		same "the moved tag names the other image" "$v2" "$GOT" "$(what)"
	fi
	req DELETE "$T_URL/v2/interop/multi/manifests/v3"
	t_true "regmaster deletes the tag docker-registry added: 202" [ "$CODE" = 202 ] &&
		check_listings "$T_URL" regmaster interop/multi '["v1","v2"]'
	t_check "regmaster stops" t_stop
}

# ---------------------------------------------------------------- the suite

body() {
	local tool
	for tool in "$DOCKER_REGISTRY" skopeo jq curl; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (interop needs it)"
		return 1
	done
	test_to_distribution
	dr_stop
	test_from_distribution
	dr_stop
}

t_run_modes body
t_summary
