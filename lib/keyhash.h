/*
 * keyhash.h - HMAC-SHA256 under a key made at start and never stored: how
 * authd, httpd and tunneld name credentials in their caches and counters
 * without keeping them, and without letting a client choose where an entry
 * lands.
 */
#ifndef RM_KEYHASH_H
#define RM_KEYHASH_H

#include <stddef.h>
#include <stdint.h>

#define KEYHASH_LEN	32

/* A remembered keyed hash (a credential that checked out) and until when. */
struct keyhash_slot {
	unsigned char	 mac[KEYHASH_LEN];
	uint64_t	 expires;	/* monotonic ms; 0: free */
};

/* The key and the HMAC context; made by the first keyhash() if not before
 * (the random source is a system call the sandboxes allow). */
void	 keyhash_init(void);
/* HMAC over n strings (NULL counts as ""), each with its NUL so that
 * ("ab", "c") and ("a", "bc") differ. */
void	 keyhash(unsigned char out[KEYHASH_LEN], size_t n,
	    const char *const *fields);
/* In the n slots of set: the ms hash h is remembered for past now (0:
 * not, or expired), compared in constant time; remember h until expires,
 * in its own slot or the one nearest expiry. */
uint64_t keyhash_slot_find(const struct keyhash_slot *set, size_t n,
	    const unsigned char h[KEYHASH_LEN], uint64_t now);
void	 keyhash_slot_put(struct keyhash_slot *set, size_t n,
	    const unsigned char h[KEYHASH_LEN], uint64_t expires);

#endif
