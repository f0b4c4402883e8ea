/*
 * fuzz_store.c - libFuzzer target for storaged's in-memory index and path
 * building.  The input is a little program of operations on tags,
 * repositories and revisions, with the invariants checked after each: the
 * arrays stay strictly sorted, the paging bounds agree with a linear scan,
 * reference counts match, and every path built from the input's strings
 * stays inside the store.  The rest of the input is parsed as a stored
 * manifest body.  storaged's sources are compiled in, since run.sh links
 * only lib/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../storaged/store.c"
#include "../../storaged/minfo.c"
#include "../../storaged/drepo.c"
#include "../../storaged/index.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* Take a NUL-terminated string of at most 300 bytes from the input. */
static const char *
take(const uint8_t **p, size_t *n, char *out)
{
	size_t len = *n ? (size_t)(**p % 40) : 0;

	if (*n)
		(*p)++, (*n)--;
	if (len > *n)
		len = *n;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p += len;
	*n -= len;
	return out;
}

/* A path built from input must stay under the store and never climb. */
static void
check_path(const char *path)
{
	CHECK(path[0] != '/');
	CHECK(strncmp(path, STORE_V2 "/", strlen(STORE_V2) + 1) == 0);
	CHECK(strstr(path, "/../") == NULL && strstr(path, "/./") == NULL);
	CHECK(strstr(path, "//") == NULL);
}

static void
check_repo(const struct repo *r)
{
	struct digest a, b;
	size_t i;

	for (i = 1; i < r->ntags; i++)
		CHECK(strcmp(r->tags[i - 1].name, r->tags[i].name) < 0);
	for (i = 1; i < r->nrevs; i++) {
		minfo_digest(r->revs[i - 1], &a);
		minfo_digest(r->revs[i], &b);
		CHECK(digest_cmp(&a, &b) < 0);
		CHECK(minfo_cmp_digest(r->revs[i - 1], &b) < 0);
	}
	for (i = 0; i < r->nrevs; i++)
		CHECK(r->revs[i]->refs > 0);
}

/* tag_upper must equal the first index with a name > last. */
static void
check_upper(const struct repo *r, const char *last)
{
	size_t i = 0;

	while (i < r->ntags && strcmp(r->tags[i].name, last) <= 0)
		i++;
	CHECK(tag_upper(r, last) == i);
	i = 0;
	while (i < repo_count() && strcmp(repo_at(i)->name, last) <= 0)
		i++;
	CHECK(repo_upper(last) == i);
}

static void
try_paths(const char *name, const char *tag)
{
	char p[STORE_PATHMAX];
	struct digest d;

	digest_buf(DIGEST_SHA256, name, strlen(name), &d);
	if (path_repo(p, sizeof(p), name, NULL) == 0)
		check_path(p);
	if (path_tag_current(p, sizeof(p), name, tag) == 0)
		check_path(p);
	if (path_upload(p, sizeof(p), name, tag, "data") == 0)
		check_path(p);
	if (digest_parse(tag, &d) == 0 && path_rev_link(p, sizeof(p), name,
	    &d) == 0)
		check_path(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[64], tag[64], mt[OCI_MEDIATYPE_MAX + 1];
	struct oci_manifest pm;
	struct digest d;
	struct repo *r;
	struct minfo *mi;
	int ops = 0;

	memset(&pm, 0, sizeof(pm));
	(void)str_copy(pm.mediatype, MT_OCI_MANIFEST, sizeof(pm.mediatype));
	while (size > 0 && ops++ < 64) {
		uint8_t op = *data++;
		size--;
		take(&data, &size, name);
		take(&data, &size, tag);
		try_paths(name, tag);
		if (!oci_name_valid(name))
			continue;
		r = repo_get(name);
		digest_buf(DIGEST_SHA256, tag, strlen(tag) % 3, &d);
		switch (op % 5) {
		case 0:
			if (oci_tag_valid(tag)) {
				struct digest got;
				repo_set_tag(r, tag, &d);
				tag_digest(repo_tag(r, tag), &got);
				CHECK(digest_equal(&got, &d));
			}
			break;
		case 1:
			repo_del_tag(r, tag);
			break;
		case 2:
			mi = minfo_new(&d, 10, &pm);
			if (mi->refs == 0 || repo_rev(r, &d) == NULL)
				repo_add_rev(r, mi);
			break;
		case 3:
			repo_del_rev(r, &d);
			break;
		default:
			check_upper(r, tag);
			break;
		}
		check_repo(r);
	}
	for (size_t i = 1; i < repo_count(); i++)
		CHECK(strcmp(repo_at(i - 1)->name, repo_at(i)->name) < 0);
	index_free();
	if (minfo_parse_stored((const char *)data, size, &pm, mt,
	    sizeof(mt)) == 0)
		oci_manifest_free(&pm);
	else
		CHECK(oci_mediatype_valid(mt));
	return 0;
}
