/* test_status_html.c - unit tests for tunneld/status_html.c: the relay's
 * fixture document (tests/integration/status_fixture.json) renders its
 * clients, groups, weights and health; names a hostile client chose render
 * as text, never as markup; missing or mistyped fields show as "-". */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "util.h"
#include "unit.h"

static char *
render(const json_t *doc)
{
	struct buf b;
	char *s;

	buf_init(&b);
	status_html(doc, &b);
	s = xstrndup(buf_head(&b), buf_avail(&b));
	buf_free(&b);
	return s;
}

static json_t *
fixture(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	json_error_t e;
	json_t *doc;

	snprintf(path, sizeof(path), "%s/tests/integration/status_fixture.json",
	    top ? top : ".");
	doc = json_load_file(path, 0, &e);
	ck_assert_msg(doc != NULL, "%s: %s", path, e.text);
	return doc;
}

#define HAS(s, x)	ck_assert_msg(strstr(s, x) != NULL, "no %s", x)
#define HASNT(s, x)	ck_assert_msg(strstr(s, x) == NULL, "%s there", x)

START_TEST(renders_fixture)
{
	json_t *doc = fixture();
	char *s = render(doc);

	HAS(s, "<td>registry-a</td><td>198.51.100.10:40001</td><td>0.9.0</td>"
	    "<td>01:02:05</td><td>2</td><td>3</td><td>5</td><td>1.0 MiB</td>"
	    "<td>2.0 GiB</td>");
	HAS(s, "<h2>Clients (2)</h2>");
	HAS(s, "registry &middot; port 5000");
	HAS(s, "<td>registry-a</td><td>docker-registry</td><td>60</td>"
	    "<td><span class=up>healthy</span></td><td>5</td><td>700</td>");
	HAS(s, "<td>40</td><td><span class=down>unhealthy</span></td>");
	HAS(s, "up 1d 01:01:01");
	HAS(s, "ports 5000-5100");
	HAS(s, "<span id=streams>7</span> open streams");
	HAS(s, "in 1.5 MiB");
	HAS(s, "<td>512 B</td>");
	free(s);
	json_decref(doc);
}
END_TEST

START_TEST(hostile_names_are_text)
{
	json_t *doc = fixture();
	char *s = render(doc);

	HAS(s, "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;");
	HAS(s, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
	HAS(s, "reg&amp;b");
	HASNT(s, "<script");
	HASNT(s, "<img");
	free(s);
	json_decref(doc);
}
END_TEST

START_TEST(missing_fields)
{
	json_t *doc = json_pack("{s:s, s:[{s:i, s:s}], s:[{s:s}]}", "role",
	    "relay", "clients", "name", 5, "uptime", "long", "groups",
	    "group", "g");
	char *s = render(doc);

	HAS(s, "version - &middot; up - &middot; ports -");
	HAS(s, "<tr><td>5</td><td>-</td><td>-</td><td>-</td>");
	HAS(s, "g &middot; port -");
	free(s);
	json_decref(doc);
	doc = json_object();
	s = render(doc);
	HAS(s, "No client is connected.");
	HAS(s, "No proxy is registered.");
	free(s);
	json_decref(doc);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("status_html");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, renders_fixture);
	tcase_add_test(tc, hostile_names_are_text);
	tcase_add_test(tc, missing_fields);
	suite_add_tcase(su, tc);
	return unit_run(su);
}
