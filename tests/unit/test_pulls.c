/* test_pulls.c - storaged's last pull times (storaged/pulls.c): only cached
 * repositories are noted, one entry per (repository, digest) with the
 * latest time, the table emptied into a batch; a batch moves revision link
 * mtimes forward, never back, and a link deleted since is no failure.  And
 * lib/cache_held.c: which names are cached, cache.upstreams redacted. */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_held.h"
#include "conf.h"
#include "conf_cache.h"
#include "ev.h"
#include "pulls.h"
#include "store.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_pulls.XXXXXX";

/* Load a configuration with cache.upstreams body (libconfig groups). */
static void
load(const char *ups)
{
	char path[] = "/tmp/test_pulls_conf.XXXXXX", err[512];
	struct conf *c = conf_new();
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fprintf(fp, "cache = { upstreams = ( %s ); };\n", ups);
	fclose(fp);
	ck_assert_msg(conf_load_file(c, path, err, sizeof(err)) == 0, "%s",
	    err);
	conf_use(c);
	unlink(path);
	pulls_configure();
}

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ev_init();
	load("{ prefix = \"hub/\"; url = \"https://hub.example\"; username = "
	    "\"u\"; password = \"secret\"; }");
	store_init();
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct digest
dg(int n)
{
	struct digest d;

	memset(&d, 0, sizeof(d));
	d.alg = DIGEST_SHA256;
	(void)snprintf(d.hex, sizeof(d.hex), "%064x", n);
	return d;
}

START_TEST(held_and_redacted)
{
	struct cache_upstream *us;
	char err[256], *red;
	size_t n;

	red = cache_upstreams_redact(conf_str(P_CACHE_UPSTREAMS));
	ck_assert_ptr_nonnull(strstr(conf_str(P_CACHE_UPSTREAMS), "secret"));
	ck_assert_ptr_null(strstr(red, "secret"));
	ck_assert_int_eq(cache_upstreams_parse(red, &us, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(us[0].prefix, "hub/");
	ck_assert_str_eq(us[0].username, "");
	ck_assert_int_eq(cache_held(us, n, "hub/x"), 1);
	ck_assert_int_eq(cache_held(us, n, "hubx/y"), 0);
	ck_assert_int_eq(cache_held(us, n, "app"), 0);
	free(us);
	free(red);
	red = cache_upstreams_redact("\thttp://a\tuser\tpw\t\t5m\tfalse");
	ck_assert_str_eq(red, "\thttp://a\t\t\t\t5m\tfalse");
	ck_assert_int_eq(cache_upstreams_parse(red, &us, &n, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(cache_held(us, n, "anything/at/all"), 1);
	free(us);
	free(red);
}
END_TEST

START_TEST(noted_latest_once)
{
	struct digest d1 = dg(1), d;
	struct pbatch *b;

	pulls_note("app", &d1, 100);
	ck_assert_uint_eq(pulls_count(), 0);		/* local: never */
	pulls_note("hub/x", &d1, 100);
	pulls_note("hub/x", &d1, 200);
	pulls_note("hub/y", &d1, 150);
	ck_assert_uint_eq(pulls_count(), 2);
	ck_assert_int_eq(pulls_pending("hub/x", &d1), 200);
	ck_assert_int_eq(pulls_pending("hub/y", &d1), 150);
	ck_assert_int_eq(pulls_pending("app", &d1), 0);
	for (int i = 2; i < 5000; i++) {		/* the table grows */
		d = dg(i);
		pulls_note("hub/x", &d, 1000 + i);
	}
	ck_assert_uint_eq(pulls_count(), 5000);
	for (int i = 2; i < 5000; i += 97) {
		d = dg(i);
		ck_assert_int_eq(pulls_pending("hub/x", &d), 1000 + i);
	}
	b = pulls_take();
	ck_assert_uint_eq(b->n, 5000);
	ck_assert_uint_eq(pulls_count(), 0);
	ck_assert_int_eq(pulls_pending("hub/x", &d1), 0);
	pulls_batch_free(b);
}
END_TEST

/* A revision link of hub/x for d, modified at t. */
static void
link_at(const struct digest *d, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	char p[STORE_PATHMAX];

	ck_assert_int_eq(path_rev_link(p, sizeof(p), "hub/x", d), 0);
	ck_assert_int_eq(store_link_write(p, d), 0);
	ck_assert_int_eq(utimensat(store_rootfd(), p, ts, AT_SYMLINK_NOFOLLOW),
	    0);
}

static time_t
link_mtime(const struct digest *d)
{
	char p[STORE_PATHMAX];
	struct stat st;

	ck_assert_int_eq(path_rev_link(p, sizeof(p), "hub/x", d), 0);
	ck_assert_int_eq(fstatat(store_rootfd(), p, &st, 0), 0);
	return st.st_mtime;
}

START_TEST(apply_moves_forward)
{
	struct digest d1 = dg(1), d2 = dg(2), d3 = dg(3);
	struct pbatch *b;

	link_at(&d1, 1000);
	link_at(&d2, 5000);		/* pushed again after the pull */
	pulls_note("hub/x", &d1, 3000);
	pulls_note("hub/x", &d2, 3000);
	pulls_note("hub/x", &d3, 3000);	/* deleted since: no link */
	b = pulls_take();
	ck_assert_uint_eq(b->n, 3);
	pulls_apply(store_rootfd(), b);
	ck_assert_uint_eq(b->failed, 0);
	ck_assert_int_eq(link_mtime(&d1), 3000);
	ck_assert_int_eq(link_mtime(&d2), 5000);
	pulls_batch_free(b);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("pulls");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, held_and_redacted);
	tcase_add_test(tc, noted_latest_once);
	tcase_add_test(tc, apply_moves_forward);
	suite_add_tcase(su, tc);
	return unit_run(su);
}
