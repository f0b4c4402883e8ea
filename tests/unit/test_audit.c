/* test_audit.c - unit tests for lib/audit.c: every line is one valid JSON
 * object with every field, whatever bytes a client put in a name. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "unit.h"

static const struct timespec when = { 1764672000, 123456789 };

/* The line must end in one newline, hold no other, and parse. */
static json_t *
parse_line(const struct buf *b)
{
	json_error_t e;

	ck_assert_uint_gt(b->len, 1);
	ck_assert_int_eq(b->data[b->len - 1], '\n');
	ck_assert_ptr_null(memchr(b->data, '\n', b->len - 1));
	return json_loadb(b->data, b->len, 0, &e);
}

START_TEST(fields)
{
	struct audit_rec r = { "127.0.0.1", "alice", "push", "team/app",
	    "v1", "sha256:ab", 201, 1234 };
	struct buf b;
	json_t *j;

	buf_init(&b);
	ck_assert_int_eq(audit_line(&b, &r, &when), 0);
	ck_assert_ptr_nonnull(j = parse_line(&b));
	ck_assert_str_eq(json_string_value(json_object_get(j, "time")),
	    "2025-12-02T10:40:00.123Z");
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")),
	    "alice");
	ck_assert_str_eq(json_string_value(json_object_get(j, "repo")),
	    "team/app");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 201);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")), 1234);
	ck_assert_uint_eq(json_object_size(j), 9);
	json_decref(j);
	buf_free(&b);
}
END_TEST

/* Missing fields are null, not absent and not "". */
START_TEST(nulls)
{
	struct audit_rec r = { "::1", NULL, "login_failed", NULL, "", NULL,
	    401, 0 };
	struct buf b;
	json_t *j;

	buf_init(&b);
	ck_assert_int_eq(audit_line(&b, &r, &when), 0);
	ck_assert_ptr_nonnull(j = parse_line(&b));
	ck_assert(json_is_null(json_object_get(j, "user")));
	ck_assert(json_is_null(json_object_get(j, "repo")));
	ck_assert(json_is_null(json_object_get(j, "ref")));
	ck_assert(json_is_null(json_object_get(j, "digest")));
	json_decref(j);
	buf_free(&b);
}
END_TEST

/* Quotes, backslashes, newlines and high bytes in a user name stay inside
 * its string: the log cannot be split or forged by a client. */
START_TEST(hostile)
{
	const char *evil = "a\"b\\c\nd\r\x01\xff{\"user\":\"root\"}";
	struct audit_rec r = { "127.0.0.1", evil, "login_failed", NULL, NULL,
	    NULL, 401, 0 };
	struct buf b;
	json_t *j;

	buf_init(&b);
	ck_assert_int_eq(audit_line(&b, &r, &when), 0);
	ck_assert_ptr_nonnull(j = parse_line(&b));
	ck_assert_str_eq(json_string_value(json_object_get(j, "user")),
	    "a\"b\\c\nd\r\x01\xc3\xbf{\"user\":\"root\"}");
	json_decref(j);
	buf_free(&b);
}
END_TEST

/* Over AUDIT_LINE_MAX: refused, and what the buffer held is kept. */
START_TEST(too_long)
{
	char big[AUDIT_LINE_MAX];
	struct audit_rec r = { "127.0.0.1", "bob", "pull", big, NULL, NULL,
	    200, 0 };
	struct buf b;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b);
	buf_puts(&b, "kept\n");
	ck_assert_int_eq(audit_line(&b, &r, &when), -1);
	ck_assert_uint_eq(b.len, 5);
	ck_assert(memcmp(b.data, "kept\n", 5) == 0);
	buf_free(&b);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fields);
	tcase_add_test(tc, nulls);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, too_long);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(audit_suite());
}
