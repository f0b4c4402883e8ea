/*
 * wwwauth.h - the client side of registry authentication, as docker does
 * it: a WWW-Authenticate challenge (RFC 9110 11.6.1; Basic, or Bearer with
 * the realm, service and scope of the Docker token protocol) and the token
 * service's JSON answer.  httpd's upstream client uses them; both parse
 * what a remote server sends, so both refuse rather than guess.
 */
#ifndef RM_WWWAUTH_H
#define RM_WWWAUTH_H

#include <stddef.h>
#include <stdint.h>

#define WWWAUTH_REALM_MAX	1024
#define WWWAUTH_PARAM_MAX	512
#define WWWAUTH_TOKEN_MAX	8192	/* a JWT with its claims */
#define WWWAUTH_BODY_MAX	(64 * 1024)	/* a token answer */

enum wwwauth_scheme { WA_OTHER, WA_BASIC, WA_BEARER };

struct wwwauth {
	enum wwwauth_scheme scheme;
	char	 realm[WWWAUTH_REALM_MAX];
	char	 service[WWWAUTH_PARAM_MAX];
	char	 scope[WWWAUTH_PARAM_MAX];
};

/* One challenge: "Bearer realm="...",service="...",scope="..."".  0, or -1
 * malformed (bad token or quoting, a value too long, a Bearer without a
 * realm, a parameter twice); unknown parameters are skipped. */
int	 wwwauth_parse(const char *value, struct wwwauth *out);

/* A token answer {"token" or "access_token", "expires_in"}: the token
 * (visible ASCII, at most WWWAUTH_TOKEN_MAX - 1 bytes) into tok and its
 * lifetime in seconds (default 60, at most a day) into *ttl; -1 when the
 * body is not that. */
int	 wwwauth_token_parse(const char *body, size_t len, char *tok,
	    size_t toklen, uint64_t *ttl);

#endif
