/*
 * wwwauth.c - parsing a WWW-Authenticate challenge and a token service's
 * answer (see wwwauth.h).
 */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "wwwauth.h"

#define TCHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		"0123456789!#$%&'*+-.^_`|~"

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* A token or a quoted-string at *pp into out (NUL-terminated); -1 if it
 * is neither, or does not fit. */
static int
param_value(const char **pp, char *out, size_t outlen)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p != '"') {
		size_t t = strspn(p, TCHARS "/:=");
		if (t == 0 || t >= outlen)
			return -1;
		memcpy(out, p, t);
		out[t] = '\0';
		*pp = p + t;
		return 0;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (*p == '\0' || (unsigned char)*p < 0x20 || *p == 0x7f ||
		    n + 1 >= outlen)
			return -1;
		out[n++] = *p;
	}
	out[n] = '\0';
	*pp = p + 1;
	return 0;
}

/* Where a known parameter goes, with a bit for "seen"; NULL: skip it. */
static char *
param_slot(struct wwwauth *w, const char *name, size_t n, size_t *len,
    unsigned *bit)
{
	static const char *const names[] = { "realm", "service", "scope" };
	char *slots[] = { w->realm, w->service, w->scope };
	size_t lens[] = { sizeof(w->realm), sizeof(w->service),
	    sizeof(w->scope) };

	for (unsigned i = 0; i < 3; i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) ==
		    0) {
			*len = lens[i];
			*bit = 1u << i;
			return slots[i];
		}
	return NULL;
}

/* The auth-params after the scheme, comma-separated name=value. */
static int
parse_params(const char *p, struct wwwauth *w)
{
	char skip[WWWAUTH_REALM_MAX], *slot;
	unsigned seen = 0, bit = 0;
	size_t n, len = 0;

	for (p = skip_ows(p); *p; p = skip_ows(p)) {
		if ((n = strspn(p, TCHARS)) == 0)
			return -1;
		slot = param_slot(w, p, n, &len, &bit);
		p = skip_ows(p + n);
		if (*p++ != '=')
			return -1;
		p = skip_ows(p);
		if ((slot && (seen & bit)) || param_value(&p, slot ? slot :
		    skip, slot ? len : sizeof(skip)) == -1)
			return -1;
		if (slot)
			seen |= bit;
		p = skip_ows(p);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -1;
	}
	return 0;
}

int
wwwauth_parse(const char *value, struct wwwauth *w)
{
	const char *p = skip_ows(value);
	size_t n = strspn(p, TCHARS);

	memset(w, 0, sizeof(*w));
	if (n == 0 || (p[n] != '\0' && p[n] != ' '))
		return -1;
	if (n == 6 && strncasecmp(p, "Bearer", 6) == 0)
		w->scheme = WA_BEARER;
	else if (n == 5 && strncasecmp(p, "Basic", 5) == 0)
		w->scheme = WA_BASIC;
	if (parse_params(p + n, w) == -1)
		return -1;
	if (w->scheme == WA_BEARER && w->realm[0] == '\0')
		return -1;
	return 0;
}

int
wwwauth_token_parse(const char *body, size_t len, char *tok, size_t toklen,
    uint64_t *ttl)
{
	json_t *root, *t, *e;
	const char *s;
	size_t n;
	int r = -1;

	if (len > WWWAUTH_BODY_MAX || (root = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if ((t = json_object_get(root, "token")) == NULL ||
	    (json_is_string(t) && json_string_length(t) == 0))
		t = json_object_get(root, "access_token");
	e = json_object_get(root, "expires_in");
	*ttl = 60;
	if (e != NULL && json_is_integer(e) && json_integer_value(e) > 0)
		*ttl = json_integer_value(e) > 86400 ? 86400 :
		    (uint64_t)json_integer_value(e);
	if (json_is_string(t) && (e == NULL || json_is_integer(e))) {
		s = json_string_value(t);
		n = json_string_length(t);
		if (n > 0 && n < toklen && n < WWWAUTH_TOKEN_MAX &&
		    strspn(s, TCHARS "/=()<>@,;:\\\"[]?{}") == n) {
			memcpy(tok, s, n + 1);
			r = 0;
		}
	}
	json_decref(root);
	return r;
}
