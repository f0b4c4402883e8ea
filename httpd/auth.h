/*
 * auth.h - httpd's side of users and access: the gate in front of the API
 * routes (auth.c), the decisions it remembers (auth_cache.c), Docker's
 * /token endpoint (token.c) and the audit records of requests (audit.c).
 */
#ifndef RM_HTTPD_AUTH_H
#define RM_HTTPD_AUTH_H

#include <stdint.h>

#include "authhdr.h"
#include "msg.h"
#include "oci.h"

struct conn;

/* auth_cache.c: decisions keyed by an HMAC over the credentials */
struct auth_key {
	unsigned char	 b[32];
};

/* What the gate learnt about the request, kept in its api_req. */
struct auth_req {
	unsigned	 need;		/* ACL_* bits the route needs */
	int		 base;		/* GET /v2/: any right will do */
	int		 authed;	/* credentials were accepted */
	int		 bearer;	/* they were a token */
	char		 kind;		/* cache_key's kind of the check */
	int		 mount_ok;	/* may pull from ?from= (mounts) */
	int		 oauth;		/* token.c: answer OAuth2's way */
	unsigned	 gen;		/* cache generation when authd was asked */
	unsigned	 asked;		/* the ACL_* bits authd was asked */
	struct auth_key	 key;		/* of the check authd answers */
	const char	*repo;		/* what is being checked (NULL: none) */
	char		 from[OCI_NAME_MAX + 1];
	char		 user[AUTHHDR_USER_MAX + 1];	/* "": anonymous */
	void		(*next)(struct conn *, int code, unsigned grant,
			    uint64_t wait);
};

/* auth.c */
void	 auth_configure(void);		/* conf (re)loaded */
int	 auth_on(void);			/* auth.htpasswd is set */
int	 auth_token_on(void);		/* auth.token too */
void	 auth_gate(struct conn *);	/* allow (api_route) or answer */
void	 auth_token_key(struct msg *);	/* M_TOKEN_KEY from authd */
void	 auth_flush(void);		/* M_AUTH_FLUSH, or authd replaced */
void	 auth_basic_challenge(struct conn *);

/* auth_cache.c */
void	 cache_key(struct auth_key *, char kind, const char *a, const char *b,
	    const char *repo);
int	 cache_get(const struct auth_key *, uint64_t now, unsigned *grant,
	    unsigned *asked, const char **user, int claim_ok, int *renew);
void	 cache_put(const struct auth_key *, uint64_t expires, unsigned asked,
	    unsigned grant, const char *user);
void	 cache_unclaim(const struct auth_key *, int drop);
void	 cache_flush(void);
unsigned cache_generation(void);

/* token.c: GET and POST /token */
void	 token_request(struct conn *);

/* audit.c */
void	 audit_configure(void);
void	 audit_note(struct conn *, const char *action, int status,
	    const char *digest, uint64_t bytes);
void	 audit_authd_up(void);		/* a fresh link: send what waited */

#endif
