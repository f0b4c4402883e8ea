/* test_gcscan.c - gcd's read of a store (gcd/scan.c) on a store written
 * to a temporary directory: nested repository names, revisions (a link
 * that names another digest is not one), tags, layer links, the manifests'
 * references, every blob with data and its size (a blob directory without
 * data, or misnamed, is none); a manifest that does not parse stops the
 * scan with an error; the directory a sweep renamed and a crash left
 * (.regmaster-swept-<hex>) is read as its blob, so the next run frees it;
 * many repositories, read by two threads, are each read once. */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcbatch.h"
#include "gcd.h"
#include "util.h"
#include "unit.h"

#define V2	"docker/registry/v2"

static char top[64];

/* The hex of digest number n. */
static const char *
hx(int n)
{
	static char b[4][65];
	static int i;

	i = (i + 1) % 4;
	(void)snprintf(b[i], sizeof(b[i]), "%02x%062x", n, n);
	return b[i];
}

/* mkdir -p the directory of path, then write s to it. */
static void
put(const char *path, const char *s)
{
	char p[1024];
	int fd;

	(void)snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++)
		if (*c == '/') {
			*c = '\0';
			ck_assert(mkdir(p, 0750) == 0 || errno == EEXIST);
			*c = '/';
		}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void
blob(int n, const char *body)
{
	char p[512];

	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/%.2s/%s/data", hx(n),
	    hx(n));
	put(p, body);
}

/* In repo: a link under sub ("_manifests/revisions", "_layers") for
 * digest n naming digest target. */
static void
link_to(const char *repo, const char *sub, int n, int target)
{
	char p[512], s[80];

	(void)snprintf(p, sizeof(p), V2 "/repositories/%s/%s/sha256/%s/link",
	    repo, sub, hx(n));
	(void)snprintf(s, sizeof(s), "sha256:%s", hx(target));
	put(p, s);
}

/* Manifest blob n: an OCI image with config c and layer l. */
static void
manifest(int n, int c, int l)
{
	char s[1024];

	(void)snprintf(s, sizeof(s), "{\"schemaVersion\":2,\"mediaType\":"
	    "\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
	    "{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"digest\":\"sha256:%s\",\"size\":2},\"layers\":[{\"mediaType\":"
	    "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
	    "\"sha256:%s\",\"size\":5}]}", hx(c), hx(l));
	blob(n, s);
}

static void
setup(void)
{
	char p[128];

	(void)snprintf(top, sizeof(top), "/tmp/test_gcscan.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	ck_assert_int_eq(chdir(top), 0);
	manifest(1, 2, 3);
	blob(2, "{}");
	blob(3, "layer");
	blob(4, "unreferenced");
	link_to("team/app", "_manifests/revisions", 1, 1);
	link_to("team/app", "_manifests/revisions", 5, 6);	/* not one */
	link_to("team/app", "_layers", 3, 3);
	put(V2 "/repositories/team/app/_manifests/tags/v1/current/link",
	    "sha256:01000000000000000000000000000000000000000000000000000000"
	    "00000001");
	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/%.2s/%s/x", hx(7),
	    hx(7));
	put(p, "");		/* a blob directory without data */
	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/ab/%s/data", hx(8));
	put(p, "misplaced");	/* not under its first two digits */
}

static void
teardown(void)
{
	char cmd[128];

	ck_assert_int_eq(chdir("/"), 0);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	ck_assert_int_eq(system(cmd), 0);
}

static const struct gblob *
find_blob(const struct gscan *s, int n)
{
	for (size_t i = 0; i < s->nblobs; i++)
		if (strcmp(s->blobs[i].d.hex, hx(n)) == 0)
			return &s->blobs[i];
	return NULL;
}

START_TEST(reads_store)
{
	const struct grepo *r;
	struct gscan s;

	scan_store(&s);
	ck_assert_str_eq(s.err, "");
	ck_assert_uint_eq(s.nrepos, 1);
	r = &s.repos[0];
	ck_assert_str_eq(r->name, "team/app");
	ck_assert_uint_eq(r->nrevs, 1);
	ck_assert_str_eq(r->revs[0].d.hex, hx(1));
	ck_assert_uint_eq(r->revs[0].nrefs, 2);
	ck_assert_str_eq(r->revs[0].refs[0].hex, hx(2));
	ck_assert_str_eq(r->revs[0].refs[1].hex, hx(3));
	ck_assert_uint_eq(r->ntags, 1);
	ck_assert_str_eq(r->tags[0].name, "v1");
	ck_assert_str_eq(r->tags[0].d.hex, hx(1));
	ck_assert_uint_eq(r->nlayers, 1);
	ck_assert_str_eq(r->layers[0].d.hex, hx(3));
	ck_assert_uint_eq(s.nblobs, 4);
	ck_assert_ptr_nonnull(find_blob(&s, 1));
	ck_assert_uint_eq(find_blob(&s, 2)->size, 2);
	ck_assert_uint_eq(find_blob(&s, 3)->size, 5);
	ck_assert_uint_eq(find_blob(&s, 4)->size, 12);
	ck_assert_ptr_null(find_blob(&s, 7));
	ck_assert_ptr_null(find_blob(&s, 8));
	scan_free(&s);
}
END_TEST

