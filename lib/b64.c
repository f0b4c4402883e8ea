/*
 * b64.c - base64 (RFC 4648 section 4) for Basic auth credentials and
 * base64url without padding (section 5) for JWT segments.  Decoding is
 * strict: one spelling per byte string (no whitespace, padding exactly
 * where due, unused trailing bits zero), so a token or credential cannot
 * be re-spelled to slip past a cache keyed by its text.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "b64.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encode n bytes; NUL-terminated, padded unless url. */
long
b64_encode(const void *in, size_t n, char *out, size_t outlen, int url)
{
	const unsigned char *p = in;
	const char *a = url ? url_alpha : std_alpha;
	size_t i, o = 0, need;
	uint32_t v;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return -1;
	need = url ? (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0) + 1 :
	    B64_ENCODED_LEN(n);
	if (outlen < need || need - 1 > (size_t)LONG_MAX)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i > 0) {
		v = (uint32_t)p[i] << 16;
		if (n - i == 2)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (n - i == 2)
			out[o++] = a[(v >> 6) & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

/* The 6-bit value of c in the chosen alphabet, or -1. */
static int
b64_value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Length of in[0..n) without its padding, or -1 if the padding is wrong. */
static long
b64_unpadded(const char *in, size_t n, int url)
{
	if (url)
		return n % 4 == 1 ? -1 : (long)n;
	if (n % 4 != 0)
		return -1;
	if (n > 0 && in[n - 1] == '=')
		n--;
	if (n > 0 && in[n - 1] == '=' && n % 4 == 3)
		n--;
	return n % 4 == 1 ? -1 : (long)n;
}

/* Decode strictly; the bytes written or -1. */
long
b64_decode(const char *in, size_t n, void *out, size_t outlen, int url)
{
	unsigned char *q = out;
	size_t i, o = 0, m, need;
	uint32_t v = 0;
	int c, bits = 0;
	long len;

	if (n > (size_t)LONG_MAX || (len = b64_unpadded(in, n, url)) < 0)
		return -1;
	m = (size_t)len;
	need = m / 4 * 3 + (m % 4 ? m % 4 - 1 : 0);
	if (need > outlen)
		return -1;
	for (i = 0; i < m; i++) {
		if ((c = b64_value((unsigned char)in[i], url)) < 0)
			return -1;
		v = v << 6 | (uint32_t)c;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			q[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	if (v != 0)		/* leftover bits must be zero: one spelling */
		return -1;
	return (long)o;
}
