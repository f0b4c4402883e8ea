#!/bin/bash
# test_gc.sh — online garbage collection and retention (gcd through storaged), with
# real pushes (skopeo, images from mkimages.sh) into several repositories that share
# layers, while regmaster keeps serving.
#
# What it tests (as root with privilege separation, and as a plain user):
#   1. Two repositories hold the same 3-layer image (a:v1, b:v1: shared layers), a
#      third the two-platform index (c:idx), a fourth an image of its own (d:v1), and
#      a an artifact whose subject is a:v1's manifest (a:sbom). d's manifest is
#      deleted by digest (storage.delete = true): its blobs are unreachable.
#   2. `regmaster gc --dry-run` lists what would go (d's blobs, nothing else) and
#      deletes nothing: every blob file is still there.
#   3. `regmaster gc`: d's blobs are gone, every other blob is still there and every
#      remaining blob re-hashes to its name; the shared layers are kept; a, b, c and
#      the artifact still pull (skopeo) with their digests; d's layer links are gone;
#      a second run finds nothing to do; `regmaster status` shows the usage.
#   4. gc.untagged: the index's tag is deleted, then a gc (after a reload with
#      gc.untagged = true) deletes the index and its two child manifests and their
#      blobs, keeps the tagged images and the artifact (a referrer of a kept
#      manifest); tags/list and the catalog stay right.
#   5. Retention: six tags on repository r with push times set on their links:
#      keep_last = 2, keep = "v*, latest", max_age = "30d" keeps exactly the two
#      newest others and the kept names; --dry-run lists the two it drops and keeps
#      them; the real run drops them; tags/list says so.
#   6. Debian's docker-registry, started on the same store afterwards, serves every
#      image regmaster still has (skopeo pulls them from it with their digests).
#
. "$(dirname "$0")/lib.sh"

IMGS=""
IMGS2=""

# sk_push SET SRC REPO:TAG: push layout SRC of image set SET to regmaster.
sk_push() {
	local all="" out=$T_DIR/skopeo.out
	[ "$2" = index ] && all=--all
	# shellcheck disable=SC2086 # all is one word or none
	if timeout 120 skopeo copy -q $all --dest-tls-verify=false \
		"oci:$1/$2:latest" "docker://$HOST/$3" >"$out" 2>&1 </dev/null; then
		ok "skopeo pushes $2 as $3"
	else
		fail "skopeo pushes $2 as $3" "$(cat "$out")"
		return 1
	fi
}

# sk_digest HOST REF: the digest of the manifest HOST serves for REF.
sk_digest() {
	printf 'sha256:%s\n' "$(timeout 60 skopeo inspect --raw --tls-verify=false \
		"docker://$1/$2" 2>/dev/null </dev/null | sha256sum | cut -d' ' -f1)"
}

