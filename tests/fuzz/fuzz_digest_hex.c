/*
 * fuzz_digest_hex.c - libFuzzer target for digest_from_hex (lib/digest.c),
 * which gcd's scan applies to the store's directory names.  The input is
 * a name; for each algorithm it must be accepted exactly when "alg:" and
 * the name parse as a digest (digest_parse), and then to the same digest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[300], full[320];
	struct digest d, e;

	if (size >= sizeof(name))
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	for (int a = DIGEST_SHA256; a <= DIGEST_SHA512; a++) {
		int ok = digest_from_hex((enum digest_alg)a, name, &d) == 0;
		(void)snprintf(full, sizeof(full), "%s:%s",
		    digest_algname((enum digest_alg)a), name);
		/* a NUL inside the input ends the name for both */
		if (ok != (digest_parse(full, &e) == 0))
			abort();
		if (ok && !digest_equal(&d, &e))
			abort();
	}
	return 0;
}
