/*
 * gcd.h - what gcd's files share: the store as a run read it (scan.c, on
 * a thread), the plan made of it (plan.c: retention, untagged manifests,
 * the mark, usage) and the run that asks storaged to sweep (run.c).
 */
#ifndef GCD_GCD_H
#define GCD_GCD_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "link.h"

struct buf;
struct retention_rule;

/* One revision of a repository: its links and what its manifest names. */
struct gman {
	struct digest	 d;
	int64_t		 mtime;		/* the revision link's */
	struct digest	*refs;		/* config, layers, children */
	size_t		 nrefs;
	int		 is_index;
	int		 has_subject;
	struct digest	 subject;
	int		 ntags;		/* tags naming it the plan keeps */
	int		 keep;		/* a kept tag reaches it */
	int		 drop;		/* lost its last tag to retention */
	int		 del;		/* the plan deletes it */
	int		 gone;		/* storaged deleted it */
	int		 evict;		/* cache.max_size deletes it */
};

struct gtag {
	char		*name;
	struct digest	 d;
	int64_t		 mtime;		/* push time: the current link's */
	int		 del;
};

struct glayer {
	struct digest	 d;
	int64_t		 mtime;
	int		 left;		/* a sweep's leftover, to free */
};

struct grepo {
	char		*name;
	struct gman	*revs;		/* sorted by digest */
	size_t		 nrevs;
	struct gtag	*tags;
	size_t		 ntags;
	struct glayer	*layers;
	size_t		 nlayers;
	uint64_t	 bytes;		/* blobs its manifests use */
	uint64_t	 alone;		/* of those, used by no other repo */
	int		 cached;	/* a cache's copies (cache_held) */
};

struct gblob {
	struct digest	 d;
	uint64_t	 size;
	int64_t		 mtime;
	int		 del;		/* unmarked and old: to sweep */
	int		 gone;		/* storaged swept it */
};

struct gscan {
	struct grepo	*repos;
	size_t		 nrepos;
	struct gblob	*blobs;
	size_t		 nblobs;
	char		 err[512];	/* set: the run stops, nothing swept */
};

/* scan.c: read the store under the working directory (its root). */
void	 scan_store(struct gscan *);
void	 scan_free(struct gscan *);

/* plan.c */
struct gplan_conf {
	const struct retention_rule *rules;
	size_t		 nrules;
	int		 untagged;	/* gc.untagged */
	int64_t		 grace;		/* gc.grace, seconds */
	int64_t		 now;
	uint64_t	 max_size;	/* cache.max_size; 0: no limit */
};
void	 plan_manifests(struct gscan *, const struct gplan_conf *);
/* Does the plan delete a tag or a manifest (then the marks wait for it)? */
int	 plan_deletes(const struct gscan *);
/* After the manifest deletes: mark, pick the blobs to sweep, usage. */
void	 plan_blobs(struct gscan *, const struct gplan_conf *);
struct gman *plan_rev(const struct grepo *, const struct digest *);
/* In a cached repository a revision link's mtime is its last pull (or
 * push, whichever is later: storaged/pulls.h). */
int64_t	 plan_last_pull(const struct grepo *, const struct gtag *);

/* evict.c: after plan_manifests, while the bytes cached repositories
 * hold (blobs their kept manifests use that no local repository's use,
 * each counted once) exceed max_size, the least recently pulled image
 * of a cached repository (a manifest no other one there names, with its
 * children and referrers) goes: its tags and manifests are marked del
 * (and evict).  Nothing younger than grace goes. */
struct gevict {
	uint64_t	 before, after;	/* the cache's bytes */
	uint64_t	 images;	/* evicted */
	int		 short_;	/* still over: the rest is too young */
};
void	 plan_evict(struct gscan *, const struct gplan_conf *,
	    struct gevict *);

/* run.c */
struct gsummary {
	int		 dry_run;
	uint64_t	 tags, manifests, blobs, bytes, links, uploads;
	uint64_t	 refused;	/* storaged: in use */
	uint64_t	 failed;	/* storaged: could not */
	uint64_t	 store_bytes;	/* what the blobs left take */
	struct gevict	 ev;		/* cache.max_size's plan */
	double		 seconds;
	char		 err[512];
};
typedef void (*run_done_cb)(const struct gsummary *, void *arg);
/* 0 started, -1 one is running already. */
int	 run_start(int dry_run, run_done_cb, void *arg);
int	 run_busy(void);
void	 run_storaged(struct link *);	/* the link to storaged, or NULL */
void	 run_summary_text(const struct gsummary *, struct buf *);
/* The usage the last completed run saw (lines for `regmaster status`,
 * samples for the metrics). */
void	 run_usage_text(struct buf *);
void	 run_usage_metrics(struct buf *);

#endif
