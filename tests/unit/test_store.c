/*
 * test_store.c - unit tests for storaged's pure parts, linked from the
 * storaged sources without its main: path building (nothing can step out of
 * the store), uuids, link files, atomic writes, the in-memory index (order,
 * paging bounds, reference counts, the body cache), the start-up walk of
 * a hand-made Distribution tree, and the copier threads that move upload
 * bodies from a pipe into a file.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "drepo.h"
#include "copier.h"
#include "digest.h"
#include "ev.h"
#include "index.h"
#include "log.h"
#include "oci.h"
#include "store.h"
#include "unit.h"

#define HEX_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char tmpdir[PATH_MAX];

static struct digest
dg(const char *s)
{
	struct digest d;

	ck_assert_int_eq(digest_parse(s, &d), 0);
	return d;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

/* A fresh store directory as the working directory, storaged-style. */
static void
store_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sdunit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	if (conf_current() == NULL)
		conf_use(conf_new());
	store_init();
}

static void
store_teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file (and its directories) under the store. */
static void
put(const char *path, const char *content)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(store_mkdirs(dir), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
}

START_TEST(paths_exact)
{
	struct digest d = dg("sha256:" HEX_A);
	char p[STORE_PATHMAX];

	ck_assert_int_eq(path_blob_data(p, sizeof(p), &d), 0);
	ck_assert_str_eq(p, "docker/registry/v2/blobs/sha256/aa/" HEX_A "/data");
	ck_assert_int_eq(path_layer_link(p, sizeof(p), "a/b", &d), 0);
	ck_assert_str_eq(p, "docker/registry/v2/repositories/a/b/_layers/sha256/"
	    HEX_A "/link");
	ck_assert_int_eq(path_rev_link(p, sizeof(p), "a", &d), 0);
	ck_assert_str_eq(p, "docker/registry/v2/repositories/a/_manifests/"
	    "revisions/sha256/" HEX_A "/link");
	ck_assert_int_eq(path_tag_current(p, sizeof(p), "a", "v1.0"), 0);
	ck_assert_str_eq(p, "docker/registry/v2/repositories/a/_manifests/tags/"
	    "v1.0/current/link");
	ck_assert_int_eq(path_tag_index(p, sizeof(p), "a", "v1", &d), 0);
	ck_assert_str_eq(p, "docker/registry/v2/repositories/a/_manifests/tags/"
	    "v1/index/sha256/" HEX_A "/link");
	ck_assert_int_eq(path_upload(p, sizeof(p), "a",
	    "0f8fad5b-d9cb-469f-a165-70867728950e", "data"), 0);
	ck_assert_str_eq(p, "docker/registry/v2/repositories/a/_uploads/"
	    "0f8fad5b-d9cb-469f-a165-70867728950e/data");
	/* too small a buffer is an error, never a truncated path */
	ck_assert_int_eq(path_blob_data(p, 20, &d), -1);
}
END_TEST

START_TEST(paths_reject)
{
	static const char *names[] = { "", "../a", "a/..", "a//b", "/a", "a/",
	    "A", "a/_layers", "_a", ".", "a/.", "a b", "a\nb" };
	static const char *tags[] = { "", ".x", "-x", "a/b", "..", "x:y",
	    "a b" };
	struct digest d = dg("sha256:" HEX_A), bad = d;
	char p[STORE_PATHMAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		ck_assert_msg(path_repo(p, sizeof(p), names[i], NULL) == -1,
		    "%s", names[i]);
		ck_assert_int_eq(path_layer_link(p, sizeof(p), names[i], &d),
		    -1);
	}
	for (i = 0; i < sizeof(tags) / sizeof(*tags); i++)
		ck_assert_msg(path_tag_dir(p, sizeof(p), "a", tags[i]) == -1,
		    "%s", tags[i]);
	/* a digest struct that did not come from digest_parse */
	bad.hex[3] = '/';
	ck_assert_int_eq(path_blob_data(p, sizeof(p), &bad), -1);
	bad = d;
	bad.hex[10] = '\0';
	ck_assert_int_eq(path_blob_data(p, sizeof(p), &bad), -1);
	bad = d;
	bad.alg = (enum digest_alg)7;
	ck_assert_int_eq(path_blob_dir(p, sizeof(p), &bad), -1);
	ck_assert_int_eq(path_upload(p, sizeof(p), "a", "../../etc", NULL), -1);
}
END_TEST

