/* test_conf.c - configuration: defaults serve, errors name file and line,
 * values are validated, printed defaults read back the same. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char path[] = "/tmp/test_conf.XXXXXX";

static int
load(const char *text, char *err, size_t errlen)
{
	struct conf *c = conf_new();
	int fd = mkstemp(path), r;
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	r = conf_load_file(c, path, err, errlen);
	if (r == 0)
		conf_use(c);
	else
		conf_free(c);
	unlink(path);
	strcpy(path, "/tmp/test_conf.XXXXXX");
	return r;
}

/* err must hold ":LINE:" and the word. */
static void
expect_error(const char *text, int line, const char *word)
{
	char err[512], tag[32];

	ck_assert_int_eq(load(text, err, sizeof(err)), -1);
	snprintf(tag, sizeof(tag), ":%d:", line);
	ck_assert_msg(strstr(err, tag) != NULL, "no line %d in '%s'", line, err);
	ck_assert_msg(strstr(err, word) != NULL, "no '%s' in '%s'", word, err);
}

START_TEST(defaults_serve)
{
	size_t n;
	char *const *l;

	conf_use(conf_new());
	l = conf_list(P_HTTP_LISTEN, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0], "127.0.0.1:5000");
	ck_assert_str_eq(conf_str(P_STORAGE_ROOT), "/var/lib/regmaster");
	ck_assert(conf_bool(P_W_HTTPD));
	ck_assert(!conf_bool(P_W_TUNNELD));
}
END_TEST

