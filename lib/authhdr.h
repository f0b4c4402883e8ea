/*
 * authhdr.h - the Authorization request header as registries see it:
 * "Basic <base64 of user:password>" or "Bearer <token>", the scheme in any
 * case.  Anything else, or credentials over the bounds, is malformed, which
 * httpd answers like wrong credentials (401), as registries do.
 */
#ifndef RM_AUTHHDR_H
#define RM_AUTHHDR_H

#include <stddef.h>

#define AUTHHDR_USER_MAX	255	/* bytes of a user name */
#define AUTHHDR_PASS_MAX	1024	/* bytes of a password */

enum authhdr_kind { AH_NONE, AH_BASIC, AH_BEARER, AH_MALFORMED };

struct authhdr {
	enum authhdr_kind kind;
	char		 user[AUTHHDR_USER_MAX + 1];	/* AH_BASIC */
	char		 pass[AUTHHDR_PASS_MAX + 1];	/* AH_BASIC */
	const char	*token;		/* AH_BEARER: points into the value */
	size_t		 token_len;
};

/*
 * Parse value (NULL: no header, AH_NONE) into a.  A Basic user is
 * non-empty, without ':' or control bytes; a password holds no NUL; a
 * token is base64url-ish text (token68) of at most JWT_MAX bytes.
 */
enum authhdr_kind authhdr_parse(const char *value, struct authhdr *a);
/* Wipe the password (call when done with a). */
void	 authhdr_clear(struct authhdr *a);

#endif
