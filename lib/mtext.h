/*
 * mtext.h - the Prometheus text exposition format (version 0.0.4): what a
 * worker writes of its own counters when master gathers them for a scrape,
 * and the strict reader master runs over each worker's part before it is
 * served, so that one worker can neither break the whole page nor pass off
 * another's figures as its own.
 *
 * Counting itself stays in each process (plain integers, no locks on the
 * hot path); only a scrape renders text.
 */
#ifndef RM_MTEXT_H
#define RM_MTEXT_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* MT_SUMMARY: the writer has no quantiles; a family's name_count and
 * name_sum are written with mtext_count and mtext_sample. */
enum mtext_type { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM, MT_UNTYPED,
	MT_SUMMARY };

#define MTEXT_LABELS_MAX	8	/* labels of one sample, le included */
#define MTEXT_BUCKETS_MAX	16	/* finite bucket bounds of a histogram */
#define MTEXT_LINE_MAX		4096	/* one line the reader accepts */

struct mlabel {
	const char	*name;		/* [a-zA-Z_][a-zA-Z0-9_]* */
	const char	*value;		/* any text; escaped on output */
};

/* A histogram's state: per-bucket counts (not cumulative; the last is
 * +Inf), their sum and the sum of the observed values. */
struct mhist {
	uint64_t	 bucket[MTEXT_BUCKETS_MAX + 1];
	double		 sum;
};

struct mhist_bounds {
	const double	*le;		/* ascending, finite */
	size_t		 n;		/* <= MTEXT_BUCKETS_MAX */
};

/* Count one observation of v. */
void	 mhist_observe(struct mhist *, const struct mhist_bounds *, double v);

/*
 * The writers.  Metric and label names come from the program, so a bad
 * one is a programming error (fatal); label values may come from anywhere
 * (a repository name, a tunnel client's name) and are escaped.
 */
void	 mtext_family(struct buf *, const char *name, enum mtext_type,
	    const char *help);
void	 mtext_sample(struct buf *, const char *name,
	    const struct mlabel *, size_t nlabels, double value);
void	 mtext_count(struct buf *, const char *name,
	    const struct mlabel *, size_t nlabels, uint64_t value);
/* A family of one unlabelled sample: its HELP, TYPE and value. */
void	 mtext_single(struct buf *, const char *name, enum mtext_type,
	    const char *help, uint64_t value);
void	 mtext_histogram(struct buf *, const char *name,
	    const struct mlabel *, size_t nlabels, const struct mhist_bounds *,
	    const struct mhist *);

int	 mtext_name_ok(const char *name, int label);

/*
 * Read text of len bytes strictly: every line a comment, a HELP or TYPE
 * line of a valid name (TYPE at most once a family, before its samples),
 * or a sample (name, labels with their escapes, a value, an optional
 * timestamp); when prefixes is not NULL (a NULL-ended list), every name
 * begins with one of them.  Returns the number of samples, or -1 with the
 * line and why in err.
 */
long	 mtext_check(const char *text, size_t len,
	    const char *const *prefixes, char *err, size_t errlen);

#endif
