/*
 * keyhash.h - HMAC-SHA256 under a key made at start and never stored: how
 * authd and httpd name credentials in their caches and counters without
 * keeping them, and without letting a client choose where an entry lands.
 */
#ifndef RM_KEYHASH_H
#define RM_KEYHASH_H

#include <stddef.h>

#define KEYHASH_LEN	32

/* The key and the HMAC context; made by the first keyhash() if not before
 * (the random source is a system call the sandboxes allow). */
void	 keyhash_init(void);
/* HMAC over n strings (NULL counts as ""), each with its NUL so that
 * ("ab", "c") and ("a", "bc") differ. */
void	 keyhash(unsigned char out[KEYHASH_LEN], size_t n,
	    const char *const *fields);

#endif
