/*
 * conf_cache.c - parsing and checking the pull-through cache's
 * configuration (cache.upstreams, cache.push) and routing a repository
 * name to the upstream that serves it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_cache.h"
#include "util.h"

#define HUB_PREFIX	"docker.io/"

int
cache_push_parse(const char *s)
{
	if (strcmp(s, "refuse") == 0)
		return CACHE_PUSH_REFUSE;
	if (strcmp(s, "forward") == 0)
		return CACHE_PUSH_FORWARD;
	return -1;
}

/* "" or components of [a-z0-9._-] each followed by '/'. */
static int
prefix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return 1;
	if (n >= CACHE_PREFIX_MAX || s[n - 1] != '/' || s[0] == '/' ||
	    strstr(s, "//") != NULL)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == n;
}

int
cache_url_parse(const char *s, struct cache_upstream *u)
{
	char hp[CACHE_HOST_MAX + 8];
	const char *rest;
	size_t n;
	uint64_t pn;

	if (strncmp(s, "https://", 8) == 0)
		u->tls = 1, rest = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		u->tls = 0, rest = s + 7;
	else
		return -1;
	n = strcspn(rest, "/");
	if (n == 0 || n >= sizeof(hp) || (rest[n] == '/' && rest[n + 1]))
		return -1;
	memcpy(hp, rest, n);
	hp[n] = '\0';
	if (strspn(hp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") != n)
		return -1;
	if (conf_split_hostport(hp, u->host, sizeof(u->host), u->port,
	    sizeof(u->port)) == 0) {
		if (parse_u64(u->port, 65535, &pn) == -1 || pn == 0)
			return -1;
	} else {
		if (strchr(hp, ':') != NULL || str_copy(u->host, hp,
		    sizeof(u->host)) == -1)
			return -1;
		str_copy(u->port, u->tls ? "443" : "80", sizeof(u->port));
	}
	return strpbrk(u->host, "[]") == NULL ? 0 : -1;
}

/* Copy one field, refusing what does not fit: no silent truncation. */
static int
field_copy(char *dst, const char *src, size_t len, const char *what,
    char *err, size_t errlen)
{
	if (str_copy(dst, src, len) == -1)
		return snprintf(err, errlen, "upstream %s: longer than %zu "
		    "bytes", what, len - 1), -1;
	return 0;
}

/* One line of canonical text (every field present: conf_rules checked). */
static int
upstream_parse(char *line, void *elem, char *err, size_t errlen)
{
	struct cache_upstream *u = elem;
	char *f[7];

	for (int i = 0; i < 7; i++)
		if ((f[i] = strsep(&line, "\t")) == NULL)
			return snprintf(err, errlen, "an upstream lacks "
			    "fields"), -1;
	memset(u, 0, sizeof(*u));
	if (!prefix_ok(f[0]))
		return snprintf(err, errlen, "prefix '%s' is not \"\" or "
		    "lower-case name components each ending in '/'", f[0]), -1;
	if (cache_url_parse(f[1], u) == -1)
		return snprintf(err, errlen, "url '%s' is not http://HOST[:PORT]"
		    " or https://HOST[:PORT]", f[1]), -1;
	if (field_copy(u->prefix, f[0], sizeof(u->prefix), "prefix", err,
	    errlen) || field_copy(u->url, f[1], sizeof(u->url), "url", err,
	    errlen) || field_copy(u->username, f[2], sizeof(u->username),
	    "username", err, errlen) || field_copy(u->password, f[3],
	    sizeof(u->password), "password", err, errlen) ||
	    field_copy(u->ca, f[4], sizeof(u->ca), "ca", err, errlen))
		return -1;
	if ((*u->username != '\0') != (*u->password != '\0') ||
	    strchr(u->username, ':') != NULL)
		return snprintf(err, errlen, "upstream %s: username (without "
		    "':') and password go together", f[1]), -1;
	if (*u->ca != '\0' && (u->ca[0] != '/' || !u->tls))
		return snprintf(err, errlen, "upstream %s: ca must be an "
		    "absolute path, for an https:// url", f[1]), -1;
	if (conf_duration_parse(f[5], 366 * 86400, &u->ttl) == -1)
		return snprintf(err, errlen, "upstream %s: ttl '%s' is not a "
		    "duration", f[1], f[5]), -1;
	u->mirror = strcmp(f[6], "true") == 0;
	if (u->mirror && *u->prefix == '\0')
		return snprintf(err, errlen, "upstream %s: a mirror needs a "
		    "prefix to store its copies under", f[1]), -1;
	return 0;
}

/* Prefixes distinct, at most one catch-all and one mirror, not both. */
static int
upstreams_distinct(const struct cache_upstream *us, size_t n, char *err,
    size_t errlen)
{
	int catchall = 0, mirror = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(us[i].prefix, us[j].prefix) == 0)
				return snprintf(err, errlen, "two upstreams have "
				    "prefix \"%s\"", us[i].prefix), -1;
		catchall += us[i].prefix[0] == '\0';
		mirror += us[i].mirror;
	}
	if (mirror > 1 || (mirror && catchall))
		return snprintf(err, errlen, "at most one upstream has mirror = "
		    "true, and not beside a catch-all (prefix = \"\")"), -1;
	return 0;
}

