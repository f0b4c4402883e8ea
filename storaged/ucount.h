/*
 * ucount.h - counts of open upload sessions keyed by a string (a client
 * address, a repository name), for the upload quotas of upload.c.
 */
#ifndef SD_UCOUNT_H
#define SD_UCOUNT_H

#include <stddef.h>

struct ucount {
	struct ucount	*next;		/* in its bucket */
	unsigned	 n;		/* sessions counted */
	int		 scanned;	/* a repository whose disk was counted */
	char		 key[];
};

struct ucount_tab {
	struct ucount	**b;
	size_t		 nb, count;
};

/* The entry for key; created (n = 0) if absent and create is set. */
struct ucount	*ucount_get(struct ucount_tab *, const char *key, int create);
/* One session fewer; the entry goes when it counts none. */
void		 ucount_dec(struct ucount_tab *, struct ucount *);
void		 ucount_clear(struct ucount_tab *);

#endif
