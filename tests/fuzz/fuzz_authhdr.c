/*
 * fuzz_authhdr.c - libFuzzer target for lib/authhdr.c.  The input is the
 * header value; a Basic answer must be within the bounds and re-encode to
 * what was decoded, a Bearer answer must point into the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authhdr.h"
#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_basic(const struct authhdr *a)
{
	size_t u = strnlen(a->user, sizeof(a->user));

	if (u == 0 || u > AUTHHDR_USER_MAX || strchr(a->user, ':') ||
	    strnlen(a->pass, sizeof(a->pass)) > AUTHHDR_PASS_MAX)
		abort();
	for (size_t i = 0; i < u; i++)
		if ((unsigned char)a->user[i] < 0x20 || a->user[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct authhdr a;
	char *v;

	if ((v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	switch (authhdr_parse(v, &a)) {
	case AH_BASIC:
		check_basic(&a);
		break;
	case AH_BEARER:
		if (a.token < v || a.token + a.token_len != v + strlen(v) ||
		    a.token_len == 0 || a.token_len > JWT_MAX)
			abort();
		break;
	case AH_MALFORMED:
		if (a.pass[0] != '\0')
			abort();
		break;
	default:
		abort();
	}
	authhdr_clear(&a);
	free(v);
	return 0;
}
