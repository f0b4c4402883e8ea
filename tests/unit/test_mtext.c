/* test_mtext.c - unit tests for lib/mtext.c and lib/mtext_check.c: what
 * the writers produce is exactly the exposition format and reads back;
 * the reader refuses each kind of line a worker must not send. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mtext.h"
#include "unit.h"

static char err[256];

static long
check_text(const char *t, const char *const *prefixes)
{
	err[0] = '\0';
	return mtext_check(t, strlen(t), prefixes, err, sizeof(err));
}

static void
expect_text(struct buf *b, const char *want)
{
	buf_append(b, "", 1);
	ck_assert_str_eq(b->data, want);
	ck_assert_int_ge(check_text(b->data, NULL), 0);
}

START_TEST(counter_and_gauge)
{
	struct mlabel l[] = { { "worker", "httpd" }, { "x", "a\"b\\c\nd" } };
	struct buf b;

	buf_init(&b);
	mtext_family(&b, "regmaster_worker_up", MT_GAUGE, "1 when up\nor 0");
	mtext_count(&b, "regmaster_worker_up", l, 1, 1);
	mtext_sample(&b, "regmaster_worker_up", l, 2, 0.25);
	mtext_sample(&b, "regmaster_worker_up", NULL, 0, INFINITY);
	mtext_sample(&b, "regmaster_worker_up", NULL, 0, 1e20);
	expect_text(&b, "# HELP regmaster_worker_up 1 when up\\nor 0\n"
	    "# TYPE regmaster_worker_up gauge\n"
	    "regmaster_worker_up{worker=\"httpd\"} 1\n"
	    "regmaster_worker_up{worker=\"httpd\",x=\"a\\\"b\\\\c\\nd\"} 0.25\n"
	    "regmaster_worker_up +Inf\n"
	    "regmaster_worker_up 1e+20\n");
	buf_free(&b);
}
END_TEST

START_TEST(histogram)
{
	static const double le[] = { 0.005, 0.1, 1 };
	const struct mhist_bounds bounds = { le, 3 };
	struct mlabel l[] = { { "method", "GET" } };
	struct mhist h = { 0 };
	struct buf b;

	mhist_observe(&h, &bounds, 0.001);
	mhist_observe(&h, &bounds, 0.005);	/* le is inclusive */
	mhist_observe(&h, &bounds, 0.5);
	mhist_observe(&h, &bounds, 7);
	buf_init(&b);
	mtext_family(&b, "d_seconds", MT_HISTOGRAM, "h");
	mtext_histogram(&b, "d_seconds", l, 1, &bounds, &h);
	expect_text(&b, "# HELP d_seconds h\n# TYPE d_seconds histogram\n"
	    "d_seconds_bucket{method=\"GET\",le=\"0.005\"} 2\n"
	    "d_seconds_bucket{method=\"GET\",le=\"0.1\"} 2\n"
	    "d_seconds_bucket{method=\"GET\",le=\"1\"} 3\n"
	    "d_seconds_bucket{method=\"GET\",le=\"+Inf\"} 4\n"
	    "d_seconds_sum{method=\"GET\"} 7.5060000000000002\n"
	    "d_seconds_count{method=\"GET\"} 4\n");
	buf_free(&b);
}
END_TEST

START_TEST(reader_accepts)
{
	ck_assert_int_eq(check_text("", NULL), 0);
	ck_assert_int_eq(check_text("# a comment\n\na 1\nb{c=\"d\",} -2.5e3 "
	    "1700000000000\nc NaN\nd -Inf\n", NULL), 4);
	ck_assert_int_eq(check_text("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
	    "h_sum 1\nh_count 1\n", NULL), 3);
}
END_TEST

