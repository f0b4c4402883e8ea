/*
 * status_html.c - the relay's status document as an HTML page: a summary,
 * the clients, and each group's members with weight and health.  Every
 * string of the document comes from tunnel clients (names, proxies, groups,
 * versions), so each is escaped; a field that is missing or of another type
 * shows as "-" rather than failing the page.  No script; the page reloads
 * itself every few seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

#define REFRESH_S	5

static void
esc(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(out, "&amp;"); break;
		case '<': buf_puts(out, "&lt;"); break;
		case '>': buf_puts(out, "&gt;"); break;
		case '"': buf_puts(out, "&quot;"); break;
		case '\'': buf_puts(out, "&#39;"); break;
		default: buf_append(out, s, 1);
		}
	}
}

/* A string field, escaped (a number as itself: "ports" may be either). */
static void
text(struct buf *out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		esc(out, json_is_string(v) ? json_string_value(v) : "-");
}

/* A count field; -1 if it is not a non-negative integer. */
static json_int_t
count(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	    json_integer_value(v) : -1;
}

static void
number(struct buf *out, const json_t *o, const char *key)
{
	json_int_t n = count(o, key);

	if (n < 0)
		buf_puts(out, "-");
	else
		buf_printf(out, "%" JSON_INTEGER_FORMAT, n);
}

static void
bytes(struct buf *out, const json_t *o, const char *key)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	json_int_t n = count(o, key);
	double v;
	int u = 0;

	if (n < 0) {
		buf_puts(out, "-");
		return;
	}
	for (v = (double)n; v >= 1024 && u < 5; u++)
		v /= 1024;
	if (u == 0)
		buf_printf(out, "%" JSON_INTEGER_FORMAT " B", n);
	else
		buf_printf(out, "%.1f %s", v, unit[u]);
}

/* Seconds as "3d 04:05:06". */
static void
uptime(struct buf *out, const json_t *o, const char *key)
{
	json_int_t s = count(o, key);

	if (s < 0) {
		buf_puts(out, "-");
		return;
	}
	if (s >= 86400)
		buf_printf(out, "%" JSON_INTEGER_FORMAT "d ", s / 86400);
	buf_printf(out, "%02d:%02d:%02d", (int)(s % 86400 / 3600),
	    (int)(s % 3600 / 60), (int)(s % 60));
}

/* A table row of cells, each "kind:key" (t text, n number, b bytes, u
 * uptime, h health). */
static void
row(struct buf *out, const json_t *o, const char *const *cells)
{
	buf_puts(out, "<tr>");
	for (; *cells; cells++) {
		const char *key = *cells + 2;

		buf_puts(out, "<td>");
		switch (**cells) {
		case 't': text(out, o, key); break;
		case 'n': number(out, o, key); break;
		case 'b': bytes(out, o, key); break;
		case 'u': uptime(out, o, key); break;
		case 'h':
			buf_puts(out, json_is_true(json_object_get(o, key)) ?
			    "<span class=up>healthy</span>" :
			    "<span class=down>unhealthy</span>");
			break;
		}
		buf_puts(out, "</td>");
	}
	buf_puts(out, "</tr>\n");
}

static void
head(struct buf *out, const char *const *titles)
{
	buf_puts(out, "<table>\n<tr>");
	for (; *titles; titles++)
		buf_printf(out, "<th>%s</th>", *titles);
	buf_puts(out, "</tr>\n");
}

static void
summary(struct buf *out, const json_t *doc)
{
	buf_puts(out, "<h1>regmaster relay</h1>\n<p class=sum>version ");
	text(out, doc, "version");
	buf_puts(out, " &middot; up ");
	uptime(out, doc, "uptime");
	buf_puts(out, " &middot; ports ");
	text(out, doc, "ports");
	buf_puts(out, " &middot; <span id=streams>");
	number(out, doc, "streams");
	buf_puts(out, "</span> open streams &middot; ");
	number(out, doc, "visitors_total");
	buf_puts(out, " visitors &middot; in ");
	bytes(out, doc, "bytes_in");
	buf_puts(out, " &middot; out ");
	bytes(out, doc, "bytes_out");
	buf_puts(out, "</p>\n");
}

static void
clients(struct buf *out, const json_t *doc)
{
	static const char *const titles[] = { "client", "address", "version",
	    "uptime", "connections", "reconnects", "streams", "bytes in",
	    "bytes out", NULL };
	static const char *const cells[] = { "t:name", "t:address",
	    "t:version", "u:uptime", "n:connections", "n:reconnects",
	    "n:streams", "b:bytes_in", "b:bytes_out", NULL };
	const json_t *list = json_object_get(doc, "clients"), *c;
	size_t i;

	buf_printf(out, "<h2>Clients (%zu)</h2>\n", json_array_size(list));
	if (json_array_size(list) == 0) {
		buf_puts(out, "<p>No client is connected.</p>\n");
		return;
	}
	head(out, titles);
	json_array_foreach(list, i, c)
		row(out, c, cells);
	buf_puts(out, "</table>\n");
}

static void
groups(struct buf *out, const json_t *doc)
{
	static const char *const titles[] = { "client", "proxy", "weight",
	    "health", "streams", "visitors", NULL };
	static const char *const cells[] = { "t:client", "t:proxy",
	    "n:weight", "h:healthy", "n:streams", "n:visitors", NULL };
	const json_t *list = json_object_get(doc, "groups"), *g, *m;
	size_t i, j;

	buf_puts(out, "<h2>Groups</h2>\n");
	if (json_array_size(list) == 0)
		buf_puts(out, "<p>No proxy is registered.</p>\n");
	json_array_foreach(list, i, g) {
		buf_puts(out, "<h3>");
		text(out, g, "group");
		buf_puts(out, " &middot; port ");
		number(out, g, "port");
		buf_puts(out, "</h3>\n");
		head(out, titles);
		json_array_foreach(json_object_get(g, "members"), j, m)
			row(out, m, cells);
		buf_puts(out, "</table>\n");
	}
}

void
status_html(const json_t *doc, struct buf *out)
{
	buf_printf(out, "<!DOCTYPE html>\n<html lang=en><head>"
	    "<meta charset=utf-8><meta http-equiv=refresh content=%d>"
	    "<title>regmaster relay</title>\n<style>body{font:14px sans-serif;"
	    "margin:2em}table{border-collapse:collapse;margin-bottom:1em}"
	    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
	    "th{background:#eee}.up{color:#070}.down{color:#b00;"
	    "font-weight:bold}.sum{color:#444}</style></head>\n<body>\n",
	    REFRESH_S);
	summary(out, doc);
	clients(out, doc);
	groups(out, doc);
	buf_puts(out, "<p><a href=\"status.json\">status.json</a></p>\n"
	    "</body></html>\n");
}
