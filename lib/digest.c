/*
 * digest.c - content digests as the OCI distribution and image specs define
 * them ("algorithm:encoded"): parsing, formatting, comparing.  Hashing is in
 * hash.c, so a process that only reads digests (httpd) needs no libcrypto.
 * Only sha256 and sha512 are supported; other well-formed digests are told
 * apart from garbage so the API can answer UNSUPPORTED, not DIGEST_INVALID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "log.h"
#include "util.h"

static const struct {
	const char	*name;
	size_t		 hexlen;
} algs[] = {
	[DIGEST_SHA256] = { "sha256", 64 },
	[DIGEST_SHA512] = { "sha512", 128 },
};

/* Abort on an algorithm value no caller should ever pass. */
static void
alg_check(enum digest_alg alg)
{
	if ((unsigned)alg >= nitems(algs))
		fatalx("bad digest algorithm %d", (int)alg);
}

/* The algorithm's name as digests spell it: "sha256". */
const char *
digest_algname(enum digest_alg alg)
{
	alg_check(alg);
	return algs[alg].name;
}

/* Number of hex characters in an encoded digest of alg. */
size_t
digest_hexlen(enum digest_alg alg)
{
	alg_check(alg);
	return algs[alg].hexlen;
}

/* 1 if c may appear in an algorithm component: [a-z0-9]. */
static int
is_algchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* 1 if c separates algorithm components: [+._-]. */
static int
is_algsep(int c)
{
	return c == '+' || c == '.' || c == '_' || c == '-';
}

/* 1 if c may appear in the encoded part: [a-zA-Z0-9=_-]. */
static int
is_encchar(int c)
{
	return is_algchar(c) || (c >= 'A' && c <= 'Z') || c == '=' ||
	    c == '_' || c == '-';
}

/* 1 if c is lowercase hex. */
static int
is_lowerhex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* 1 if s[0..n) is an OCI algorithm: components joined by one of [+._-]. */
static int
alg_syntax_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_algchar((unsigned char)s[0]) ||
	    !is_algchar((unsigned char)s[n - 1]))
		return 0;
	for (i = 1; i < n; i++) {
		if (is_algchar((unsigned char)s[i]))
			continue;
		if (!is_algsep(s[i]) || !is_algchar((unsigned char)s[i - 1]))
			return 0;
	}
	return 1;
}

/* 1 if s[0..n) is a non-empty OCI encoded part. */
static int
enc_syntax_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_encchar((unsigned char)s[i]))
			return 0;
	return 1;
}

int
digest_from_hex(enum digest_alg alg, const char *hex, struct digest *d)
{
	size_t n;

	alg_check(alg);
	n = strnlen(hex, algs[alg].hexlen + 1);
	if (n != algs[alg].hexlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!is_lowerhex((unsigned char)hex[i]))
			return -1;
	d->alg = alg;
	memcpy(d->hex, hex, n + 1);
	return 0;
}

/* Parse "sha256:<64 hex>" or "sha512:<128 hex>" (lowercase) into d. */
int
digest_parse(const char *s, struct digest *d)
{
	const char *colon, *enc;
	size_t n, alen, elen, i;
	unsigned a;

	if ((n = strnlen(s, DIGEST_INPUTMAX + 1)) > DIGEST_INPUTMAX)
		return -1;
	if ((colon = memchr(s, ':', n)) == NULL)
		return -1;
	alen = (size_t)(colon - s);
	enc = colon + 1;
	elen = n - alen - 1;
	if (!alg_syntax_ok(s, alen) || !enc_syntax_ok(enc, elen))
		return -1;
	for (a = 0; a < nitems(algs); a++)
		if (strlen(algs[a].name) == alen &&
		    memcmp(algs[a].name, s, alen) == 0)
			break;
	if (a == nitems(algs))
		return -2;
	if (elen != algs[a].hexlen)
		return -1;
	for (i = 0; i < elen; i++)
		if (!is_lowerhex((unsigned char)enc[i]))
			return -1;
	d->alg = (enum digest_alg)a;
	memcpy(d->hex, enc, elen);
	d->hex[elen] = '\0';
	return 0;
}

/* Write "alg:hex" into out; -1 if it does not fit. */
int
digest_format(const struct digest *d, char *out, size_t outlen)
{
	int n;

	n = snprintf(out, outlen, "%s:%s", digest_algname(d->alg), d->hex);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	return 0;
}

/* 1 if both digests name the same content. */
int
digest_equal(const struct digest *a, const struct digest *b)
{
	return a->alg == b->alg && strcmp(a->hex, b->hex) == 0;
}


void
digest_raw(const struct digest *d, unsigned char *raw)
{
	size_t n = digest_hexlen(d->alg) / 2;

	for (size_t i = 0; i < n; i++) {
		int hi = d->hex[2 * i], lo = d->hex[2 * i + 1];
		hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
}
