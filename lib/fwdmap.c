/*
 * fwdmap.c - rewriting what an edge forwards (fwdmap.h): an upstream's
 * Location back to the edge's names, a mount's source to the upstream's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fwdmap.h"
#include "http.h"
#include "oci.h"

/* Visible ASCII only: a Location is echoed into a header and a path. */
static int
visible(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Where the name ends in p[0..end): the last "/blobs/" or "/manifests/"
 * (a name may hold those words as components; a route is on the right). */
static const char *
name_end(const char *p, const char *end)
{
	const char *found = NULL;

	for (const char *s = p; s < end; s++)
		if ((end - s >= 7 && strncmp(s, "/blobs/", 7) == 0) ||
		    (end - s >= 11 && strncmp(s, "/manifests/", 11) == 0))
			found = s;
	return found;
}

/* The path of an absolute loc on u's own origin into *path; 1 for
 * another origin, -1 malformed. */
static int
same_origin(const char *loc, const struct cache_upstream *u,
    const char **path)
{
	struct cache_upstream at;
	char base[CACHE_HOST_MAX + 16];
	const char *s = strstr(loc, "://");
	size_t n;

	if (s == NULL)
		return -1;
	*path = strchr(s + 3, '/');
	n = *path ? (size_t)(*path - loc) : strlen(loc);
	if (n >= sizeof(base))
		return -1;
	memcpy(base, loc, n);
	base[n] = '\0';
	memset(&at, 0, sizeof(at));
	if (cache_url_parse(base, &at) == -1)
		return -1;
	if (at.tls != u->tls || strcasecmp(at.host, u->host) != 0 ||
	    strcmp(at.port, u->port) != 0)
		return 1;
	return *path == NULL ? -1 : 0;
}

int
fwd_location_map(const char *loc, const struct cache_upstream *u,
    char *out, size_t outlen, char *name, size_t namelen)
{
	char nm[OCI_NAME_MAX + 1];
	const char *path = loc, *q, *rest;
	size_t n;
	int rc;

	if (strlen(loc) >= FWD_LOCATION_MAX || !visible(loc))
		return -1;
	if (loc[0] != '/' && (rc = same_origin(loc, u, &path)) != 0)
		return rc;
	if (strncmp(path, "/v2/", 4) != 0)
		return -1;
	path += 4;
	q = path + strcspn(path, "?");
	if ((rest = name_end(path, q)) == NULL ||
	    (n = (size_t)(rest - path)) == 0 || n >= sizeof(nm))
		return -1;
	memcpy(nm, path, n);
	nm[n] = '\0';
	if (!oci_name_valid(nm) || snprintf(name, namelen, "%s%s", u->prefix,
	    nm) >= (int)namelen || !oci_name_valid(name))
		return -1;
	if (snprintf(out, outlen, "/v2/%s%s", name, rest) >= (int)outlen)
		return -1;
	return 0;
}

/* Append s[0..n) to out at *at, '&' first unless it is the first. */
static int
query_add(char *out, size_t outlen, size_t *at, const char *s, size_t n)
{
	size_t sep = *at > 0;

	if (*at + sep + n >= outlen)
		return -1;
	if (sep)
		out[(*at)++] = '&';
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
	return 0;
}

int
fwd_query_map(const char *query, const char *from_remote, char *out,
    size_t outlen)
{
	char esc[3 * OCI_NAME_MAX + 8];
	const char *p = query;
	size_t at = 0, n, kl;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	for (; *p; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		kl = strcspn(p, "=&");
		if (kl == 4 && strncmp(p, "from", 4) == 0) {
			if (from_remote == NULL)
				continue;
			memcpy(esc, "from=", 5);
			if (http_query_escape(from_remote, "-._~/", esc + 5,
			    sizeof(esc) - 5) == -1 || query_add(out, outlen, &at,
			    esc, strlen(esc)) == -1)
				return -1;
		} else if (kl == 5 && strncmp(p, "mount", 5) == 0 &&
		    from_remote == NULL)
			continue;
		else if (n > 0 && query_add(out, outlen, &at, p, n) == -1)
			return -1;
	}
	return 0;
}
