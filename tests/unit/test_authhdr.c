/* test_authhdr.c - unit tests for lib/authhdr.c: schemes, bounds, strict
 * base64, and that everything else is malformed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authhdr.h"
#include "b64.h"
#include "jwt.h"
#include "unit.h"

static struct authhdr a;

/* "Basic " and the base64 of n bytes of raw. */
static char *
basic_of(const char *raw, size_t n)
{
	static char hdr[8192];

	memcpy(hdr, "Basic ", 6);
	ck_assert(b64_encode(raw, n, hdr + 6, sizeof(hdr) - 6, 0) >= 0);
	return hdr;
}

START_TEST(none)
{
	ck_assert_int_eq(authhdr_parse(NULL, &a), AH_NONE);
}
END_TEST

START_TEST(basic_ok)
{
	/* "alice:s3cret:with:colons" */
	ck_assert_int_eq(authhdr_parse("Basic YWxpY2U6czNjcmV0OndpdGg6Y29sb25z",
	    &a), AH_BASIC);
	ck_assert_str_eq(a.user, "alice");
	ck_assert_str_eq(a.pass, "s3cret:with:colons");
	ck_assert_int_eq(authhdr_parse("bAsIc   YWxpY2U6", &a), AH_BASIC);
	ck_assert_str_eq(a.user, "alice");
	ck_assert_str_eq(a.pass, "");
	authhdr_clear(&a);
	ck_assert_str_eq(a.pass, "");
	ck_assert_int_eq(a.kind, AH_NONE);
}
END_TEST

static const char *const bad[] = {
	"", "Basic", "Basic ", "Basic=", "Basicx YWxpY2U6", "Digest abc",
	"Basic YWxpY2U6eA", "Basic YWxpY2U6eA=", "Basic YWxp Y2U6",
	"Basic YWxpY2U6eA==\t", "Basic YWxpY2U=",	/* "alice", no colon */
	"Basic OnB3",				/* ":pw", empty user */
	"Bearer", "Bearer ", "Bearer a b", "Bearer a=b", "Bearer ==",
	"Bearer a\"b", "Negotiate YWxpY2U6", "  Basic YWxpY2U6",
};

START_TEST(malformed)
{
	ck_assert_int_eq(authhdr_parse(bad[_i], &a), AH_MALFORMED);
	ck_assert_str_eq(a.pass, "");
}
END_TEST

START_TEST(user_bytes)
{
	char raw[600];

	ck_assert_int_eq(authhdr_parse(basic_of("a\x01" "b:pw", 5), &a),
	    AH_MALFORMED);
	ck_assert_int_eq(authhdr_parse(basic_of("a\x7f:pw", 5), &a),
	    AH_MALFORMED);
	ck_assert_int_eq(authhdr_parse(basic_of("a:p\0w", 5), &a),
	    AH_MALFORMED);
	ck_assert_int_eq(authhdr_parse(basic_of("\xc3\xa9:p\x01w", 6), &a),
	    AH_BASIC);
	memset(raw, 'u', AUTHHDR_USER_MAX);
	raw[AUTHHDR_USER_MAX] = ':';
	ck_assert_int_eq(authhdr_parse(basic_of(raw, AUTHHDR_USER_MAX + 1), &a),
	    AH_BASIC);
	ck_assert_uint_eq(strlen(a.user), AUTHHDR_USER_MAX);
	memset(raw, 'u', AUTHHDR_USER_MAX + 1);
	raw[AUTHHDR_USER_MAX + 1] = ':';
	ck_assert_int_eq(authhdr_parse(basic_of(raw, AUTHHDR_USER_MAX + 2), &a),
	    AH_MALFORMED);
}
END_TEST

START_TEST(pass_bounds)
{
	char raw[AUTHHDR_PASS_MAX + 16];

	memcpy(raw, "bob:", 4);
	memset(raw + 4, 'p', AUTHHDR_PASS_MAX + 1);
	ck_assert_int_eq(authhdr_parse(basic_of(raw, 4 + AUTHHDR_PASS_MAX), &a),
	    AH_BASIC);
	ck_assert_uint_eq(strlen(a.pass), AUTHHDR_PASS_MAX);
	ck_assert_int_eq(authhdr_parse(basic_of(raw, 5 + AUTHHDR_PASS_MAX), &a),
	    AH_MALFORMED);
	ck_assert_str_eq(a.pass, "");
}
END_TEST

START_TEST(bearer)
{
	static char hdr[JWT_MAX + 16];
	const char *t = "Bearer eyJh.eyJz-_.c2ln+/==";

	ck_assert_int_eq(authhdr_parse(t, &a), AH_BEARER);
	ck_assert_uint_eq(a.token_len, strlen(t) - 7);
	ck_assert(strncmp(a.token, "eyJh.", 5) == 0);
	ck_assert_int_eq(authhdr_parse("BEARER  abc", &a), AH_BEARER);
	ck_assert_uint_eq(a.token_len, 3);
	memcpy(hdr, "Bearer ", 7);
	memset(hdr + 7, 'x', JWT_MAX);
	hdr[7 + JWT_MAX] = '\0';
	ck_assert_int_eq(authhdr_parse(hdr, &a), AH_BEARER);
	hdr[7 + JWT_MAX] = 'x';
	hdr[8 + JWT_MAX] = '\0';
	ck_assert_int_eq(authhdr_parse(hdr, &a), AH_MALFORMED);
}
END_TEST

/* Overlong base64 is refused before it is decoded. */
START_TEST(long_basic)
{
	static char hdr[4096];

	memcpy(hdr, "Basic ", 6);
	memset(hdr + 6, 'Q', 3000);
	hdr[3006] = '\0';
	ck_assert_int_eq(authhdr_parse(hdr, &a), AH_MALFORMED);
}
END_TEST

static Suite *
authhdr_suite(void)
{
	Suite *s = suite_create("authhdr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, none);
	tcase_add_test(tc, basic_ok);
	tcase_add_loop_test(tc, malformed, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, user_bytes);
	tcase_add_test(tc, pass_bounds);
	tcase_add_test(tc, bearer);
	tcase_add_test(tc, long_basic);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(authhdr_suite());
}
