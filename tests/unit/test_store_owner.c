/* test_store_owner.c - unit tests for master/store_owner.c: the paths a
 * (possibly compromised) storaged may ask master to repair, and, as root,
 * what a repair changes: the path's components, one unit's subtree, never
 * a wider directory, a symlink's target or a hard-linked file, and no more
 * entries than its bound. */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "unit.h"

#define V2	"docker/registry/v2"
#define USER	"nobody"

static char root[256];

static long
repair(const char *rel, unsigned long max, unsigned long *seen)
{
	unsigned long s;

	return store_owner_repair(root, USER, rel, max, seen ? seen : &s);
}

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* uid of root/rel itself (never followed). */
static uid_t
uid_of(const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_msg(lstat(p, &st) == 0, "%s: %s", p, strerror(errno));
	return st.st_uid;
}

static uid_t
nobody(void)
{
	struct passwd *pw = getpwnam(USER);

	ck_assert_ptr_nonnull(pw);
	return pw->pw_uid;
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "/tmp/test_store_owner.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void
teardown(void)
{
	sh("rm -rf '%s'", root);
}

START_TEST(paths_refused)
{
	static const char *bad[] = {
		"", "/etc/passwd", V2, V2 "/", "docker/registry/v3/blobs",
		V2 "/../../../etc", V2 "/repositories/a/../../x",
		V2 "/repositories//a", V2 "/repositories/./a",
		V2 "/repositories/a/", V2 "/repositories/a b",
		V2 "/repositories/a\n", "docker/registry/v2x/a", "./" V2 "/a",
	};
	char deep[1100], *p;
	unsigned long seen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(repair(bad[i], 100, &seen) == -1 &&
		    errno == EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(seen, 0);
	}
	/* too long, and too many components */
	memset(deep, 'a', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	memcpy(deep, V2 "/", strlen(V2 "/"));
	ck_assert_int_eq(repair(deep, 100, NULL), -1);
	p = deep + strlen(V2 "/");
	for (int i = 0; i < 170; i++, p += 2)
		memcpy(p, "a/", 2);
	*--p = '\0';
	ck_assert_int_eq(repair(deep, 100, NULL), -1);
}
END_TEST

START_TEST(repair_unit)
{
	uid_t u = nobody();

	ck_assert_int_eq(sh("cd %s && mkdir -p " V2 "/repositories/ns/r/_layers/"
	    "sha256/d1 " V2 "/repositories/ns/other/_layers && echo x > " V2
	    "/repositories/ns/r/_layers/sha256/d1/link", root), 0);
	ck_assert_int_gt(repair(V2 "/repositories/ns/r/_layers/sha256/new", 1000,
	    NULL), 0);
	/* the components, then the subtree of _layers/sha256 */
	ck_assert_uint_eq(uid_of(V2 "/repositories/ns"), u);
	ck_assert_uint_eq(uid_of(V2 "/repositories/ns/r/_layers"), u);
	ck_assert_uint_eq(uid_of(V2 "/repositories/ns/r/_layers/sha256/d1/link"),
	    u);
	/* the namespace is wide: another repository in it is not walked */
	ck_assert_uint_eq(uid_of(V2 "/repositories/ns/other"), 0);
	/* a second repair finds nothing to do */
	ck_assert_int_eq(repair(V2 "/repositories/ns/r/_layers/sha256/new", 1000,
	    NULL), 0);
}
END_TEST

START_TEST(repair_wide)
{
	uid_t u = nobody();

	ck_assert_int_eq(sh("cd %s && mkdir -p " V2 "/blobs/sha256/ab/ab1 && "
	    "echo x > " V2 "/blobs/sha256/ab/ab1/data && mkdir " V2
	    "/repositories", root), 0);
	/* a new blob under a root-owned prefix: the prefix, not its blobs */
	ck_assert_int_eq(repair(V2 "/blobs/sha256/ab/ab2", 1000, NULL), 6);
	ck_assert_uint_eq(uid_of(V2 "/blobs/sha256/ab"), u);
	ck_assert_uint_eq(uid_of(V2 "/blobs/sha256/ab/ab1"), 0);
	/* the blob's own directory is a unit */
	ck_assert_int_eq(repair(V2 "/blobs/sha256/ab/ab1", 1000, NULL), 2);
	ck_assert_uint_eq(uid_of(V2 "/blobs/sha256/ab/ab1/data"), u);
	/* a namespace of repositories is wide */
	ck_assert_int_eq(sh("cd %s && mkdir -p " V2 "/repositories/ns/r/_layers",
	    root), 0);
	ck_assert_int_eq(repair(V2 "/repositories/ns/x", 1000, NULL), 2);
	ck_assert_uint_eq(uid_of(V2 "/repositories/ns/r"), 0);
}
END_TEST

START_TEST(repair_bounded)
{
	unsigned long seen;

	ck_assert_int_eq(sh("cd %s && mkdir -p " V2 "/repositories/r/_uploads && "
	    "cd " V2 "/repositories/r/_uploads && touch f1 f2 f3 f4 f5 f6 f7 f8 "
	    "f9 f10", root), 0);
	/* the 6 components, then 3 entries of the 10 */
	ck_assert_int_eq(repair(V2 "/repositories/r/_uploads/x", 3, &seen), 9);
	ck_assert_uint_eq(seen, 3 + 6);
	ck_assert_int_gt(repair(V2 "/repositories/r/_uploads/x", 1000, &seen),
	    0);
}
END_TEST

START_TEST(repair_never_follows)
{
	char out[300];

	snprintf(out, sizeof(out), "%s.out", root);
	ck_assert_int_eq(sh("mkdir -p %s/d && touch %s/f %s/d/f %s/hl && "
	    "chmod 0600 %s/f", out, out, out, out, out), 0);
	ck_assert_int_eq(sh("cd %s && mkdir -p " V2 "/repositories/r/_layers/"
	    "sha256 " V2 "/repositories/q && cd " V2 "/repositories && "
	    "ln -s %s/f r/_layers/sha256/evil && ln -s %s/d r/_layers/sha256/"
	    "evild && ln %s/hl r/_layers/sha256/hardlink && ln -s %s/d q/_layers",
	    root, out, out, out, out), 0);
	ck_assert_int_gt(repair(V2 "/repositories/r/_layers/sha256/x", 1000,
	    NULL), 0);
	/* a symlink in the path: nothing beyond it */
	ck_assert_int_ge(repair(V2 "/repositories/q/_layers/sha256/x", 1000,
	    NULL), 0);
	ck_assert_uint_eq(uid_of(V2 "/repositories/r/_layers/sha256/evil"), 0);
	ck_assert_uint_eq(uid_of(V2 "/repositories/r/_layers/sha256/hardlink"),
	    0);
	ck_assert_uint_eq(uid_of(V2 "/repositories/q/_layers"), 0);
	ck_assert_int_eq(sh("test -z \"$(find %s ! -user root)\"", out), 0);
	sh("rm -rf '%s'", out);
}
END_TEST

static Suite *
owner_suite(void)
{
	Suite *s = suite_create("store_owner");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, paths_refused);
	if (geteuid() == 0 && getpwnam(USER) != NULL) {
		tcase_add_test(tc, repair_unit);
		tcase_add_test(tc, repair_wide);
		tcase_add_test(tc, repair_bounded);
		tcase_add_test(tc, repair_never_follows);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	log_init("test_store_owner", 1);
	return unit_run(owner_suite());
}
