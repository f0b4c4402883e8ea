/* b64.h - base64 (RFC 4648 section 4, Basic auth) and base64url without
 * padding (section 5, JWT). */
#ifndef RM_B64_H
#define RM_B64_H

#include <stddef.h>

/* Bytes b64_encode writes for n input bytes, NUL included. */
#define B64_ENCODED_LEN(n)	((((n) + 2) / 3) * 4 + 1)

/* Encode n bytes into out (outlen >= B64_ENCODED_LEN(n)); the length
 * written without the NUL, or -1 if out is too small. */
long	 b64_encode(const void *in, size_t n, char *out, size_t outlen, int url);
/* Decode; strict (no whitespace, padding only where due for !url, none
 * for url); the bytes written, or -1 on bad input or too small out. */
long	 b64_decode(const char *in, size_t n, void *out, size_t outlen, int url);

#endif
