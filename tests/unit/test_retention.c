/* test_retention.c - durations ("0s", "90s", "1h", "30d"), the retention
 * policies' canonical text, repository and keep patterns, and the plan:
 * exactly the tags a policy deletes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "retention.h"
#include "unit.h"

START_TEST(durations)
{
	uint64_t s;

	ck_assert_int_eq(conf_duration_parse("0s", 100, &s), 0);
	ck_assert_uint_eq(s, 0);
	ck_assert_int_eq(conf_duration_parse("90s", 100, &s), 0);
	ck_assert_uint_eq(s, 90);
	ck_assert_int_eq(conf_duration_parse("90", 100, &s), 0);
	ck_assert_uint_eq(s, 90);
	ck_assert_int_eq(conf_duration_parse("1h", 1u << 30, &s), 0);
	ck_assert_uint_eq(s, 3600);
	ck_assert_int_eq(conf_duration_parse("30d", 1u << 30, &s), 0);
	ck_assert_uint_eq(s, 30 * 86400);
	ck_assert_int_eq(conf_duration_parse("2m", 100, &s), -1);	/* > max */
	ck_assert_int_eq(conf_duration_parse("", 100, &s), -1);
	ck_assert_int_eq(conf_duration_parse("s", 100, &s), -1);
	ck_assert_int_eq(conf_duration_parse("1x", 100, &s), -1);
	ck_assert_int_eq(conf_duration_parse("-1s", 100, &s), -1);
	ck_assert_int_eq(conf_duration_parse("1hh", 1u << 30, &s), -1);
}
END_TEST

START_TEST(parse_and_match)
{
	struct retention_rule *v;
	char err[256];
	size_t n;

	ck_assert_int_eq(retention_parse("team/*\t2\tv*, latest\t30d\t0s\n"
	    "*\t0\t\t0s\t1h", &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(v[0].keep_last, 2);
	ck_assert_uint_eq(v[0].max_age, 30 * 86400);
	ck_assert_uint_eq(v[1].untagged_max_age, 3600);
	ck_assert_ptr_eq(retention_match(v, n, "team/app"), &v[0]);
	ck_assert_ptr_eq(retention_match(v, n, "team/a/b"), &v[0]);
	ck_assert_ptr_eq(retention_match(v, n, "other"), &v[1]);
	ck_assert(retention_keeps(&v[0], "v1.2"));
	ck_assert(retention_keeps(&v[0], "latest"));
	ck_assert(!retention_keeps(&v[0], "dev"));
	ck_assert(!retention_keeps(&v[1], "latest"));
	retention_free(v, n);
	ck_assert_int_eq(retention_parse("a\t0\t\t0s", &v, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(retention_parse("A\t0\t\t0s\t0s", &v, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(retention_parse("a\t0\tv*,\t0s\t0s", &v, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(retention_parse("a\t0\tv x\t0s\t0s", &v, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(retention_parse("a\t0\t\t1y\t0s", &v, &n, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(retention_parse("", &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* The canonical text conf_rules.c builds is what retention_parse reads. */
START_TEST(conf_shape)
{
	char err[256];

	ck_assert_int_eq(conf_rules_check(P_RETENTION, "a\t0\t\t0s\t0s", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_rules_check(P_RETENTION, "a\t0\t\t3q\t0s", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(conf_rules_check(P_RETENTION, "\t0\t\t0s\t0s", err,
	    sizeof(err)), -1);
}
END_TEST

static int
deleted(const struct rtag *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].del;
	ck_abort_msg("no tag %s", name);
	return -1;
}

START_TEST(plan_keep_last)
{
	struct retention_rule r = { "x", 2, "v*,latest", 0, 0 };
	struct rtag t[] = { { "a", 100, 0 }, { "b", 300, 0 }, { "c", 200, 0 },
	    { "v1", 10, 0 }, { "latest", 5, 0 }, { "d", 50, 0 } };

	retention_plan(&r, t, 6, 1000);
	ck_assert_int_eq(deleted(t, 6, "b"), 0);
	ck_assert_int_eq(deleted(t, 6, "c"), 0);
	ck_assert_int_eq(deleted(t, 6, "a"), 1);
	ck_assert_int_eq(deleted(t, 6, "d"), 1);
	ck_assert_int_eq(deleted(t, 6, "v1"), 0);
	ck_assert_int_eq(deleted(t, 6, "latest"), 0);
}
END_TEST

START_TEST(plan_max_age)
{
	struct retention_rule r = { "x", 0, "", 100, 0 };
	struct rtag t[] = { { "old", 800, 0 }, { "new", 950, 0 },
	    { "edge", 900, 0 } };

	retention_plan(&r, t, 3, 1000);
	ck_assert_int_eq(deleted(t, 3, "old"), 1);
	ck_assert_int_eq(deleted(t, 3, "new"), 0);
	ck_assert_int_eq(deleted(t, 3, "edge"), 0);	/* exactly max_age */
	r.max_age = 0;
	retention_plan(&r, t, 3, 1000);
	ck_assert_int_eq(deleted(t, 3, "old"), 0);
}
END_TEST

/* Equal push times: the order is by name, the same on every run. */
START_TEST(plan_ties)
{
	struct retention_rule r = { "x", 1, "", 0, 0 };
	struct rtag t[] = { { "b", 7, 0 }, { "a", 7, 0 } };

	retention_plan(&r, t, 2, 10);
	ck_assert_int_eq(deleted(t, 2, "a"), 0);
	ck_assert_int_eq(deleted(t, 2, "b"), 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, durations);
	tcase_add_test(tc, parse_and_match);
	tcase_add_test(tc, conf_shape);
	tcase_add_test(tc, plan_keep_last);
	tcase_add_test(tc, plan_max_age);
	tcase_add_test(tc, plan_ties);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