START_TEST(uuids)
{
	char u[UUID_LEN + 1], v[UUID_LEN + 1];

	uuid_new(u);
	uuid_new(v);
	ck_assert(uuid_valid(u));
	ck_assert_str_ne(u, v);
	ck_assert_int_eq(u[14], '4');
	ck_assert(strchr("89ab", u[19]) != NULL);
	ck_assert(!uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E"));
	ck_assert(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950"));
	ck_assert(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950e0"));
	ck_assert(!uuid_valid("0f8fad5b/d9cb-469f-a165-70867728950e"));
	ck_assert(!uuid_valid(""));
}
END_TEST

START_TEST(links)
{
	struct digest d = dg("sha256:" HEX_A), r;
	const char *p = "docker/registry/v2/repositories/x/_layers/sha256/"
	    HEX_A "/link";
	char buf[200];
	int fd;

	store_setup();
	ck_assert_int_eq(store_link_write(p, &d), 0);
	fd = open(p, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 71);	/* no newline */
	close(fd);
	ck_assert_int_eq(store_link_read(p, &r), 0);
	ck_assert(digest_equal(&r, &d));
	put(p, "sha256:" HEX_B "\n");	/* hand-edited: tolerated */
	ck_assert_int_eq(store_link_read(p, &r), 0);
	ck_assert_str_eq(r.hex, HEX_B);
	put(p, "garbage");
	ck_assert_int_eq(store_link_read(p, &r), -1);
	ck_assert_int_eq(store_link_remove(p), 0);
	ck_assert_int_eq(store_link_read(p, &r), -1);
	ck_assert_int_eq(store_link_remove(p), -1);
	/* the scratch directory holds nothing after atomic writes */
	ck_assert_int_eq(rmdir(STORE_TMP), 0);
	store_teardown();
}
END_TEST

START_TEST(blobs_and_trees)
{
	struct digest d;
	uint64_t size;
	size_t len;
	char *b;

	store_setup();
	digest_buf(DIGEST_SHA256, "hello", 5, &d);
	ck_assert_int_eq(store_blob_stat(&d, &size), -1);
	ck_assert_int_eq(store_blob_put(&d, "hello", 5), 0);
	ck_assert_int_eq(store_blob_put(&d, "hello", 5), 0);	/* again */
	ck_assert_int_eq(store_blob_stat(&d, &size), 0);
	ck_assert_uint_eq(size, 5);
	ck_assert_int_eq(store_layer_stat("x", &d, &size), -1);
	ck_assert_int_eq(store_write_atomic("a/b/c/file", "xyz", 3), 0);
	ck_assert_ptr_nonnull(b = store_read_file("a/b/c/file", 10, &len));
	ck_assert_str_eq(b, "xyz");
	free(b);
	ck_assert_ptr_null(store_read_file("a/b/c/file", 2, &len));
	ck_assert_int_eq(store_remove_tree("a/b"), 0);
	ck_assert_int_eq(access("a/b", F_OK), -1);
	ck_assert_int_eq(access("a", F_OK), 0);
	ck_assert_int_eq(store_remove_tree("a/b"), -1);
	store_teardown();
}
END_TEST

/* A parsed manifest with only a media type, for index tests. */
static struct minfo *
mk(const char *digest)
{
	struct oci_manifest pm;

	memset(&pm, 0, sizeof(pm));
	snprintf(pm.mediatype, sizeof(pm.mediatype), "%s", MT_OCI_MANIFEST);
	struct digest d = dg(digest);
	return minfo_new(&d, 10, &pm);
}

START_TEST(index_order)
{
	static const char *names[] = { "b", "a/b", "a", "a-b", "c/d/e", "a/a" };
	struct digest d = dg("sha256:" HEX_A), e = dg("sha256:" HEX_B), got;
	struct repo *r;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		repo_get(names[i]);
	ck_assert_ptr_eq(repo_get("a"), repo_find("a"));
	ck_assert_uint_eq(repo_count(), 6);
	ck_assert_str_eq(repo_at(0)->name, "a");
	ck_assert_str_eq(repo_at(1)->name, "a-b");
	ck_assert_str_eq(repo_at(2)->name, "a/a");
	ck_assert_str_eq(repo_at(5)->name, "c/d/e");
	ck_assert_uint_eq(repo_upper("a"), 1);
	ck_assert_uint_eq(repo_upper("a/"), 2);
	ck_assert_uint_eq(repo_upper("zzz"), 6);
	ck_assert_uint_eq(repo_upper(""), 0);
	ck_assert_ptr_null(repo_find("nope"));
	r = repo_find("a");
	repo_set_tag(r, "v2", &d);
	repo_set_tag(r, "V1", &d);
	repo_set_tag(r, "v10", &d);
	repo_set_tag(r, "v2", &e);
	ck_assert_uint_eq(r->ntags, 3);
	/* a tag's digest survives its compact form, and moves */
	tag_digest(repo_tag(r, "v2"), &got);
	ck_assert(digest_equal(&got, &e));
	tag_digest(repo_tag(r, "V1"), &got);
	ck_assert(digest_equal(&got, &d));
	ck_assert_str_eq(got.hex, HEX_A);
	ck_assert_str_eq(r->tags[0].name, "V1");
	ck_assert_str_eq(r->tags[1].name, "v10");
	ck_assert_str_eq(r->tags[2].name, "v2");
	ck_assert_uint_eq(tag_upper(r, "v10"), 2);
	ck_assert_uint_eq(tag_upper(r, "v1"), 1);
	repo_del_tag(r, "v10");
	repo_del_tag(r, "nope");
	ck_assert_uint_eq(r->ntags, 2);
	ck_assert_ptr_null(repo_tag(r, "v10"));
	ck_assert_ptr_nonnull(repo_tag(r, "v2"));
	index_free();
}
END_TEST

START_TEST(index_refs)
{
	struct digest a = dg("sha256:" HEX_A), b = dg("sha256:" HEX_B);
	struct repo *r1 = repo_get("one"), *r2 = repo_get("two");
	struct minfo *ma = mk("sha256:" HEX_A), *mb = mk("sha256:" HEX_B);

	repo_add_rev(r1, mb);
	repo_add_rev(r1, ma);
	repo_add_rev(r1, ma);
	repo_add_rev(r2, ma);
	ck_assert_uint_eq(ma->refs, 2);
	ck_assert_ptr_eq(r1->revs[0], ma);	/* sorted by digest */
	ck_assert_ptr_eq(repo_rev(r1, &b), mb);
	repo_del_rev(r1, &a);
	ck_assert_ptr_eq(minfo_find(&a), ma);
	repo_del_rev(r2, &a);
	ck_assert_ptr_null(minfo_find(&a));	/* nobody links it */
	ck_assert_ptr_null(repo_rev(r2, &a));
	index_free();
}
END_TEST

START_TEST(cache_budget)
{
	size_t big = CACHE_ITEM_MAX, i, n = CACHE_BUDGET / big + 4;
	struct oci_manifest pm;
	struct minfo **ms = calloc(n, sizeof(*ms));
	char *body = calloc(1, big), hex[80];
	struct repo *r = repo_get("r");

	memset(&pm, 0, sizeof(pm));
	snprintf(pm.mediatype, sizeof(pm.mediatype), "%s", MT_OCI_MANIFEST);
	for (i = 0; i < n; i++) {
		struct digest d;
		snprintf(hex, sizeof(hex), "sha256:%064zx", i);
		d = dg(hex);
		ms[i] = minfo_new(&d, big, &pm);
		repo_add_rev(r, ms[i]);
		cache_put(ms[i], body, big);
		ck_assert_ptr_nonnull(cache_get(ms[0]));	/* kept recent */
		ck_assert_uint_le(cache_used(), CACHE_BUDGET);
	}
	ck_assert_ptr_nonnull(cache_get(ms[n - 1]));
	ck_assert_ptr_nonnull(cache_get(ms[0]));	/* kept: used recently */
	ck_assert_ptr_null(cache_get(ms[1]));		/* evicted */
	/* a body of the wrong size or too large is not cached */
	cache_put(ms[1], body, 3);
	ck_assert_ptr_null(cache_get(ms[1]));
	index_free();
	ck_assert_uint_eq(cache_used(), 0);
	free(body);
	free(ms);
}
END_TEST

START_TEST(stored_fallback)
{
	static const char s1[] = "{\"schemaVersion\":1,\"name\":\"x\","
	    "\"signatures\":[]}";
	static const char odd[] = "{\"schemaVersion\":2,\"mediaType\":"
	    "\"application/x.odd\"}";
	struct oci_manifest pm;
	char mt[OCI_MEDIATYPE_MAX + 1];

	ck_assert_int_eq(minfo_parse_stored(s1, strlen(s1), &pm, mt,
	    sizeof(mt)), -1);
	ck_assert_str_eq(mt, MT_DOCKER_SCHEMA1_SIGNED);
	ck_assert_int_eq(minfo_parse_stored(odd, strlen(odd), &pm, mt,
	    sizeof(mt)), -1);
	ck_assert_str_eq(mt, "application/x.odd");
	ck_assert_int_eq(minfo_parse_stored("[[[[", 4, &pm, mt, sizeof(mt)), -1);
	ck_assert_str_eq(mt, "application/octet-stream");
}
END_TEST

/* --- copier --- */

static struct copy_result copied;
static int copied_calls;

static void
on_copied(void *arg, const struct copy_result *r)
{
	copied = *r;
	copied_calls++;
	ev_break();
}

static void
on_loop_timeout(void *arg)
{
	ev_break();
}

/* Run the loop until a copy reports or ms pass. */
static void
loop_for(uint64_t ms)
{
	struct ev_timer t;

	ev_timer_init(&t, on_loop_timeout, NULL);
	ev_timer_arm(&t, ms);
	ev_loop();
	ev_timer_cancel(&t);
}

/* The walk over a hand-made tree, with the odd things a real store has. */
START_TEST(walk)
{
	const char *m1 = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\","
	    "\"digest\":\"sha256:" HEX_A "\",\"size\":1},\"layers\":[]}";
	char p[STORE_PATHMAX], s1[DIGEST_STRMAX];
	struct digest d1, missing = dg("sha256:" HEX_B);
	struct repo *r;
	struct minfo *mi;

	store_setup();
	digest_buf(DIGEST_SHA256, m1, strlen(m1), &d1);
	digest_format(&d1, s1, sizeof(s1));
	ck_assert_int_eq(store_blob_put(&d1, m1, strlen(m1)), 0);
	/* lib/app: one revision, a tag, a tag with a broken link, a revision
	 * whose blob is missing */
	path_rev_link(p, sizeof(p), "lib/app", &d1);
	put(p, s1);
	path_rev_link(p, sizeof(p), "lib/app", &missing);
	put(p, "sha256:" HEX_B);
	path_tag_current(p, sizeof(p), "lib/app", "v1");
	put(p, s1);
	path_tag_current(p, sizeof(p), "lib/app", "broken");
	put(p, "nonsense");
	/* lib: a repo and a prefix of another at once */
	path_tag_current(p, sizeof(p), "lib", "t");
	put(p, s1);
	path_rev_link(p, sizeof(p), "lib", &d1);
	put(p, s1);
	/* uploads only; an invalid name; a symlink */
	put("docker/registry/v2/repositories/up/_uploads/x/data", "");
	put("docker/registry/v2/repositories/Bad/_manifests/x", "");
	ck_assert_int_eq(symlink("../repositories/lib",
	    "docker/registry/v2/repositories/sym"), 0);
	/* before the build: read on demand, no symlink followed */
	r = repo_find("lib/app");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->nrevs, 1);
	ck_assert_uint_eq(r->ntags, 1);
	ck_assert_ptr_null(repo_find("sym"));
	ck_assert_ptr_null(repo_find("Bad"));
	ck_assert_ptr_null(repo_find("nope"));
	ck_assert(!index_names_ready());
	ev_init();
	index_start();
	for (int i = 0; i < 500 && !index_built(); i++)
		loop_for(10);
	ck_assert(index_built());
	ck_assert(index_names_ready());
	ck_assert_uint_eq(repo_count(), 3);
	ck_assert_str_eq(repo_at(0)->name, "lib");
	ck_assert_str_eq(repo_at(1)->name, "lib/app");
	ck_assert_str_eq(repo_at(2)->name, "up");
	ck_assert(!repo_at(2)->has_manifests);
	r = repo_find("lib/app");
	ck_assert(r->has_manifests);
	ck_assert_uint_eq(r->nrevs, 1);
	ck_assert_uint_eq(r->ntags, 1);
	ck_assert_str_eq(r->tags[0].name, "v1");
	mi = repo_rev(r, &d1);
	ck_assert_ptr_nonnull(mi);
	ck_assert_uint_eq(mi->refs, 2);		/* lib and lib/app */
	ck_assert_str_eq(mi->mediatype, MT_OCI_MANIFEST);
	ck_assert_str_eq(mi->artifact_type, "a/b");
	ck_assert_ptr_nonnull(cache_get(mi));
	ck_assert(memcmp(cache_get(mi), m1, strlen(m1)) == 0);
	index_free();
	store_teardown();
}
END_TEST

/* What the names walk emitted, in its order. */
struct emitted {
	char	 names[64][64];
	int	 manifests[64];
	int	 n;
};

static void
collect(void *arg, const char *name, int has_manifests)
{
	struct emitted *e = arg;

	ck_assert_int_lt(e->n, 64);
	snprintf(e->names[e->n], sizeof(e->names[0]), "%s", name);
	e->manifests[e->n++] = has_manifests;
}

/* strcmp order, for qsort. */
static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names walk emits in strcmp order, whatever the nesting: names that
 * continue another with a byte below '/' ('-', '.') come between it and
 * the names below it. */
START_TEST(walk_order)
{
	const char *names[] = { "a", "a-b", "a.c", "a/a", "a/a-z", "a/a/b",
	    "a/a.q/r", "a0", "b/c/d", "b-x/y", "b.z", "b/c", "zz", "a_b",
	    "a__c/d" };
	const char *sorted[sizeof(names) / sizeof(names[0])];
	size_t n = sizeof(names) / sizeof(names[0]);
	char p[STORE_PATHMAX];
	struct emitted e = { .n = 0 };

	store_setup();
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "docker/registry/v2/repositories/%s/%s",
		    names[i], i % 3 ? "_manifests/x" : "_layers/x");
		put(p, "");
		sorted[i] = names[i];
	}
	/* a directory that is no repository, one that holds only others */
	put("docker/registry/v2/repositories/a/a.q/notes", "");
	put("docker/registry/v2/repositories/c/d/e/_uploads/u/x", "");
	sorted[n - 1] = names[n - 1];
	qsort(sorted, n, sizeof(sorted[0]), str_cmp);
	drepo_names_walk(collect, &e);
	ck_assert_int_eq(e.n, (int)n + 1);
	for (int i = 0, k = 0; i < e.n; i++) {
		if (strcmp(e.names[i], "c/d/e") == 0) {
			ck_assert(!e.manifests[i]);
			continue;
		}
		ck_assert_str_eq(e.names[i], sorted[k]);
		k++;
	}
	for (int i = 1; i < e.n; i++)
		ck_assert_int_lt(strcmp(e.names[i - 1], e.names[i]), 0);
	store_teardown();
}
END_TEST