# sk_pulls HOST REF DIGEST WHO: a full copy of REF from HOST works and has DIGEST.
sk_pulls() {
	local back=$T_DIR/pull-${2//[\/:@]/_} out=$T_DIR/skopeo.out all=""
	[[ $2 == c:* ]] && all=--all
	rm -rf -- "$back"
	# shellcheck disable=SC2086
	if timeout 120 skopeo copy -q $all --src-tls-verify=false "docker://$1/$2" \
		"oci:$back:x" >"$out" 2>&1 </dev/null; then
		same "$4: $2 pulls with its digest" "$3" \
			"$(jq -r '.manifests[0].digest' <"$back/index.json")"
	else
		fail "$4: $2 pulls" "$(cat "$out")"
	fi
}

api() { curl -s --max-time 10 "$T_URL$1"; }

setup() {
	t_init gc || return 1
	HOST=127.0.0.1:$T_PORT
	printf 'gc = { interval = "0s"; grace = "0s"; };\n' >>"$T_CONF"
	printf 'retention = ( { repo = "r"; keep_last = 2; keep = "v*, latest"; max_age = "30d"; } );\n' \
		>>"$T_CONF"
	t_check "regmaster check accepts the gc and retention keys" t_rm check
	t_check "regmaster starts" t_start || return 1
	IMGS=$T_DIR/imgs
	IMGS2=$T_DIR/imgs2
	build_images "$IMGS" && build_images "$IMGS2" || return 1
	sk_push "$IMGS" multi a:v1 && sk_push "$IMGS" multi b:v1 &&
		sk_push "$IMGS" index c:idx && sk_push "$IMGS" artifact a:sbom &&
		sk_push "$IMGS2" multi d:v1 || return 1
}

test_sweep() {
	local before after keep gone d2
	d2=$(img_digest "$IMGS2" multi)
	same "DELETE d's manifest by digest" 202 \
		"$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$T_URL/v2/d/manifests/$d2")"
	keep=$(sort -u <(layout_set "$IMGS/multi") <(layout_set "$IMGS/index") \
		<(layout_set "$IMGS/artifact"))
	gone=$(comm -23 <(layout_set "$IMGS2/multi") <(printf '%s\n' "$keep"))
	before=$(store_blobs)
	t_check "gc --dry-run succeeds" gc_run --dry-run
	same "--dry-run: would delete d's blobs" "$(wc -l <<<"$gone")" "$(gc_field blobs)"
	same "--dry-run lists exactly d's blobs" "$gone" \
		"$(grep '^blob ' <<<"$GC_OUT" | cut -d' ' -f2 | sort)"
	same "--dry-run deletes nothing" "$before" "$(store_blobs)"
	t_check "gc succeeds" gc_run
	same "gc deletes d's blobs" "$(wc -l <<<"$gone")" "$(gc_field blobs)"
	after=$(store_blobs)
	t_check "d's blobs are gone" has_none "$after" "$gone"
	t_check "every blob of a, b, c and the artifact is kept (shared layers too)" \
		has_all "$after" "$keep"
	same "nothing else is gone" "$(comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$gone"))" "$after"
	t_check "every remaining blob re-hashes to its digest" rehash_all
	same "d's layer links are gone" "" \
		"$(find "$T_STORE/docker/registry/v2/repositories/d/_layers" -name link)"
	same "what the sweep took out is freed after the run" "" "$(swept_left)"
	t_check "a second gc succeeds" gc_run
	same "a second gc finds nothing" 0 "$(gc_field blobs)"
	test_swept_leftover
	sk_pulls "$HOST" a:v1 "$(img_digest "$IMGS" multi)" regmaster
	sk_pulls "$HOST" b:v1 "$(img_digest "$IMGS" multi)" regmaster
	sk_pulls "$HOST" c:idx "$(img_digest "$IMGS" index)" regmaster
	sk_pulls "$HOST" a:sbom "$(img_digest "$IMGS" artifact)" regmaster
	t_rm status
	t_check "status shows the storage usage of a" grep -q '^repository a bytes=[1-9]' <<<"$T_OUT"
	t_check "status shows the total" grep -q '^storage: [1-9][0-9]* bytes' <<<"$T_OUT"
}

# What a sweep renamed but a crash kept storaged from freeing (a blob's directory, a
# layer link's) is freed (and counted) by the next run; it serves as nothing meanwhile.
test_swept_leftover() {
	local hex dir ldir
	hex=$(printf 'left by a crash\n' | sha256sum | cut -d' ' -f1)
	dir=$(blobdir)/${hex:0:2}/.regmaster-swept-$hex
	ldir=$T_STORE/docker/registry/v2/repositories/a/_layers/sha256/.regmaster-swept-$hex
	mkdir -p "$dir" "$ldir" && printf 'left by a crash\n' >"$dir/data" &&
		printf 'sha256:%s' "$hex" >"$ldir/link" &&
		touch -d '-2 hours' "$dir/data" "$ldir/link" &&
		chown -R --reference="$(blobdir)" "$(dirname "$dir")" "$ldir" ||
		{ fail "make a sweep's leftovers"; return; }
	same "a leftover is no blob: HEAD answers 404" 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' -I "$T_URL/v2/a/blobs/sha256:$hex")"
	t_check "gc with leftovers succeeds" gc_run
	same "the next gc frees the leftovers (1 blob, 16 bytes, 1 layer link)" "1 16 1" \
		"$(gc_field blobs) $(gc_field 'bytes freed') $(gc_field layer)"
	same "the leftovers are gone" "" "$(swept_left)"
}

