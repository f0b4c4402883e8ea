/* digest.h - content digests ("sha256:<hex>"): parsing, formatting, hashing. */
#ifndef RM_DIGEST_H
#define RM_DIGEST_H

#include <stddef.h>

enum digest_alg { DIGEST_SHA256 = 0, DIGEST_SHA512 = 1 };

#define DIGEST_STRMAX	140	/* "sha512:" + 128 hex + NUL, rounded */
#define DIGEST_INPUTMAX	1024	/* longest string digest_parse looks at */

struct digest {
	enum digest_alg	 alg;
	char		 hex[129];	/* lowercase, NUL-terminated */
};

/* 0 ok; -1 not a digest; -2 well-formed (OCI grammar) but unsupported. */
int	 digest_parse(const char *s, struct digest *d);
/* The digest of alg whose encoded part is hex (a store's directory name):
 * 0 if hex is exactly digest_hexlen(alg) lowercase hex digits, else -1. */
int	 digest_from_hex(enum digest_alg, const char *hex, struct digest *d);
const char *digest_algname(enum digest_alg);
size_t	 digest_hexlen(enum digest_alg);
/* 0 ok; -1 if "alg:hex" and its NUL do not fit in outlen. */
int	 digest_format(const struct digest *, char *out, size_t outlen);
int	 digest_equal(const struct digest *, const struct digest *);
/* The raw bytes of a parsed digest (its hex is lowercase) into raw, which
 * holds digest_hexlen / 2 bytes. */
void	 digest_raw(const struct digest *, unsigned char *raw);

/* Incremental hashing; allocation or library failure is fatal. */
struct hasher;
struct hasher *hasher_new(enum digest_alg);
struct hasher *hasher_dup(const struct hasher *);
void	 hasher_update(struct hasher *, const void *, size_t);
void	 hasher_peek(const struct hasher *, struct digest *out);
void	 hasher_final(struct hasher *, struct digest *out);
void	 hasher_free(struct hasher *);
void	 digest_buf(enum digest_alg, const void *, size_t, struct digest *out);
void	 hash_preload(void);

#endif
