/*
 * audit.c - audit lines in JSON.  Built by hand rather than with jansson:
 * httpd writes one per pull, and an allocation-free formatter keeps that off
 * the request's cost.
 */
#include <stdio.h>
#include <string.h>

#include "audit.h"

/* Append s as a JSON string; control bytes and bytes over 0x7e escaped so a
 * line stays one line and valid JSON whatever a client sent.  A byte over
 * 0x7f is written as the code point of that value (its Latin-1 reading): names
 * are ASCII in practice, and the raw bytes stay recoverable. */
static void
json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	buf_reserve(b, 2 + 6 * strlen((const char *)p));
	*buf_tail(b) = '"';
	b->len++;
	for (; *p; p++) {
		char *o = buf_tail(b);
		if (*p == '"' || *p == '\\') {
			o[0] = '\\';
			o[1] = (char)*p;
			b->len += 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 0xf];
			b->len += 6;
		} else {
			o[0] = (char)*p;
			b->len++;
		}
	}
	*buf_tail(b) = '"';
	b->len++;
}

static void
json_field(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, ",\"%s\":", name);
	if (v == NULL || *v == '\0')
		buf_puts(b, "null");
	else
		json_str(b, v);
}

int
audit_line(struct buf *b, const struct audit_rec *r,
    const struct timespec *now)
{
	size_t start = b->len;
	struct tm tm;
	char when[32];

	gmtime_r(&now->tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "{\"time\":\"%s.%03ldZ\"", when, now->tv_nsec / 1000000);
	json_field(b, "addr", r->addr);
	json_field(b, "user", r->user);
	json_field(b, "action", r->action);
	json_field(b, "repo", r->repo);
	json_field(b, "ref", r->ref);
	json_field(b, "digest", r->digest);
	buf_printf(b, ",\"status\":%d,\"bytes\":%llu}\n", r->status,
	    (unsigned long long)r->bytes);
	if (b->len - start > AUDIT_LINE_MAX) {
		b->len = start;
		return -1;
	}
	return 0;
}