test_untagged() {
	local idx gone after
	idx=$(img_digest "$IMGS" index)
	same "DELETE the tag c:idx" 202 \
		"$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$T_URL/v2/c/manifests/idx")"
	t_check "gc without gc.untagged succeeds" gc_run
	same "without gc.untagged the untagged index stays" 0 "$(gc_field manifests)"
	sed -i 's/^gc = { interval = "0s"; grace = "0s"; };/gc = { interval = "0s"; grace = "0s"; untagged = true; };/' "$T_CONF"
	t_check "reload" t_rm reload
	sleep 1
	gone=$(comm -23 <(layout_set "$IMGS/index") <(layout_set "$IMGS/multi"))
	t_check "gc with gc.untagged succeeds" gc_run
	same "gc deletes the index and its two children" 3 "$(gc_field manifests)"
	after=$(store_blobs)
	t_check "the index's blobs are gone" has_none "$after" "$gone"
	t_check "the tagged images and the artifact are kept" has_all "$after" \
		"$(sort -u <(layout_set "$IMGS/multi") <(layout_set "$IMGS/artifact"))"
	same "c's manifest by digest is gone" 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$T_URL/v2/c/manifests/$idx")"
	sk_pulls "$HOST" a:sbom "$(img_digest "$IMGS" artifact)" regmaster
	same "a's tags" '["sbom","v1"]' "$(api /v2/a/tags/list | jq -c '.tags | sort')"
	t_check "every remaining blob re-hashes to its digest" rehash_all
}

# set_pushed TAG DAYS: make r:TAG's push time DAYS days ago.
set_pushed() {
	touch -h -d "@$(($(date +%s) - $2 * 86400))" \
		"$T_STORE/docker/registry/v2/repositories/r/_manifests/tags/$1/current/link"
}

test_retention() {
	local t
	for t in t1 t2 t3 old v1 latest; do sk_push "$IMGS" multi "r:$t" || return 1; done
	set_pushed t1 10; set_pushed t2 5; set_pushed t3 1; set_pushed old 40
	set_pushed v1 100; set_pushed latest 100
	t_check "gc --dry-run with retention succeeds" gc_run --dry-run
	same "--dry-run lists the tags retention drops" "tag r:old
tag r:t1" "$(grep '^tag ' <<<"$GC_OUT" | cut -d' ' -f1,2 | sort)"
	same "--dry-run keeps every tag" '["latest","old","t1","t2","t3","v1"]' \
		"$(api /v2/r/tags/list | jq -c '.tags | sort')"
	t_check "gc with retention succeeds" gc_run
	same "gc deletes two tags" 2 "$(gc_field tags)"
	same "retention keeps the 2 newest and the kept names" '["latest","t2","t3","v1"]' \
		"$(api /v2/r/tags/list | jq -c '.tags | sort')"
	same "the tags' manifest stays (other tags name it)" 0 "$(gc_field manifests)"
	t_check "every remaining blob re-hashes to its digest" rehash_all
}

test_distribution_serves() {
	t_check "regmaster stops" t_stop
	dr_start "$T_STORE" || return 1
	sk_pulls "$DR_HOST" a:v1 "$(img_digest "$IMGS" multi)" docker-registry
	sk_pulls "$DR_HOST" b:v1 "$(img_digest "$IMGS" multi)" docker-registry
	sk_pulls "$DR_HOST" a:sbom "$(img_digest "$IMGS" artifact)" docker-registry
	sk_pulls "$DR_HOST" r:t3 "$(img_digest "$IMGS" multi)" docker-registry
	same "docker-registry: d's manifest is unknown" 404 \
		"$(curl -s -o /dev/null -w '%{http_code}' "$DR_URL/v2/d/manifests/$(img_digest "$IMGS2" multi)")"
	dr_stop
}

body() {
	local tool
	for tool in "$DOCKER_REGISTRY" skopeo jq curl; do
		command -v "$tool" >/dev/null 2>&1 && continue
		fail "$tool is installed (gc's tests need it)"
		return 1
	done
	setup || return 1
	test_sweep
	test_untagged
	test_retention
	test_distribution_serves
}

t_run_modes body
t_summary