/* A nonblocking pipe holding len bytes of pattern; the write end is
 * closed unless keep_open (then returned in *wr). */
static int
pipe_with(size_t len, int keep_open, int *wr)
{
	char *buf = malloc(len ? len : 1);
	int fds[2];

	ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_ge(fcntl(fds[1], F_SETPIPE_SZ, 1024 * 1024), (int)len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 7);
	ck_assert_int_eq(write(fds[1], buf, len), (ssize_t)len);
	free(buf);
	if (keep_open)
		*wr = fds[1];
	else
		close(fds[1]);
	return fds[0];
}

static struct copier *
copy_into(int pipefd, int datafd, uint64_t off, uint64_t limit,
    struct hasher *h)
{
	struct copy_spec spec = { .pipefd = pipefd, .datafd = datafd,
	    .off = off, .limit = limit, .h = h, .writeback = 1 };
	struct copier *c;

	copied_calls = 0;
	memset(&copied, 0, sizeof(copied));
	ck_assert_ptr_nonnull(c = copier_start(&spec, on_copied, NULL));
	return c;
}

START_TEST(copier_copies)
{
	size_t len = 300000;
	int p = pipe_with(len, 0, NULL);
	int fd = open("data", O_RDWR | O_CREAT, 0600);
	struct hasher *h = hasher_new(DIGEST_SHA256), *want;
	struct digest a, b;
	char *buf = malloc(len);
	struct stat st;

	ev_init();
	copy_into(p, fd, 5, UINT64_MAX, h);
	loop_for(5000);
	ck_assert_int_eq(copied_calls, 1);
	ck_assert_int_eq(copied.status, COPY_EOF);
	ck_assert_uint_eq(copied.copied, len);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)(len + 5));
	ck_assert_int_eq(pread(fd, buf, len, 5), (ssize_t)len);
	want = hasher_new(DIGEST_SHA256);
	hasher_update(want, buf, len);
	hasher_peek(h, &a);
	hasher_peek(want, &b);
	ck_assert(digest_equal(&a, &b));
	hasher_free(h);
	hasher_free(want);
	free(buf);
	close(fd);
	close(p);
}
END_TEST

