/*
 * fuzz_proxyv2.c - libFuzzer target for lib/proxyv2.c.  The input is the
 * first bytes of a connection on http.proxy_listen: a parsed header lies
 * inside the input and the bound; its addresses are TCP ones and, built
 * again, parse to the same; "more" is only said below the bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_again(const struct proxyv2 *p)
{
	uint8_t out[PROXYV2_OUT_MAX];
	struct proxyv2 q;
	const char *err;
	size_t n;

	n = proxyv2_build(out, p->local ? NULL : (const void *)&p->src,
	    (const void *)&p->dst);
	if (n == 0 || proxyv2_parse(out, n, &q, &err) != (long)n ||
	    q.local != p->local)
		abort();
	if (!p->local && (memcmp(&q.src, &p->src, sizeof(q.src)) != 0 ||
	    memcmp(&q.dst, &p->dst, sizeof(q.dst)) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyv2 p;
	const char *err;
	long n;

	n = proxyv2_parse(data, size, &p, &err);
	if ((n == -1) != (err != NULL))
		abort();
	if (n == 0 && size >= PROXYV2_MAX)
		abort();	/* asked for more than the bound */
	if (n > 0) {
		if ((size_t)n > size || n > PROXYV2_MAX || n < PROXYV2_HDR)
			abort();
		if (!p.local && p.src.ss_family != AF_INET &&
		    p.src.ss_family != AF_INET6)
			abort();
		check_again(&p);
	}
	return 0;
}
