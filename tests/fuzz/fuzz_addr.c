/*
 * fuzz_addr.c - libFuzzer target for lib/util.c's addr_parse: the visitor
 * address a relay puts into OPEN, as the tunnel client reads it.  What
 * parses is an IPv4 or IPv6 address that formats to text which parses to
 * the same address again.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage a, b;
	char s[600], out[64];

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (addr_parse(s, &a) == -1)
		return 0;
	if ((a.ss_family != AF_INET && a.ss_family != AF_INET6) ||
	    addr_format((struct sockaddr *)&a, out, sizeof(out)) == -1 ||
	    addr_parse(out, &b) == -1 || memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
