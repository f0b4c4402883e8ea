/* pss.h - is a raw RSA input an EMSA-PSS encoding (pss.c)? */
#ifndef RM_AUTHD_PSS_H
#define RM_AUTHD_PSS_H

#include <stddef.h>

#define PSS_IN_MAX	1024		/* RSA 8192 */

/* in: len bytes, the input of a raw private operation with a modulus of
 * modbits bits.  Its hash name (a static string) if it is an EMSA-PSS
 * encoding for SHA-256, -384 or -512 with a salt of the hash's size,
 * else NULL. */
const char *pss_encoded(const unsigned char *in, size_t len, int modbits);

#endif