START_TEST(copier_limit_and_errors)
{
	int p = pipe_with(5000, 0, NULL);
	int fd = open("data", O_RDWR | O_CREAT, 0600), ro;

	ev_init();
	copy_into(p, fd, 0, 1000, NULL);
	loop_for(5000);
	ck_assert_int_eq(copied.status, COPY_TOO_LONG);
	ck_assert_uint_le(copied.copied, 1000);
	close(p);

	p = pipe_with(100, 0, NULL);
	ck_assert_int_ge(ro = open("data", O_RDONLY), 0);
	copy_into(p, ro, 0, UINT64_MAX, NULL);
	loop_for(5000);
	ck_assert_int_eq(copied.status, COPY_WRITE_ERR);
	ck_assert_int_eq(copied.err, EBADF);
	ck_assert_uint_eq(copied.copied, 0);
	close(p);
	close(ro);
	close(fd);
}
END_TEST

/* Stopped while it waits for more: the bytes so far, no callback. */
START_TEST(copier_stop_waiting)
{
	int wr, p = pipe_with(100, 1, &wr);
	int fd = open("data", O_RDWR | O_CREAT, 0600);
	struct copy_result r;
	struct copier *c;

	ev_init();
	c = copy_into(p, fd, 0, UINT64_MAX, NULL);
	usleep(100 * 1000);
	copier_stop(c, &r);
	ck_assert_int_eq(r.status, COPY_STOPPED);
	ck_assert_uint_eq(r.copied, 100);
	loop_for(100);
	ck_assert_int_eq(copied_calls, 0);
	close(wr);
	close(p);
	close(fd);
}
END_TEST

