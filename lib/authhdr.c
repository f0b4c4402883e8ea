/*
 * authhdr.c - the Authorization header: scheme, then strict base64 (Basic)
 * or a token68 (Bearer).  Every bound is checked before anything is copied.
 */
#include <string.h>
#include <strings.h>

#include "authhdr.h"
#include "b64.h"
#include "jwt.h"

/* Decoded "user:password" at most: both bounds and the colon. */
#define BASIC_RAW_MAX	(AUTHHDR_USER_MAX + 1 + AUTHHDR_PASS_MAX)

static enum authhdr_kind
malformed(struct authhdr *a)
{
	authhdr_clear(a);
	a->kind = AH_MALFORMED;
	return AH_MALFORMED;
}

/* The credentials after "scheme" and its spaces, or NULL if s is not it. */
static const char *
scheme_rest(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);

	if (strncasecmp(s, scheme, n) != 0 || s[n] != ' ')
		return NULL;
	for (s += n; *s == ' '; s++)
		;
	return s;
}

/* A user name: 1..AUTHHDR_USER_MAX bytes, no ':' and no control bytes. */
static int
user_ok(const char *p, size_t n)
{
	if (n == 0 || n > AUTHHDR_USER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

static enum authhdr_kind
parse_basic(const char *s, struct authhdr *a)
{
	unsigned char raw[BASIC_RAW_MAX];
	size_t len = strlen(s), ulen, plen;
	const unsigned char *colon;
	long n;

	if (len == 0 || len > B64_ENCODED_LEN(BASIC_RAW_MAX) - 1 ||
	    (n = b64_decode(s, len, raw, sizeof(raw), 0)) < 0)
		return malformed(a);
	if ((colon = memchr(raw, ':', (size_t)n)) == NULL) {
		explicit_bzero(raw, sizeof(raw));
		return malformed(a);
	}
	ulen = (size_t)(colon - raw);
	plen = (size_t)n - ulen - 1;
	if (!user_ok((const char *)raw, ulen) || plen > AUTHHDR_PASS_MAX ||
	    memchr(colon + 1, '\0', plen) != NULL) {
		explicit_bzero(raw, sizeof(raw));
		return malformed(a);
	}
	memcpy(a->user, raw, ulen);
	a->user[ulen] = '\0';
	memcpy(a->pass, colon + 1, plen);
	a->pass[plen] = '\0';
	explicit_bzero(raw, sizeof(raw));
	a->kind = AH_BASIC;
	return AH_BASIC;
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static enum authhdr_kind
parse_bearer(const char *s, struct authhdr *a)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");

	if (n == 0)
		return malformed(a);
	n += strspn(s + n, "=");
	if (s[n] != '\0' || n > JWT_MAX)
		return malformed(a);
	a->token = s;
	a->token_len = n;
	a->kind = AH_BEARER;
	return AH_BEARER;
}

enum authhdr_kind
authhdr_parse(const char *value, struct authhdr *a)
{
	const char *rest;

	a->kind = AH_NONE;
	a->user[0] = a->pass[0] = '\0';
	a->token = NULL;
	a->token_len = 0;
	if (value == NULL)
		return AH_NONE;
	if ((rest = scheme_rest(value, "Basic")) != NULL)
		return parse_basic(rest, a);
	if ((rest = scheme_rest(value, "Bearer")) != NULL)
		return parse_bearer(rest, a);
	return malformed(a);
}

void
authhdr_clear(struct authhdr *a)
{
	explicit_bzero(a->pass, sizeof(a->pass));
	a->user[0] = '\0';
	a->token = NULL;
	a->token_len = 0;
	a->kind = AH_NONE;
}
