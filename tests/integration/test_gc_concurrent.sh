#!/bin/bash
# test_gc_concurrent.sh — garbage collection racing pushes: `regmaster gc` runs in a
# loop while 50 skopeo pushes run at once, each a small image of its own repository
# with one layer every image shares and one layer of its own.  The shared layer is
# garbage when the race starts: pushed before by an image whose manifest was then
# deleted, its blob and links aged by an hour, so any run may sweep it while the
# pushes find it in the store, mount it or upload it again; ten more deleted and aged
# images are plain garbage.  gc.grace is 5s.  What protects the pushes is storaged's
# memory of what commits, mounts and manifest PUTs use since a run began and gcd's
# respect for layer links younger than gc.grace: the race registry:2's
# garbage-collect loses.
#
# What it tests (in the mode of the user running it):
#   1. gc keeps running and succeeding during the pushes (at least two runs overlap
#      them) and sweeps the garbage meanwhile.
#   2. Every push succeeds, and every image is served afterwards: its manifest by tag
#      with the digest of its layout, and a full copy (skopeo) pulls it with every
#      blob.
#   3. After one more gc with nothing pushing, all of them still pull, the garbage
#      images' own blobs are gone, and every remaining blob re-hashes to its digest.
#
. "$(dirname "$0")/lib.sh"

N=50
IMGDIR=""

# put_blob LAYOUT FILE: move FILE into LAYOUT as a blob; sets BD (digest), BS (size).
put_blob() {
	local h
	h=$(sha256sum "$2" | cut -d' ' -f1)
	BS=$(stat -c %s "$2")
	BD=sha256:$h
	mv -- "$2" "$1/blobs/sha256/$h"
}

# mk_layer FILE SEED: a gzip'd tar of 4 KiB of random bytes; DIFF its diff_id.
mk_layer() {
	local w=$IMGDIR/w.$$.$2
	mkdir -p "$w/d"
	head -c 4096 /dev/urandom >"$w/d/f$2"
	tar -C "$w/d" --mtime=@0 --owner=0 --group=0 -cf "$w/l.tar" .
	DIFF=sha256:$(sha256sum "$w/l.tar" | cut -d' ' -f1)
	gzip -n -c "$w/l.tar" >"$1"
	rm -rf -- "$w"
}

# mk_image LAYOUT I: an OCI layout with the shared base layer and one of its own.
mk_image() {
	local L=$1 cfg man base_d base_s own_d own_s
	mkdir -p "$L/blobs/sha256"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
	cp "$IMGDIR/base.tgz" "$L/b.tmp" && put_blob "$L" "$L/b.tmp"
	base_d=$BD base_s=$BS
	mk_layer "$L/o.tmp" "$2" && put_blob "$L" "$L/o.tmp"
	own_d=$BD own_s=$BS
	cfg=$L/c.tmp
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s"]}}' \
		"$BASE_DIFF" "$DIFF" >"$cfg"
	put_blob "$L" "$cfg"
	man=$L/m.tmp
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
		"$BD" "$BS" "$base_d" "$base_s" "$own_d" "$own_s" >"$man"
	put_blob "$L" "$man"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
		"$BD" "$BS" >"$L/index.json"
	printf '%s\n' "$BD" >"$L.digest"
}

# push I: push image I to p/I:v1 in the background; its exit status in I.rc.
push() {
	(timeout 120 skopeo copy -q --dest-tls-verify=false "oci:$IMGDIR/i$1:latest" \
		"docker://$HOST/p/$1:v1" >"$IMGDIR/i$1.out" 2>&1 </dev/null
	echo $? >"$IMGDIR/i$1.rc") &
}

# garbage NAME: push image NAME to g/NAME:v1 and delete its manifest.
garbage() {
	mk_image "$IMGDIR/$1" "$1"
	timeout 60 skopeo copy -q --dest-tls-verify=false "oci:$IMGDIR/$1:latest" \
		"docker://$HOST/g/$1:v1" >/dev/null 2>&1 </dev/null &&
		[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
			"$T_URL/v2/g/$1/manifests/$(cat "$IMGDIR/$1.digest")")" = 202 ]
}

# age_store: every blob and link of the store an hour old.
age_store() {
	find "$T_STORE/docker/registry/v2" \( -name data -o -name link \) -type f \
		-exec touch -h -d "@$(($(date +%s) - 3600))" {} +
}