/* Stopped after it ended but before the loop heard: how it ended, so the
 * caller can settle it (a failed write must be rolled back); no callback. */
START_TEST(copier_stop_after_end)
{
	int p = pipe_with(100, 0, NULL);
	int ro = open("data", O_RDONLY | O_CREAT, 0600);
	struct copy_result r;
	struct copier *c;

	ev_init();
	c = copy_into(p, ro, 0, UINT64_MAX, NULL);
	usleep(100 * 1000);
	copier_stop(c, &r);
	ck_assert_int_eq(r.status, COPY_WRITE_ERR);
	loop_for(100);
	ck_assert_int_eq(copied_calls, 0);
	close(p);
	close(ro);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_test(tc, paths_exact);
	tcase_add_test(tc, paths_reject);
	tcase_add_test(tc, uuids);
	tcase_add_test(tc, links);
	tcase_add_test(tc, blobs_and_trees);
	tcase_add_test(tc, index_order);
	tcase_add_test(tc, index_refs);
	tcase_add_test(tc, cache_budget);
	tcase_add_test(tc, stored_fallback);
	tcase_add_test(tc, walk);
	tcase_add_test(tc, walk_order);
	suite_add_tcase(s, tc);
	tc = tcase_create("copier");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, copier_copies);
	tcase_add_test(tc, copier_limit_and_errors);
	tcase_add_test(tc, copier_stop_waiting);
	tcase_add_test(tc, copier_stop_after_end);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init("test_store", 1);
	return unit_run(suite());
}
