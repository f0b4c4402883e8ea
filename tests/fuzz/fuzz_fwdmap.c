/*
 * fuzz_fwdmap.c - libFuzzer target for lib/fwdmap.c (what a forwarding
 * edge rewrites).  Input: a Location an upstream might send, 0x01, then a
 * query a client might send.  A mapped Location is "/v2/" + a valid name
 * that starts with the upstream's prefix, visible ASCII, and maps to
 * itself again through a catch-all on the edge's own origin; a mapped
 * query fits, and holds a from= only when a source was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwdmap.h"
#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
location_one(const char *loc, const char *prefix, const char *url)
{
	struct cache_upstream u, self;
	char out[FWD_LOCATION_MAX], again[FWD_LOCATION_MAX];
	char name[CACHE_NAME_MAX], name2[CACHE_NAME_MAX];

	memset(&u, 0, sizeof(u));
	if (cache_url_parse(url, &u) == -1)
		abort();
	strcpy(u.prefix, prefix);
	if (fwd_location_map(loc, &u, out, sizeof(out), name,
	    sizeof(name)) != 0)
		return;
	if (strncmp(out, "/v2/", 4) != 0 || strncmp(out + 4, name,
	    strlen(name)) != 0 || strncmp(name, prefix, strlen(prefix)) != 0 ||
	    !oci_name_valid(name))
		abort();
	for (const char *p = out; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			abort();
	self = u;
	self.prefix[0] = '\0';
	if (fwd_location_map(out, &self, again, sizeof(again), name2,
	    sizeof(name2)) != 0 || strcmp(again, out) != 0 ||
	    strcmp(name2, name) != 0)
		abort();
}

static void
query_one(const char *q)
{
	char out[512];

	if (fwd_query_map(q, NULL, out, sizeof(out)) == 0 &&
	    (strncmp(out, "from=", 5) == 0 || strstr(out, "&from=") != NULL))
		abort();
	if (fwd_query_map(q, "team/app", out, sizeof(out)) == 0 &&
	    strlen(out) >= sizeof(out))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *q;

	if (size > 3 * FWD_LOCATION_MAX)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	q = strchr(text, 0x01);
	if (q != NULL)
		*q++ = '\0';
	location_one(text, "", "https://main.example:5000");
	location_one(text, "dr/", "http://127.0.0.1:5001");
	location_one(text, "docker.io/", "https://registry-1.docker.io");
	if (q != NULL)
		query_one(q);
	free(text);
	return 0;
}
