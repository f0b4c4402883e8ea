/*
 * test_acl.c - unit tests for lib/acl.c: parsing auth.rules/auth.groups
 * canonical text (tab-separated fields, one element a line) and the
 * "most specific rule wins" decisions acl.h describes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "unit.h"

#define R	ACL_PULL
#define W	ACL_PUSH
#define D	ACL_DELETE
#define C	ACL_CATALOG
#define RWD	(ACL_PULL | ACL_PUSH | ACL_DELETE)

/* A rule set exercising every kind of who and repo pattern. */
static const char rules[] =
    "anonymous\tpublic/*\tpull\n"
    "*\t*\tpull\n"
    "*\t{user}/*\tpull,push,delete\n"
    "@devs\tteam/*\tpull,push\n"
    "@leads\tteam/*\tdelete\n"
    "bob\tteam/*\tnone\n"
    "carol\tteam/secret\tpull\n"
    "@devs\tteam/secret\tpush\n"
    "*\tteam/secret/*\tnone\n"
    "admin\t*\t*\n"
    "dave\tteam/a/b/*\tpush\n"
    "eve\tevil\tpull, delete";
static const char groups[] =
    "devs\tbob, carol dave\n"
    "leads\tcarol\n"
    "empty\t ";

/* user (NULL: anonymous), repo (NULL: catalog), the bits expected. */
static const struct {
	const char	*user, *repo;
	unsigned	 want;
} cases[] = {
	{ NULL, "public/x", R },
	{ NULL, "public/x/y", R },
	{ NULL, "public", 0 },		/* "public/..." is below it, not it */
	{ NULL, "other", 0 },
	{ NULL, NULL, 0 },
	{ "zed", "other", R },		/* "*" "*" */
	{ "zed", "public/x", R },	/* and what anonymous gets */
	{ "zed", "zed/app", RWD },	/* {user}/...: any depth */
	{ "zed", "zed/a/b/c", RWD },
	{ "zed", "zed", R },		/* the namespace, not the name */
	{ "zed", "zedd/app", R },	/* whole component */
	{ "zed", "bob/app", R },
	{ "zed", NULL, 0 },
	{ "carol", "team/x", R | W | D },	/* two groups, tie joined */
	{ "carol", "team/secret", R },	/* exact beats "team/..."; user
					 * beats group */
	{ "dave", "team/secret", W },	/* group's exact rule */
	{ "zed", "team/secret", R },	/* "*" "*": team/secret/ is below */
	{ "zed", "team/secret/x", 0 },	/* longer prefix with none wins */
	{ "carol", "team/secret/x", 0 },
	{ "bob", "team/x", 0 },		/* user beats group: none */
	{ "dave", "team/x", R | W },
	{ "dave", "team/a/b/c", W },	/* longest prefix */
	{ "dave", "team/a/bc", R | W },	/* not below "team/a/b/" */
	{ "admin", "anything/at/all", RWD },
	{ "admin", "team/secret/x", 0 },	/* a longer literal beats
						 * the user's "*" */
	{ "admin", NULL, C },
	{ "eve", "evil", R | D },
	{ "eve", "evil/sub", R },
	{ "", "x", R },			/* any non-NULL user is "*" */
};

START_TEST(grants)
{
	char err[128] = "";
	struct acl *a = acl_parse(rules, groups, err, sizeof(err));
	unsigned got;

	ck_assert_msg(a != NULL, "parse: %s", err);
	got = acl_grant(a, cases[_i].user, cases[_i].repo);
	ck_assert_msg(got == cases[_i].want, "%s on %s: got %#x, want %#x",
	    cases[_i].user ? cases[_i].user : "(anonymous)",
	    cases[_i].repo ? cases[_i].repo : "(catalog)", got,
	    cases[_i].want);
	acl_free(a);
}
END_TEST