/* A revision whose manifest does not parse: the scan stops, so the run
 * sweeps nothing. */
START_TEST(bad_manifest_stops)
{
	struct gscan s;

	blob(9, "{\"schemaVersion\":2,\"layers\":[");
	link_to("other", "_manifests/revisions", 9, 9);
	scan_store(&s);
	ck_assert_str_ne(s.err, "");
	ck_assert_ptr_nonnull(strstr(s.err, hx(9)));
	scan_free(&s);
}
END_TEST

/* A revision link that is not a digest stops the scan too. */
START_TEST(bad_link_stops)
{
	char p[512];
	struct gscan s;

	(void)snprintf(p, sizeof(p), V2 "/repositories/team/app/_manifests/"
	    "revisions/sha256/%s/link", hx(1));
	put(p, "sha256:nothex");
	scan_store(&s);
	ck_assert_ptr_nonnull(strstr(s.err, "not a digest"));
	scan_free(&s);
}
END_TEST

/* A sweep's leftover with data is its blob; without data, or misnamed,
 * it is none. */
START_TEST(swept_leftover)
{
	const struct gblob *b;
	struct gscan s;
	char p[512];

	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/%.2s/"
	    GC_SWEPT_PREFIX "%s/data", hx(9), hx(9));
	put(p, "swept once");
	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/%.2s/"
	    GC_SWEPT_PREFIX "%s/x", hx(10), hx(10));
	put(p, "");
	(void)snprintf(p, sizeof(p), V2 "/blobs/sha256/%.2s/"
	    GC_SWEPT_PREFIX "%.60s/data", hx(11), hx(11));
	put(p, "short name");
	(void)snprintf(p, sizeof(p), V2 "/repositories/team/app/_layers/sha256/"
	    GC_SWEPT_PREFIX "%s/link", hx(12));
	put(p, "sha256:whatever");
	scan_store(&s);
	ck_assert_str_eq(s.err, "");
	ck_assert_uint_eq(s.repos[0].nlayers, 2);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(s.repos[0].layers[i].left,
		    strcmp(s.repos[0].layers[i].d.hex, hx(12)) == 0);
	ck_assert_uint_eq(s.nblobs, 5);
	ck_assert_ptr_nonnull(b = find_blob(&s, 9));
	ck_assert_uint_eq(b->size, 10);
	ck_assert_ptr_null(find_blob(&s, 10));
	ck_assert_ptr_null(find_blob(&s, 11));
	scan_free(&s);
}
END_TEST

/* 200 repositories at the top and under a shared first component, as
 * both threads take names: every one once, with its revision. */
START_TEST(many_repos_once)
{
	char name[64], seen[201] = { 0 };
	struct gscan s;
	int k;

	for (int i = 0; i < 200; i++) {
		(void)snprintf(name, sizeof(name), i % 2 ? "r%03d" :
		    "team/r%03d", i);
		link_to(name, "_manifests/revisions", 1, 1);
	}
	scan_store(&s);
	ck_assert_str_eq(s.err, "");
	ck_assert_uint_eq(s.nrepos, 201);
	for (size_t i = 0; i < s.nrepos; i++) {
		const char *n = s.repos[i].name;
		if (strcmp(n, "team/app") == 0)
			continue;
		ck_assert_int_eq(sscanf(n + (n[0] == 't' ? 6 : 1), "%d", &k), 1);
		ck_assert_int_eq(seen[k]++, 0);
		ck_assert_uint_eq(s.repos[i].nrevs, 1);
		ck_assert_uint_eq(s.repos[i].revs[0].nrefs, 2);
	}
	scan_free(&s);
}
END_TEST

/* No store yet: nothing, and no error. */
START_TEST(empty_store)
{
	struct gscan s;

	ck_assert_int_eq(system("rm -rf docker"), 0);
	scan_store(&s);
	ck_assert_str_eq(s.err, "");
	ck_assert_uint_eq(s.nrepos, 0);
	ck_assert_uint_eq(s.nblobs, 0);
	scan_free(&s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *su = suite_create("gcscan");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reads_store);
	tcase_add_test(tc, bad_manifest_stops);
	tcase_add_test(tc, bad_link_stops);
	tcase_add_test(tc, empty_store);
	tcase_add_test(tc, swept_leftover);
	tcase_add_test(tc, many_repos_once);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return unit_run(suite());
}
