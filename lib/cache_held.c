/*
 * cache_held.c - the repositories a cache's copies live in, and the
 * upstream list as workers other than httpd receive it.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache_held.h"
#include "conf_cache.h"
#include "util.h"

/* Fields of a canonical cache.upstreams line (conf_cache.c's order). */
#define F_USERNAME	2
#define F_PASSWORD	3

int
cache_held(const struct cache_upstream *ups, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(name, ups[i].prefix, strlen(ups[i].prefix)) == 0)
			return 1;
	return 0;
}

char *
cache_upstreams_redact(const char *text)
{
	struct buf b;
	char *out;
	int field = 0;

	buf_init(&b);
	for (const char *p = text; *p; p++) {
		if (*p == '\n' || *p == '\t') {
			field = *p == '\n' ? 0 : field + 1;
			buf_append(&b, p, 1);
		} else if (field != F_USERNAME && field != F_PASSWORD)
			buf_append(&b, p, 1);
	}
	out = xmalloc(buf_avail(&b) + 1);
	if (buf_avail(&b) > 0)	/* an empty buf has no head to copy from */
		memcpy(out, buf_head(&b), buf_avail(&b));
	out[buf_avail(&b)] = '\0';
	buf_free(&b);
	return out;
}
