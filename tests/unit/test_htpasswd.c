/*
 * test_htpasswd.c - unit tests for lib/htpasswd.c: names, parsing, bcrypt
 * with libcrypt, and interoperability both ways with Apache's
 * `htpasswd -B` (apache2-utils, which bootstrap installs).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "htpasswd.h"
#include "unit.h"

/* A $2y$ cost-5 hash of "secret" made once by the test's own hasher. */
static char secret5[64];

/* Run a shell command; its exit status, or -1. */
static int
run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The first line `cmd` prints, without its newline, into out. */
static void
read_line(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, (int)len, f));
	out[strcspn(out, "\n")] = '\0';
	ck_assert_int_eq(pclose(f), 0);
}

/* Make the shared hash once per test process. */
static void
setup(void)
{
	ck_assert_int_eq(htpasswd_hash("secret", 5, secret5,
	    sizeof(secret5)), 0);
}

START_TEST(names)
{
	char longname[300];

	ck_assert_int_eq(htpasswd_name_valid("alice"), 1);
	ck_assert_int_eq(htpasswd_name_valid("bob.smith@example.com"), 1);
	ck_assert_int_eq(htpasswd_name_valid("Ünïcode"), 1);
	ck_assert_int_eq(htpasswd_name_valid(""), 0);
	ck_assert_int_eq(htpasswd_name_valid("a:b"), 0);
	ck_assert_int_eq(htpasswd_name_valid("a\nb"), 0);
	ck_assert_int_eq(htpasswd_name_valid("a\tb"), 0);
	ck_assert_int_eq(htpasswd_name_valid("a\x7f"), 0);
	ck_assert_int_eq(htpasswd_name_valid("#a"), 0);
	ck_assert_int_eq(htpasswd_name_valid("a#"), 1);
	memset(longname, 'a', sizeof(longname));
	longname[HTPASSWD_NAME_MAX] = '\0';
	ck_assert_int_eq(htpasswd_name_valid(longname), 1);
	longname[HTPASSWD_NAME_MAX] = 'a';
	longname[HTPASSWD_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(htpasswd_name_valid(longname), 0);
}
END_TEST

START_TEST(hash_and_check)
{
	char h[64];

	ck_assert_int_eq(strncmp(secret5, "$2y$05$", 7), 0);
	ck_assert_uint_eq(strlen(secret5), 60);
	ck_assert_int_eq(htpasswd_check(secret5, "secret"), 1);
	ck_assert_int_eq(htpasswd_check(secret5, "Secret"), 0);
	ck_assert_int_eq(htpasswd_check(secret5, ""), 0);
	ck_assert_int_eq(htpasswd_check(secret5, "secret "), 0);
	/* Salted: the same password hashes differently each time. */
	ck_assert_int_eq(htpasswd_hash("secret", 5, h, sizeof(h)), 0);
	ck_assert_str_ne(h, secret5);
	ck_assert_int_eq(htpasswd_check(h, "secret"), 1);
	ck_assert_int_eq(htpasswd_hash("secret", 3, h, sizeof(h)), -1);
	ck_assert_int_eq(htpasswd_hash("secret", 32, h, sizeof(h)), -1);
	ck_assert_int_eq(htpasswd_hash("secret", 5, h, 60), -1);
	ck_assert_int_eq(htpasswd_hash("", 4, h, sizeof(h)), 0);
	ck_assert_int_eq(htpasswd_check(h, ""), 1);
	ck_assert_int_eq(htpasswd_check(h, "x"), 0);
}
END_TEST

/* The dummy hash takes the cost of the real one (10 without), is a hash
 * libcrypt takes, and no password checks out against it. */
START_TEST(dummy_hash)
{
	char d[HTPASSWD_DUMMY_LEN];

	htpasswd_dummy(secret5, d);
	ck_assert_int_eq(strncmp(d, "$2y$05$", 7), 0);
	ck_assert_uint_eq(strlen(d), 60);
	ck_assert_int_eq(htpasswd_check(d, "secret"), 0);
	ck_assert_int_eq(htpasswd_check(d, ""), 0);
	htpasswd_dummy(NULL, d);
	ck_assert_int_eq(strncmp(d, "$2y$10$", 7), 0);
	htpasswd_dummy("plaintext", d);
	ck_assert_int_eq(strncmp(d, "$2y$10$", 7), 0);
	htpasswd_dummy("$2y$99$short", d);
	ck_assert_int_eq(strncmp(d, "$2y$10$", 7), 0);
}
END_TEST

/* $2a$ and $2b$ are the same function for these passwords; $2x$, other
 * schemes and malformed hashes are not taken at all. */
START_TEST(variants)
{
	char h[64];

	memcpy(h, secret5, sizeof(h));
	h[2] = 'b';
	ck_assert_int_eq(htpasswd_check(h, "secret"), 1);
	h[2] = 'a';
	ck_assert_int_eq(htpasswd_check(h, "secret"), 1);
	ck_assert_int_eq(htpasswd_check(h, "nope"), 0);
	h[2] = 'x';
	ck_assert_int_eq(htpasswd_check(h, "secret"), -1);
	h[2] = 'y';
	h[59] = '\0';
	ck_assert_int_eq(htpasswd_check(h, "secret"), -1);
	ck_assert_int_eq(htpasswd_check("$apr1$abcdefgh$0123456789abcdefghijkl",
	    "secret"), -1);
	ck_assert_int_eq(htpasswd_check("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
	    "secret"), -1);
	ck_assert_int_eq(htpasswd_check("secret", "secret"), -1);
	ck_assert_int_eq(htpasswd_check("", ""), -1);
	memcpy(h, secret5, sizeof(h));
	h[4] = '0';
	h[5] = '3';		/* cost 3: below bcrypt's minimum */
	ck_assert_int_eq(htpasswd_check(h, "secret"), -1);
	memcpy(h, secret5, sizeof(h));
	h[30] = '!';
	ck_assert_int_eq(htpasswd_check(h, "secret"), -1);
}
END_TEST

/* bcrypt reads 72 bytes; longer passwords (which libcrypt alone would
 * refuse past 512) still check, and only their first 72 bytes count. */
START_TEST(long_password)
{
	char p[1100], h[64];

	memset(p, 'p', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	ck_assert_int_eq(htpasswd_hash(p, 4, h, sizeof(h)), 0);
	ck_assert_int_eq(htpasswd_check(h, p), 1);
	p[100] = 'q';
	ck_assert_int_eq(htpasswd_check(h, p), 1);
	p[71] = 'q';
	ck_assert_int_eq(htpasswd_check(h, p), 0);
}
END_TEST

START_TEST(parse_file)
{
	struct htpasswd h;
	const struct htpasswd_entry *e;
	char text[1024], err[128];
	size_t skipped, first_bad;

	snprintf(text, sizeof(text),
	    "# comment\n"
	    "alice:%s\n"
	    "\n"
	    "bob:$apr1$abcdefgh$0123456789abcdefghijkl\n"	/* line 4 */
	    "carol:%s\r\n"
	    "alice:%s\n"					/* line 6 */
	    "nocolon\n"
	    ":%s\n"
	    "dave:%s",
	    secret5, secret5, secret5, secret5, secret5);
	ck_assert_int_eq(htpasswd_parse(text, strlen(text), &h, &skipped,
	    &first_bad, err, sizeof(err)), 0);
	ck_assert_uint_eq(h.n, 3);
	ck_assert_str_eq(h.e[0].name, "alice");
	ck_assert_str_eq(h.e[1].name, "carol");
	ck_assert_str_eq(h.e[2].name, "dave");
	ck_assert_str_eq(h.e[1].hash, secret5);
	ck_assert_uint_eq(skipped, 4);
	ck_assert_uint_eq(first_bad, 4);
	ck_assert_ptr_nonnull(e = htpasswd_find(&h, "carol"));
	ck_assert_int_eq(htpasswd_check(e->hash, "secret"), 1);
	ck_assert_ptr_null(htpasswd_find(&h, "bob"));
	ck_assert_ptr_null(htpasswd_find(&h, "alic"));
	htpasswd_clear(&h);
	ck_assert_uint_eq(h.n, 0);
	htpasswd_clear(&h);
}
END_TEST

/* The first of repeated names is the one kept, whatever the order. */
START_TEST(parse_duplicates)
{
	struct htpasswd h;
	char text[512], other[64], err[128];
	size_t skipped, first_bad;

	ck_assert_int_eq(htpasswd_hash("other", 4, other, sizeof(other)), 0);
	snprintf(text, sizeof(text), "z:%s\na:%s\nz:%s\na:%s\nz:%s\n", other,
	    secret5, secret5, other, secret5);
	ck_assert_int_eq(htpasswd_parse(text, strlen(text), &h, &skipped,
	    &first_bad, err, sizeof(err)), 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_str_eq(h.e[0].name, "z");
	ck_assert_str_eq(h.e[0].hash, other);
	ck_assert_str_eq(h.e[1].name, "a");
	ck_assert_str_eq(h.e[1].hash, secret5);
	ck_assert_uint_eq(skipped, 3);
	ck_assert_uint_eq(first_bad, 3);
	htpasswd_clear(&h);
}
END_TEST

START_TEST(parse_limits)
{
	struct htpasswd h;
	char err[128] = "";
	char *big;
	size_t skipped, first_bad;

	ck_assert_int_eq(htpasswd_parse("", 0, &h, &skipped, &first_bad, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(h.n, 0);
	ck_assert_uint_eq(skipped, 0);
	ck_assert_int_eq(htpasswd_parse("a\0b:x\n", 6, &h, NULL, NULL, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(h.n, 0);
	big = calloc(1, HTPASSWD_MAX_FILE + 1);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(htpasswd_parse(big, HTPASSWD_MAX_FILE + 1, &h, NULL,
	    NULL, err, sizeof(err)), -1);
	ck_assert_str_ne(err, "");
	free(big);
}
END_TEST

/* More than HTPASSWD_MAX_USERS valid lines make the file unusable. */
START_TEST(parse_too_many)
{
	struct htpasswd h;
	char err[128] = "", *text, *p;
	size_t i, n = HTPASSWD_MAX_USERS + 1;

	text = malloc(n * 72);
	ck_assert_ptr_nonnull(text);
	for (i = 0, p = text; i < n; i++)
		p += sprintf(p, "u%zu:%s\n", i, secret5);
	ck_assert_int_eq(htpasswd_parse(text, (size_t)(p - text), &h, NULL,
	    NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "users"));
	ck_assert_uint_eq(h.n, 0);
	p -= strlen(secret5) + strlen("u100000:") + 1;
	ck_assert_int_eq(htpasswd_parse(text, (size_t)(p - text), &h, NULL,
	    NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(h.n, HTPASSWD_MAX_USERS);
	ck_assert_ptr_nonnull(htpasswd_find(&h, "u99999"));
	htpasswd_clear(&h);
	free(text);
}
END_TEST

START_TEST(format_roundtrip)
{
	struct htpasswd h, h2;
	char text[512], err[128], *out;
	size_t len;

	snprintf(text, sizeof(text), "# c\nalice:%s\r\nbob:%s", secret5,
	    secret5);
	ck_assert_int_eq(htpasswd_parse(text, strlen(text), &h, NULL, NULL,
	    err, sizeof(err)), 0);
	out = htpasswd_format(&h, &len);
	ck_assert_uint_eq(len, strlen(out));
	snprintf(text, sizeof(text), "alice:%s\nbob:%s\n", secret5, secret5);
	ck_assert_str_eq(out, text);
	ck_assert_int_eq(htpasswd_parse(out, len, &h2, NULL, NULL, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(h2.n, 2);
	free(out);
	htpasswd_clear(&h);
	htpasswd_clear(&h2);
	h.n = 0;
	out = htpasswd_format(&h, &len);
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

/* A line `htpasswd -B` writes is parsed and checked here. */
START_TEST(apache_to_us)
{
	struct htpasswd h;
	const struct htpasswd_entry *e;
	char line[512], err[128];

	read_line("htpasswd -nbB -C 5 alice 'pa ss:w0rd'", line, sizeof(line));
	ck_assert_int_eq(htpasswd_parse(line, strlen(line), &h, NULL, NULL,
	    err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(e = htpasswd_find(&h, "alice"));
	ck_assert_int_eq(htpasswd_check(e->hash, "pa ss:w0rd"), 1);
	ck_assert_int_eq(htpasswd_check(e->hash, "pa ss:w0rd "), 0);
	htpasswd_clear(&h);
}
END_TEST

/* A file we write is accepted by `htpasswd -vb`, wrong passwords not. */
START_TEST(us_to_apache)
{
	struct htpasswd h;
	struct htpasswd_entry e[2];
	char path[] = "/tmp/test_htpasswd.XXXXXX", cmd[512], hb[64], *text;
	size_t len;
	int fd;

	ck_assert_int_eq(htpasswd_hash("b0b's pw", 6, hb, sizeof(hb)), 0);
	e[0].name = "alice";
	e[0].hash = secret5;
	e[1].name = "bob";
	e[1].hash = hb;
	h.e = e;
	h.n = 2;
	text = htpasswd_format(&h, &len);
	ck_assert_int_ge(fd = mkstemp(path), 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	free(text);
	snprintf(cmd, sizeof(cmd), "htpasswd -vb %s alice secret 2>/dev/null",
	    path);
	ck_assert_int_eq(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "htpasswd -vb %s bob \"b0b's pw\" "
	    "2>/dev/null", path);
	ck_assert_int_eq(run(cmd), 0);
	snprintf(cmd, sizeof(cmd), "htpasswd -vb %s alice Secret 2>/dev/null",
	    path);
	ck_assert_int_ne(run(cmd), 0);
	unlink(path);
}
END_TEST

/* All the htpasswd tests in one suite. */
static Suite *
htpasswd_suite(void)
{
	Suite *s = suite_create("htpasswd");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, names);
	tcase_add_test(tc, hash_and_check);
	tcase_add_test(tc, variants);
	tcase_add_test(tc, long_password);
	tcase_add_test(tc, parse_file);
	tcase_add_test(tc, parse_duplicates);
	tcase_add_test(tc, parse_limits);
	tcase_add_test(tc, parse_too_many);
	tcase_add_test(tc, format_roundtrip);
	tcase_add_test(tc, apache_to_us);
	tcase_add_test(tc, us_to_apache);
	tcase_add_test(tc, dummy_hash);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status says whether all passed. */
int
main(void)
{
	return unit_run(htpasswd_suite());
}