START_TEST(good_file_read)
{
	char err[512];
	size_t n;
	char *const *l;

	ck_assert_int_eq(load("run_dir = \"/tmp/r\";\n"
	    "http = { listen = [\"127.0.0.1:5001\", \"[::1]:5002\"];\n"
	    "  max_connections = 10; };\n"
	    "storage = { delete = true; };\n", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str(P_RUN_DIR), "/tmp/r");
	l = conf_list(P_HTTP_LISTEN, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[1], "[::1]:5002");
	ck_assert_int_eq(conf_int(P_HTTP_MAXCONN), 10);
	ck_assert(conf_bool(P_STORAGE_DELETE));
}
END_TEST

START_TEST(unknown_key_names_line)
{
	expect_error("run_dir = \"/tmp\";\n\nhttp = {\n  lisen = [\"a:1\"];\n};\n",
	    4, "http.lisen");
	expect_error("colour = \"blue\";\n", 1, "colour");
	expect_error("http = { tls = { cert = \"x\"; }; };\n", 1, "http.tls");
}
END_TEST

START_TEST(bad_values_name_line)
{
	expect_error("\nstorage = { delete = \"maybe\"; };\n", 2, "storage.delete");
	expect_error("http = {\n listen = [\"999.1.1.1:99999\"]; };\n", 2,
	    "http.listen");
	expect_error("http = { listen = [\"nocolon\"]; };\n", 1, "http.listen");
	expect_error("http = { max_connections = 0; };\n", 1, "max_connections");
	expect_error("storage = { root = \"relative/path\"; };\n", 1,
	    "storage.root");
	expect_error("storage = { root = \"/a/../b\"; };\n", 1, "storage.root");
	expect_error("log_level = \"loud\";\n", 1, "log_level");
	expect_error("users = { httpd = \"Bad User\"; };\n", 1, "users.httpd");
	expect_error("http = { header_timeout = -5; };\n", 1, "header_timeout");
}
END_TEST

START_TEST(syntax_error_names_line)
{
	expect_error("run_dir = \"/tmp\";\nhttp = { listen = [ };\n", 2, ":2:");
	expect_error("a = 1;\nb = ;\n", 2, ":2:");
}
END_TEST

START_TEST(conf_set_validates)
{
	struct conf *c = conf_new();
	char err[256];

	ck_assert_int_eq(conf_set(c, P_STORAGE_DELETE, "true", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c->v[P_STORAGE_DELETE].i, 1);
	ck_assert_int_eq(conf_set(c, P_STORAGE_DELETE, "yes", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(c->v[P_STORAGE_DELETE].i, 1);	/* kept */
	ck_assert_int_eq(conf_set(c, P_HTTP_MAXCONN, "99999999999", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(conf_set(c, P_HTTP_LISTEN, "127.0.0.1:1\n[::1]:2",
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(c->v[P_HTTP_LISTEN].nlist, 2);
	ck_assert_int_eq(conf_lookup("no.such"), -1);
	conf_free(c);
}
END_TEST

START_TEST(printed_defaults_read_back)
{
	struct conf *d = conf_new(), *c = conf_new();
	char err[512];
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	conf_print(d, fp, 1);
	fclose(fp);
	ck_assert_msg(conf_load_file(c, path, err, sizeof(err)) == 0, "%s", err);
	for (int p = 0; p < P_MAX; p++)
		ck_assert_str_eq(c->v[p].s, d->v[p].s);
	unlink(path);
	conf_free(c);
	conf_free(d);
}
END_TEST

/* regmaster.conf(5) documents every parameter of the table (by its key and,
 * for grouped keys, its group): the man page cannot drift from params.h. */
START_TEST(man_page_lists_every_key)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/man/regmaster.conf.5", top ? top : ".");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (int p = 0; p < P_MAX; p++) {
		const char *name = conf_params[p].name, *dot = strchr(name, '.');
		char group[64];
		ck_assert_msg(strstr(text, dot ? dot + 1 : name) != NULL,
		    "regmaster.conf(5) lacks %s", name);
		if (dot) {
			snprintf(group, sizeof(group), ".Ss %.*s\n",
			    (int)(dot - name), name);
			ck_assert_msg(strstr(text, group) != NULL,
			    "regmaster.conf(5) lacks the %s group", group);
		}
	}
	free(text);
}
END_TEST

/* Durations: plain seconds or one unit (s, m, h, d), as a string or an
 * integer in the file, bounded by the parameter's limits in seconds. */
START_TEST(durations)
{
	static const struct { const char *text; int64_t secs; } good[] = {
		{ "90s", 90 }, { "15m", 900 }, { "1h", 3600 }, { "7d", 604800 },
		{ "3600", 3600 }, { "1s", 1 }, { "366d", 366 * 86400 },
	};
	static const char *bad[] = {
		"", "h", "1x", "1.5h", "-1h", "1hs", "5ms", "0s", "0", "367d",
		"1 h", "h1", "99999999999999999999d", "1d1h",
	};
	struct conf *c = conf_new();
	char err[256];

	ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, 86400);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_set(c, P_STORAGE_UPLOAD_EXPIRY, good[i].text,
		    err, sizeof(err)) == 0, "%s: %s", good[i].text, err);
		ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(conf_set(c, P_STORAGE_UPLOAD_EXPIRY, bad[i], err,
		    sizeof(err)) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, 366 * 86400);
	}
	conf_free(c);
	ck_assert_int_eq(load("storage = { upload_expiry = \"2h\"; };\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_int(P_STORAGE_UPLOAD_EXPIRY), 7200);
	ck_assert_int_eq(load("storage = { upload_expiry = 120; };\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_int(P_STORAGE_UPLOAD_EXPIRY), 120);
	expect_error("\nstorage = { upload_expiry = \"soon\"; };\n", 2,
	    "storage.upload_expiry");
	expect_error("storage = { upload_expiry = true; };\n", 1,
	    "upload_expiry");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults_serve);
	tcase_add_test(tc, good_file_read);
	tcase_add_test(tc, unknown_key_names_line);
	tcase_add_test(tc, bad_values_name_line);
	tcase_add_test(tc, syntax_error_names_line);
	tcase_add_test(tc, conf_set_validates);
	tcase_add_test(tc, printed_defaults_read_back);
	tcase_add_test(tc, man_page_lists_every_key);
	tcase_add_test(tc, durations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
