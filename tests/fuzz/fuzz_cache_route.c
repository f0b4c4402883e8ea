/*
 * fuzz_cache_route.c - libFuzzer target for lib/conf_cache.c
 * (cache.upstreams and routing a name to an upstream).  Input: canonical
 * upstreams text, 0x01, then one repository name a line.  parse and check
 * agree; every parsed upstream has a valid prefix, a host and a port;
 * a routed name's stored repository is the upstream's prefix followed by
 * the name fetched, and a prefix upstream's name starts with its prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
route_one(const struct cache_upstream *us, size_t n, const char *name)
{
	char remote[CACHE_NAME_MAX], store[CACHE_NAME_MAX];
	size_t pl;
	int m, i;

	if ((i = cache_route(us, n, name, remote, sizeof(remote), store,
	    sizeof(store), &m)) < 0)
		return;
	if ((size_t)i >= n)
		abort();
	pl = strlen(us[i].prefix);
	if (strncmp(store, us[i].prefix, pl) != 0 ||
	    strcmp(store + pl, remote) != 0)
		abort();
	if (!m && pl > 0 && strncmp(name, us[i].prefix, pl) != 0)
		abort();
	if (m && (!us[i].mirror || strcmp(remote, name) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_upstream *us;
	char *text, *names, *line, err[256];
	size_t n;
	int r;

	if (size > 8192)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	names = strchr(text, 0x01);
	if (names != NULL)
		*names++ = '\0';
	r = cache_upstreams_parse(text, &us, &n, err, sizeof(err));
	if ((r == 0) != (cache_upstreams_check(text, err, sizeof(err)) == 0))
		abort();
	for (size_t i = 0; r == 0 && i < n; i++)
		if (us[i].host[0] == '\0' || us[i].port[0] == '\0' ||
		    (us[i].prefix[0] != '\0' &&
		    us[i].prefix[strlen(us[i].prefix) - 1] != '/'))
			abort();
	while (r == 0 && names != NULL && (line = strsep(&names, "\n")))
		route_one(us, n, line);
	free(us);
	free(text);
	return 0;
}
