/*
 * retention.h - the retention policies (the `retention` key): parsed from
 * their canonical text (conf_rules.c's shape), checked by master when the
 * configuration loads, and applied by gcd: which tags of a repository a
 * policy deletes.
 */
#ifndef RM_RETENTION_H
#define RM_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#define RETENTION_PATTERN_MAX	256

struct retention_rule {
	char		*repo;		/* fnmatch(3) pattern of names */
	uint64_t	 keep_last;	/* 0: no count limit */
	char		*keep;		/* "v*,latest"; "" none */
	uint64_t	 max_age;	/* seconds; 0: no age limit */
	uint64_t	 untagged_max_age;	/* seconds; 0: untagged kept */
};

/* One tag as the plan sees it; del is the answer. */
struct rtag {
	const char	*name;
	int64_t		 pushed;	/* the tag link's mtime */
	int		 del;
};

/* Parse canonical text: 0 with *out (n rules), or -1 with err. */
int	 retention_parse(const char *text, struct retention_rule **out,
	    size_t *n, char *err, size_t errlen);
void	 retention_free(struct retention_rule *, size_t);
int	 retention_check(const char *text, char *err, size_t errlen);
/* The first rule whose repo pattern matches name, or NULL. */
const struct retention_rule *retention_match(const struct retention_rule *,
	    size_t n, const char *name);
/* 1 if a keep pattern of r matches tag. */
int	 retention_keeps(const struct retention_rule *r, const char *tag);
/* Mark the tags r deletes at time now: not kept by name, and either past
 * the keep_last newest of the others or older than max_age.  Sorts tags
 * newest first (ties by name). */
void	 retention_plan(const struct retention_rule *r, struct rtag *tags,
	    size_t n, int64_t now);

#endif
