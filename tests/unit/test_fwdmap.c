/* test_fwdmap.c - what a forwarding edge rewrites (lib/fwdmap): an
 * upstream's Location mapped back to the edge's names, and a mount's
 * from= mapped to the upstream's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fwdmap.h"
#include "unit.h"

static struct cache_upstream
up(const char *prefix, const char *url)
{
	struct cache_upstream u;

	memset(&u, 0, sizeof(u));
	ck_assert_int_eq(cache_url_parse(url, &u), 0);
	strcpy(u.prefix, prefix);
	return u;
}

/* loc through u is want (rc 0), with name. */
static void
maps(const struct cache_upstream *u, const char *loc, const char *want,
    const char *want_name)
{
	char out[FWD_LOCATION_MAX], name[CACHE_NAME_MAX];

	ck_assert_msg(fwd_location_map(loc, u, out, sizeof(out), name,
	    sizeof(name)) == 0, "refused: %s", loc);
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(name, want_name);
}

static int
map_rc(const struct cache_upstream *u, const char *loc)
{
	char out[FWD_LOCATION_MAX], name[CACHE_NAME_MAX];

	return fwd_location_map(loc, u, out, sizeof(out), name, sizeof(name));
}

START_TEST(location_paths)
{
	struct cache_upstream all = up("", "https://main.example:5000"),
	    dr = up("dr/", "http://127.0.0.1:5001");

	maps(&all, "/v2/team/app/blobs/uploads/u-1", "/v2/team/app/blobs/"
	    "uploads/u-1", "team/app");
	maps(&dr, "/v2/other/app/blobs/uploads/u-1?_state=abc%3D&x=1",
	    "/v2/dr/other/app/blobs/uploads/u-1?_state=abc%3D&x=1",
	    "dr/other/app");
	maps(&dr, "/v2/a/manifests/sha256:00", "/v2/dr/a/manifests/sha256:00",
	    "dr/a");
	/* a name component called blobs: the route is the rightmost */
	maps(&dr, "/v2/x/blobs/y/blobs/uploads/u", "/v2/dr/x/blobs/y/blobs/"
	    "uploads/u", "dr/x/blobs/y");
	/* "/blobs/" inside the query is not the route */
	maps(&dr, "/v2/x/blobs/sha256:1?next=/blobs/z", "/v2/dr/x/blobs/"
	    "sha256:1?next=/blobs/z", "dr/x");
}
END_TEST

START_TEST(location_urls)
{
	struct cache_upstream all = up("", "https://main.example:5000"),
	    dr = up("dr/", "http://127.0.0.1:5001"),
	    hub = up("docker.io/", "https://registry-1.docker.io");

	maps(&all, "https://main.example:5000/v2/t/a/blobs/uploads/u",
	    "/v2/t/a/blobs/uploads/u", "t/a");
	maps(&all, "https://MAIN.example:5000/v2/t/blobs/uploads/u",
	    "/v2/t/blobs/uploads/u", "t");
	maps(&dr, "http://127.0.0.1:5001/v2/o/blobs/uploads/u?_state=s",
	    "/v2/dr/o/blobs/uploads/u?_state=s", "dr/o");
	maps(&hub, "https://registry-1.docker.io/v2/library/nginx/blobs/"
	    "uploads/u", "/v2/docker.io/library/nginx/blobs/uploads/u",
	    "docker.io/library/nginx");
	/* another origin: passed on as it is */
	ck_assert_int_eq(map_rc(&all, "https://storage.example/up/1?sig=x"),
	    1);
	ck_assert_int_eq(map_rc(&all, "http://main.example:5000/v2/t/blobs/"
	    "uploads/u"), 1);		/* another scheme */
	ck_assert_int_eq(map_rc(&all, "https://main.example/v2/t/blobs/"
	    "uploads/u"), 1);		/* another port */
	ck_assert_int_eq(map_rc(&dr, "http://127.0.0.1:5001"), -1);
}
END_TEST

START_TEST(location_refused)
{
	static const char *bad[] = {
		"", "v2/a/blobs/uploads/u", "/v1/a/blobs/uploads/u",
		"/v2/blobs/uploads/u", "/v2/a/b", "/v2/A/blobs/uploads/u",
		"/v2/a//b/blobs/uploads/u", "/v2/a/blobs/uploads/u v",
		"/v2/a/blobs/uploads/u\r\nX: y", "/v2/a/blobs/uploads/\x80",
		"ftp://x/v2/a/blobs/u", "https:///v2/a/blobs/u",
		"https://h:99999/v2/a/blobs/u", "/elsewhere/x",
	};
	struct cache_upstream all = up("", "https://main.example:5000");
	char out[64], name[CACHE_NAME_MAX], *longloc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(map_rc(&all, bad[i]) == -1, "accepted: %s", bad[i]);
	/* no silent truncation: too small an output is a refusal */
	ck_assert_int_eq(fwd_location_map("/v2/team/app/blobs/uploads/"
	    "0123456789012345678901234567890123456789", &all, out, sizeof(out),
	    name, sizeof(name)), -1);
	longloc = malloc(FWD_LOCATION_MAX + 1);
	memcpy(longloc, "/v2/a/blobs/uploads/", 20);
	memset(longloc + 20, 'u', FWD_LOCATION_MAX - 20);
	longloc[FWD_LOCATION_MAX] = '\0';
	ck_assert_int_eq(map_rc(&all, longloc), -1);
	free(longloc);
}
END_TEST

START_TEST(query_from)
{
	char out[256];

	ck_assert_int_eq(fwd_query_map("mount=sha256:ab&from=dr/team/app",
	    "team/app", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "mount=sha256:ab&from=team/app");
	ck_assert_int_eq(fwd_query_map("from=docker.io/nginx&mount=sha256:ab",
	    "library/nginx", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "from=library/nginx&mount=sha256:ab");
	/* not the same upstream's: a plain upload, other parameters kept */
	ck_assert_int_eq(fwd_query_map("mount=sha256:ab&from=x&digest=sha256:"
	    "cd&fromx=1", NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "digest=sha256:cd&fromx=1");
	ck_assert_int_eq(fwd_query_map("", NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(fwd_query_map("&&from=a&", "b", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "from=b");
	ck_assert_int_eq(fwd_query_map("a=1&from=x", "a b", out, sizeof(out)),
	    0);
	ck_assert_str_eq(out, "a=1&from=a%20b");
	ck_assert_int_eq(fwd_query_map("a=1&b=2", NULL, out, 4), -1);
	ck_assert_int_eq(fwd_query_map("a=1", NULL, out, 0), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fwdmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, location_paths);
	tcase_add_test(tc, location_urls);
	tcase_add_test(tc, location_refused);
	tcase_add_test(tc, query_from);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