int
cache_upstreams_parse(const char *text, struct cache_upstream **out,
    size_t *n, char *err, size_t errlen)
{
	void *v;

	*out = NULL;
	if (conf_list_parse(text, sizeof(**out), CACHE_UPSTREAMS_MAX,
	    "upstreams", upstream_parse, &v, n, err, errlen) == -1)
		return -1;
	*out = v;
	if (upstreams_distinct(*out, *n, err, errlen) == 0)
		return 0;
	if (*out != NULL)
		explicit_bzero(*out, *n * sizeof(**out));
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
cache_upstreams_check(const char *text, char *err, size_t errlen)
{
	struct cache_upstream *us;
	size_t n;

	if (cache_upstreams_parse(text, &us, &n, err, errlen) == -1)
		return -1;
	if (us != NULL)
		explicit_bzero(us, n * sizeof(*us));
	free(us);
	return 0;
}

/* The upstream whose non-empty prefix is the longest start of name. */
static int
longest_prefix(const struct cache_upstream *ups, size_t n, const char *name)
{
	size_t best = 0;
	int r = -1;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(ups[i].prefix);
		if (l > best && strncmp(name, ups[i].prefix, l) == 0 &&
		    name[l] != '\0') {
			best = l;
			r = (int)i;
		}
	}
	return r;
}

int
cache_route(const struct cache_upstream *ups, size_t n, const char *name,
    char *remote, size_t remlen, char *store, size_t stlen,
    int *mirror_only)
{
	const char *rest = name;
	int i;

	*mirror_only = 0;
	if ((i = longest_prefix(ups, n, name)) >= 0)
		rest = name + strlen(ups[i].prefix);
	for (size_t k = 0; i < 0 && k < n; k++)
		if (ups[k].prefix[0] == '\0')
			i = (int)k;
	for (size_t k = 0; i < 0 && k < n; k++)
		if (ups[k].mirror)
			i = (int)k, *mirror_only = 1;
	if (i < 0)
		return -1;
	if (strcmp(ups[i].prefix, HUB_PREFIX) == 0 && !*mirror_only &&
	    strchr(rest, '/') == NULL) {
		if (snprintf(remote, remlen, "library/%s", rest) >= (int)remlen)
			return -1;
	} else if (str_copy(remote, rest, remlen) == -1)
		return -1;
	if (snprintf(store, stlen, "%s%s", ups[i].prefix, remote) >=
	    (int)stlen)
		return -1;
	return i;
}

int
cache_cross_check(const struct conf *c, char *err, size_t errlen)
{
	int cached = c->v[P_CACHE_UPSTREAMS].s[0] != '\0';

	if (cached && !c->v[P_W_HTTPD].i)
		return snprintf(err, errlen, "cache.upstreams needs "
		    "workers.httpd = true (httpd fetches from them)"), -1;
	/* the client's credentials are the upstream's: one set per host is
	 * all a client holds, and the edge's gate would judge them first */
	if (c->v[P_CACHE_PUSH].i == CACHE_PUSH_FORWARD &&
	    c->v[P_AUTH_HTPASSWD].s[0] != '\0')
		return snprintf(err, errlen, "cache.push = \"forward\" passes "
		    "the client's credentials to the upstream, which decides: "
		    "it cannot be combined with auth.htpasswd"), -1;
	return 0;
}