static const char *const bad[][2] = {
	{ "a 1", "no newline" },
	{ "1a 1\n", "valid name" },
	{ "a{b=\"c\" 1\n", "separated" },
	{ "a{b=c} 1\n", "=\"value\"" },
	{ "a{b=\"c\\x\"} 1\n", "bad escape" },
	{ "a{b=\"c} 1\n", "unterminated" },
	{ "a{b=\"1\",b=\"2\"} 1\n", "twice" },
	{ "a{a-b=\"1\"} 1\n", "valid name" },
	{ "a 0x10\n", "number" },
	{ "a infinity\n", "number" },
	{ "a\n", "no value" },
	{ "a 1 2 3\n", "junk" },
	{ "a 1 -\n", "junk" },
	{ "# TYPE a counter\n# TYPE a counter\n", "TYPE twice" },
	{ "a 1\n# TYPE a counter\n", "after samples" },
	{ "# TYPE a flavour\n", "unknown type" },
	{ "# HELP a\\q x\n", "valid name" },
	{ "# HELP a x\\q\n", "bad escape" },
	{ "a 1\n\0b 2\n", "NUL" },
};

START_TEST(reader_refuses)
{
	const char *t = bad[_i][0];
	size_t len = strlen(t);

	if (strstr(bad[_i][1], "NUL"))
		len = 10;
	ck_assert_int_eq(mtext_check(t, len, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, bad[_i][1]) != NULL, "%s: %s", t, err);
}
END_TEST

START_TEST(reader_prefixes)
{
	const char *const httpd[] = { "registry_http_", NULL };

	ck_assert_int_eq(check_text("registry_http_requests_total 3\n", httpd),
	    1);
	ck_assert_int_eq(check_text("regmaster_worker_up 1\n", httpd), -1);
	ck_assert_ptr_nonnull(strstr(err, "may not use"));
	ck_assert_int_eq(check_text("# TYPE registry_gc_runs_total counter\n",
	    httpd), -1);
}
END_TEST

/* A summary's _count and _sum are its family's (registry_auth_failure_count
 * is one), so the prefix and TYPE rules apply to the family's name. */
START_TEST(reader_summary)
{
	const char *const authd[] = { "registry_auth_", NULL };
	struct buf b;

	buf_init(&b);
	mtext_family(&b, "registry_auth_failure", MT_SUMMARY, "failures");
	mtext_count(&b, "registry_auth_failure_count", NULL, 0, 3);
	mtext_sample(&b, "registry_auth_failure_sum", NULL, 0, 3);
	expect_text(&b, "# HELP registry_auth_failure failures\n"
	    "# TYPE registry_auth_failure summary\n"
	    "registry_auth_failure_count 3\nregistry_auth_failure_sum 3\n");
	ck_assert_int_eq(check_text(b.data, authd), 2);
	buf_free(&b);
	ck_assert_int_eq(check_text("# TYPE s summary\ns_count 1\n"
	    "# TYPE s summary\n", NULL), -1);
	/* a summary has no buckets: that sample is a family of its own,
	 * which TYPE may then no longer name */
	ck_assert_int_eq(check_text("# TYPE s summary\ns_bucket 1\n"
	    "# TYPE s_bucket gauge\n", NULL), -1);
}
END_TEST

START_TEST(reader_bounds)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < 5000; i++)
		buf_append(&b, "a", 1);
	buf_puts(&b, " 1\n");
	ck_assert_int_eq(mtext_check(b.data, b.len, NULL, err, sizeof(err)),
	    -1);
	buf_reset(&b);
	for (int i = 0; i < 1100; i++)
		buf_printf(&b, "m%d 1\n", i);
	ck_assert_int_eq(mtext_check(b.data, b.len, NULL, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "too many families"));
	buf_free(&b);
}
END_TEST

START_TEST(writer_refuses_bad_name)
{
	struct buf b;

	buf_init(&b);
	mtext_count(&b, "bad-name", NULL, 0, 1);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("mtext");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, counter_and_gauge);
	tcase_add_test(tc, histogram);
	tcase_add_test(tc, reader_accepts);
	tcase_add_loop_test(tc, reader_refuses, 0,
	    sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, reader_prefixes);
	tcase_add_test(tc, reader_bounds);
	tcase_add_test(tc, reader_summary);
	tcase_add_exit_test(tc, writer_refuses_bad_name, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