# own_blobs NAME: the blobs of image NAME but the shared layer.
own_blobs() {
	(cd "$IMGDIR/$1/blobs/sha256" && ls) | grep -vx "$BASE_HEX"
}

pushes_done() {
	local i
	for i in $(seq 1 "$N"); do [ -s "$IMGDIR/i$i.rc" ] || return 1; done
}

# check_pulls WHEN: every image pushed ok is served with its digest and pulls whole.
check_pulls() {
	local i want got bad=0 n=0 out=$T_DIR/pull.out
	for i in $(seq 1 "$N"); do
		[ "$(cat "$IMGDIR/i$i.rc")" = 0 ] || continue
		n=$((n + 1))
		want=$(cat "$IMGDIR/i$i.digest")
		got=sha256:$(timeout 60 skopeo inspect --raw --tls-verify=false \
			"docker://$HOST/p/$i:v1" 2>/dev/null </dev/null | sha256sum | cut -d' ' -f1)
		rm -rf -- "$T_DIR/back"
		if [ "$got" != "$want" ] || ! timeout 60 skopeo copy -q --src-tls-verify=false \
			"docker://$HOST/p/$i:v1" "oci:$T_DIR/back:x" >"$out" 2>&1 </dev/null; then
			t_diag "p/$i:v1: want $want got $got" "$(cat "$out")"
			bad=$((bad + 1))
		fi
	done
	same "$1: all $n images pushed ok pull whole with their digests" 0 "$bad"
}

body() {
	local i runs=0 fails=0 okn swept=0 left
	command -v skopeo >/dev/null || { fail "skopeo is installed"; return 1; }
	t_init gcrace || return 1
	HOST=127.0.0.1:$T_PORT
	sed -i 's/^log_level = "debug";/log_level = "info";/' "$T_CONF"
	printf 'gc = { interval = "0s"; grace = "5s"; untagged = true; };\n' >>"$T_CONF"
	t_check "regmaster starts" t_start || return 1
	IMGDIR=$T_DIR/imgs
	mkdir -p "$IMGDIR"
	mk_layer "$IMGDIR/base.tgz" base
	BASE_DIFF=$DIFF
	BASE_HEX=$(sha256sum "$IMGDIR/base.tgz" | cut -d' ' -f1)
	for i in $(seq 1 10); do
		t_check "garbage image $i pushed and its manifest deleted" garbage "x$i" ||
			return 1
	done
	age_store
	for i in $(seq 1 "$N"); do mk_image "$IMGDIR/i$i" "$i"; done
	for i in $(seq 1 "$N"); do push "$i"; done
	while ! pushes_done; do
		if T_CMD_TIMEOUT=60 t_rm gc; then
			runs=$((runs + 1))
			swept=$((swept + $(grep -o '[0-9]* blobs deleted' <<<"$T_OUT" | cut -d' ' -f1)))
		else
			fails=$((fails + 1)); t_diag "gc: $T_OUT"
		fi
	done
	wait
	okn=$(cat "$IMGDIR"/i*.rc | grep -c '^0$')
	t_diag "$runs gc runs during the pushes; $okn of $N pushes succeeded"
	for i in $(seq 1 "$N"); do
		[ "$(cat "$IMGDIR/i$i.rc")" = 0 ] || t_diag "push $i: $(tail -2 "$IMGDIR/i$i.out")"
	done
	t_check "at least two gc runs overlapped the pushes" test "$runs" -ge 2
	same "no gc run failed" 0 "$fails"
	t_check "gc swept garbage during the pushes ($swept blobs)" test "$swept" -gt 0
	same "every push succeeded" "$N" "$okn"
	check_pulls "after the race"
	t_check "a gc after the pushes succeeds" t_rm gc
	check_pulls "after one more gc"
	left=0
	for i in $(seq 1 10); do
		for h in $(own_blobs "x$i"); do
			[ -e "$T_STORE/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data" ] &&
				left=$((left + 1))
		done
	done
	same "the garbage images' own blobs are gone" 0 "$left"
	t_check "every remaining blob re-hashes to its digest" rehash_all
	t_check "regmaster stops" t_stop
}

t_require_binaries && body
t_cleanup
t_summary
