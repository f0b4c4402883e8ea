/*
 * jwt.h - the JSON Web Tokens of Docker token auth: ES256 (P-256, SHA-256)
 * compact serialization, issued by authd with its private key and verified
 * by httpd with the public key alone.
 */
#ifndef RM_JWT_H
#define RM_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define JWT_MAX		8192		/* longest token accepted */
#define JWT_ACCESS_MAX	32		/* most repository entries in one */
#define JWT_NAME_MAX	256

struct jwt_access {
	char		 type[16];	/* "repository" or "registry" */
	char		 name[JWT_NAME_MAX];
	unsigned	 actions;	/* ACL_* bits */
};

struct jwt_claims {
	char		 iss[JWT_NAME_MAX], sub[JWT_NAME_MAX], aud[JWT_NAME_MAX];
	char		 jti[64];
	int64_t		 iat, nbf, exp;
	size_t		 naccess;
	struct jwt_access access[JWT_ACCESS_MAX];
};

/* The key id Docker's libtrust derives from a public key (12 groups of 4
 * base32 characters); out holds 64 bytes. */
int	 jwt_kid(EVP_PKEY *, char *out, size_t len);
/* Sign claims with an EC P-256 key; a malloc'd token or NULL. */
char	*jwt_sign(EVP_PKEY *, const char *kid, const struct jwt_claims *);
/*
 * Verify token (len bytes) with the public key: header alg ES256 and kid,
 * signature, then iss/aud equal to the given ones and nbf <= now < exp
 * (60 s leeway on nbf).  0 with *out filled, else -1 with a reason in err.
 */
int	 jwt_verify(EVP_PKEY *, const char *kid, const char *token, size_t len,
	    const char *iss, const char *aud, int64_t now,
	    struct jwt_claims *out, char *err, size_t errlen);

#endif
