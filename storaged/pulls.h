/*
 * pulls.h - when each manifest of a cached repository (lib/cache_held.h)
 * was last pulled.  A GET only stores a time in a table in memory; every
 * cache.pull_interval, when gcd asks (before it reads the store) and at
 * stop, the times are written as the modification time of the revision
 * links, on a thread, never moving one back.  Distribution ignores those
 * times; gcd reads them (its scan stats every link already) and evicts
 * the least recently pulled; storaged refuses to delete a revision whose
 * link, or last pull, is younger than gc.grace.
 */
#ifndef SD_PULLS_H
#define SD_PULLS_H

#include <stddef.h>
#include <time.h>

#include "digest.h"

/* One revision link's new time, as a batch holds it. */
struct pitem {
	char		*path;		/* relative to the store's root */
	time_t		 t;
};

struct pbatch {
	struct pitem	*v;
	size_t		 n;
	size_t		 failed;	/* errors other than ENOENT */
	int		 err;		/* the first one's errno */
	void		(*done)(void *);
	void		*arg;
};

void	 pulls_configure(void);	/* cache.upstreams, the timer */
/* A GET of repo's manifest d at time now. */
void	 pulls_note(const char *repo, const struct digest *, time_t now);
/* The last pull of repo's d noted and not written yet, or 0. */
time_t	 pulls_pending(const char *repo, const struct digest *);
size_t	 pulls_count(void);		/* noted since the last write */
/* Write what is noted; done(arg) in the loop once it is on disk (and
 * every write asked for before it). */
void	 pulls_flush(void (*done)(void *), void *arg);
/* What the flush runs: set each link's mtime to t if older (0 or -1). */
void	 pulls_apply(int rootfd, struct pbatch *);
/* The noted times as a batch (the table is emptied). */
struct pbatch *pulls_take(void);
void	 pulls_batch_free(struct pbatch *);

#endif
