/*
 * htpasswd.h - Apache htpasswd files of bcrypt entries ("name:$2y$..."),
 * as `htpasswd -B` writes them: parsing, verifying with libcrypt, and the
 * safe rewrite `regmaster user` does (lock, temporary file, fsync, rename).
 */
#ifndef RM_HTPASSWD_H
#define RM_HTPASSWD_H

#include <stddef.h>

#define HTPASSWD_NAME_MAX	255	/* longest user name */
#define HTPASSWD_HASH_MAX	128	/* longest hash field */
#define HTPASSWD_MAX_USERS	100000
#define HTPASSWD_MAX_FILE	(16 * 1024 * 1024)

struct htpasswd_entry {
	char	*name;
	char	*hash;
};

struct htpasswd {
	struct htpasswd_entry *e;	/* in file order */
	size_t	 n;
};

/* A valid user name: 1-255 bytes, no ':', no control characters, no
 * leading '#' (a comment line to Apache and to htpasswd_parse). */
int	 htpasswd_name_valid(const char *);
/* Parse a file's bytes.  Lines that are not "name:bcrypt" are skipped and
 * counted in *skipped (with the first one's line number in *first_bad);
 * -1 with err only for what makes the whole file unusable. */
int	 htpasswd_parse(const char *data, size_t len, struct htpasswd *out,
	    size_t *skipped, size_t *first_bad, char *err, size_t errlen);
void	 htpasswd_clear(struct htpasswd *);
const struct htpasswd_entry *htpasswd_find(const struct htpasswd *,
	    const char *name);
/* 1 if password matches the bcrypt hash (crypt_rn, constant-time compare),
 * 0 if not, -1 if the hash is not one libcrypt takes. */
int	 htpasswd_check(const char *hash, const char *password);
/* A bcrypt hash of nothing anyone knows, at the cost of the hash like
 * (10 when like is not "$2?$NN$..."), into out: checking a password of a
 * user who does not exist against it costs what a real check does. */
#define HTPASSWD_DUMMY_LEN	61
void	 htpasswd_dummy(const char *like, char out[HTPASSWD_DUMMY_LEN]);
/* A new "$2y$" hash of password at cost (4-31) into out (>= 64 bytes). */
int	 htpasswd_hash(const char *password, int cost, char *out, size_t len);
/* Render h as file text (malloc'd, *len set). */
char	*htpasswd_format(const struct htpasswd *, size_t *len);

#endif