/* No rules: authenticated users may do everything, anonymous nothing. */
START_TEST(no_rules)
{
	struct acl *a;
	char err[128];

	ck_assert_ptr_nonnull(a = acl_parse("", "", err, sizeof(err)));
	ck_assert_uint_eq(acl_grant(a, "alice", "any/repo"), RWD);
	ck_assert_uint_eq(acl_grant(a, "alice", NULL), C);
	ck_assert_uint_eq(acl_grant(a, NULL, "any/repo"), 0);
	ck_assert_uint_eq(acl_grant(a, NULL, NULL), 0);
	acl_free(a);
	ck_assert_uint_eq(acl_grant(NULL, "alice", "r"), RWD);
	ck_assert_uint_eq(acl_grant(NULL, NULL, "r"), 0);
	acl_free(NULL);
}
END_TEST

/* Catalog comes only from rules that allow it, whatever their repo. */
START_TEST(catalog)
{
	struct acl *a;
	char err[128];

	a = acl_parse("ops\t*\tcatalog\nanonymous\t*\tpull,catalog\n"
	    "dev\tx/*\tpull", "", err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(acl_grant(a, "ops", NULL), C);
	ck_assert_uint_eq(acl_grant(a, "ops", "r"), R);	/* anonymous's */
	ck_assert_uint_eq(acl_grant(a, NULL, NULL), C);
	ck_assert_uint_eq(acl_grant(a, NULL, "r"), R);
	ck_assert_uint_eq(acl_grant(a, "dev", "x/y"), R);
	ck_assert_uint_eq(acl_grant(a, "dev", NULL), C);	/* anonymous's */
	acl_free(a);
	a = acl_parse("dev\tx/*\tpull", "", err, sizeof(err));
	ck_assert_uint_eq(acl_grant(a, "dev", NULL), 0);
	ck_assert_uint_eq(acl_grant(a, "dev", "y"), 0);	/* rules: no default */
	acl_free(a);
	/* "*" on part of the tree is every action there, not the catalog;
	 * "*" on every repository, or an explicit catalog, lists it */
	a = acl_parse("dev\tx/*\t*\n*\t{user}/*\t*", "", err, sizeof(err));
	ck_assert_uint_eq(acl_grant(a, "dev", NULL), 0);
	ck_assert_uint_eq(acl_grant(a, "bob", NULL), 0);
	ck_assert_uint_eq(acl_grant(a, "dev", "x/y"), RWD);
	acl_free(a);
	a = acl_parse("dev\t*\t*\nops\tx/*\tpull,catalog", "", err,
	    sizeof(err));
	ck_assert_uint_eq(acl_grant(a, "dev", NULL), C);
	ck_assert_uint_eq(acl_grant(a, "ops", NULL), C);
	acl_free(a);
}
END_TEST

/* Rule texts acl_parse and acl_rules_check must refuse. */
static const char *bad_rules[] = {
	"alice\t*",			/* two fields */
	"alice",
	"alice\t*\tpull\textra",	/* four: allow "pull\textra" */
	"alice\t*\tfly",
	"alice\t*\t",
	"alice\t*\tpull,,fly",
	"alice\tUpper/case\tpull",	/* not an OCI name */
	"alice\t/abs\tpull",
	"alice\ta//b\tpull",
	"alice\t*/*\tpull",
	"alice\ta/*/b\tpull",
	"alice\ta*\tpull",
	"alice\t{user}\tpull",
	"alice\t{user}x/*\tpull",
	"a:b\t*\tpull",			/* ':' cannot be in a user name */
	"@g:x\t*\tpull",
	"alice\t*\tpull\n",		/* an empty element */
	"alice\t*\tpull\n\nbob\t*\tpull",
};

START_TEST(parse_errors)
{
	char err[128] = "";

	ck_assert_ptr_null(acl_parse(bad_rules[_i], "", err, sizeof(err)));
	ck_assert_msg(strncmp(err, "rule ", 5) == 0, "%s: %s", bad_rules[_i],
	    err);
	err[0] = '\0';
	ck_assert_int_eq(acl_rules_check(bad_rules[_i], err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
}
END_TEST

/* The error names the element; groups want a name and members. */
START_TEST(parse_messages)
{
	char err[128];
	struct acl *a;

	ck_assert_ptr_null(acl_parse("a\t*\tpull\nb\t*\tfly", "", err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "rule 2"));
	ck_assert_ptr_nonnull(strstr(err, "allow"));
	ck_assert_ptr_null(acl_parse("", "g\tx\nnomembers", err,
	    sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "group 2"));
	ck_assert_ptr_null(acl_parse("", "\tx", err, sizeof(err)));
	ck_assert_int_eq(acl_rules_check("a\t*\tpull\n@g\tx/*\tnone\n"
	    "anonymous\t{user}/*\t*", err, sizeof(err)), 0);
	/* anonymous has no namespace: {user}/... never matches it */
	a = acl_parse("anonymous\t{user}/*\t*", "", err, sizeof(err));
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(acl_grant(a, NULL, "x/y"), 0);
	acl_free(a);
}
END_TEST

/* Undefined groups match nobody; members split on commas and spaces. */
START_TEST(group_members)
{
	char err[128];
	struct acl *a = acl_parse("@g\t*\tpull\n@nogroup\t*\tpush",
	    "g\ta,b  c,,d", err, sizeof(err));

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(acl_grant(a, "a", "r"), R);
	ck_assert_uint_eq(acl_grant(a, "c", "r"), R);
	ck_assert_uint_eq(acl_grant(a, "d", "r"), R);
	ck_assert_uint_eq(acl_grant(a, "b  c", "r"), 0);
	ck_assert_uint_eq(acl_grant(a, "e", "r"), 0);
	ck_assert_uint_eq(acl_grant(a, "nogroup", "r"), 0);
	acl_free(a);
}
END_TEST

START_TEST(actions)
{
	unsigned bits;
	char out[64];

	ck_assert_int_eq(acl_actions_parse("pull", &bits), 0);
	ck_assert_uint_eq(bits, R);
	ck_assert_int_eq(acl_actions_parse("pull,push, delete", &bits), 0);
	ck_assert_uint_eq(bits, RWD);
	ck_assert_int_eq(acl_actions_parse("*", &bits), 0);
	ck_assert_uint_eq(bits, ACL_ALL);
	ck_assert_int_eq(acl_actions_parse("none", &bits), 0);
	ck_assert_uint_eq(bits, 0);
	ck_assert_int_eq(acl_actions_parse("catalog", &bits), 0);
	ck_assert_uint_eq(bits, C);
	ck_assert_int_eq(acl_actions_parse("", &bits), -1);
	ck_assert_int_eq(acl_actions_parse("pull,fly", &bits), -1);
	ck_assert_int_eq(acl_actions_parse("Pull", &bits), -1);
	ck_assert_int_eq(acl_actions_parse("pullpullpullpullpull", &bits), -1);
	acl_actions_text(R | D, out, sizeof(out));
	ck_assert_str_eq(out, "pull,delete");
	acl_actions_text(ACL_ALL, out, sizeof(out));
	ck_assert_str_eq(out, "pull,push,delete,catalog");
	ck_assert_int_eq(acl_actions_parse(out, &bits), 0);
	ck_assert_uint_eq(bits, ACL_ALL);
	acl_actions_text(0, out, sizeof(out));
	ck_assert_str_eq(out, "");
	acl_actions_text(ACL_ALL, out, 8);	/* truncated, terminated */
	ck_assert_uint_lt(strlen(out), 8);
}
END_TEST

/* All the acl tests in one suite. */
static Suite *
acl_suite(void)
{
	Suite *s = suite_create("acl");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, grants, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, no_rules);
	tcase_add_test(tc, catalog);
	tcase_add_loop_test(tc, parse_errors, 0,
	    sizeof(bad_rules) / sizeof(bad_rules[0]));
	tcase_add_test(tc, parse_messages);
	tcase_add_test(tc, group_members);
	tcase_add_test(tc, actions);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(acl_suite());
}
