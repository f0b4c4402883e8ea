/* cache_int.h - what cache.c and cache_blob.c share. */
#ifndef RM_HTTPD_CACHE_INT_H
#define RM_HTTPD_CACHE_INT_H

#include <stdint.h>

#include "api.h"
#include "buf.h"
#include "cache.h"
#include "upstream.h"

struct fetch;

/* One client request for a cached name. */
struct creq {
	struct conn	*c;
	size_t		 upi;
	char		 remote[CACHE_NAME_MAX];	/* the upstream's name */
	char		 store[CACHE_NAME_MAX];		/* our repository */
	int		 mirror_first;	/* try the host's own name first */
	struct upreq	*up;
	struct buf	 body;		/* a manifest from the upstream */
	char		 known[DIGEST_STRMAX];	/* the stored tag's digest */
	int		 up_status;		/* of the upstream's answer */
	char		 up_digest[DIGEST_STRMAX];	/* its digest header */
	char		 ctype[OCI_MEDIATYPE_MAX + 1];
	/* blobs: the fetch it follows, bytes sent, its place in the list */
	struct fetch	*f;
	uint64_t	 sent;
	int		 waiting;	/* for the fetch's commit */
	struct creq	*next;
};

struct cache_counters {
	uint64_t	 fetches, bytes, mismatches, stale, errors, refused;
};
extern struct cache_counters cache_stats;

/* cache.c */
void	 cache_upstream_error(struct conn *, const char *why, int status);
void	 cache_ask_store(struct conn *, int type, const char *repo,
	    link_reply_cb);
/* cache_blob.c */
void	 cache_blob(struct conn *);
void	 cache_blob_left(struct creq *);

#endif
