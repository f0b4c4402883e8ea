/*
 * retention.c - retention policies: their fields from the canonical text
 * of the `retention` key (every field present, defaults filled in by
 * conf_rules.c), the patterns, and the plan of which tags go.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "retention.h"
#include "util.h"

#define RETENTION_RULES_MAX	10000
#define DURATION_MAX		(3660ULL * 86400)

/* Characters a repository name pattern may hold: a name's and * ? [ ]. */
static int
repo_pattern_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > RETENTION_PATTERN_MAX)
		return 0;
	return strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._-/*?[]") == n;
}

/* "v*, latest": items of tag characters and * ? [ ], none empty. */
static int
keep_pattern_ok(const char *p)
{
	const char *ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-*?[]";
	size_t n = strlen(p);

	if (n > RETENTION_PATTERN_MAX)
		return 0;
	while (*p) {
		p += strspn(p, " ");
		n = strspn(p, ok);
		if (n == 0)
			return 0;
		p += n;
		p += strspn(p, " ");
		if (*p == ',' && p[1] == '\0')
			return 0;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return 0;
	}
	return 1;
}

/* One line: repo, keep_last, keep, max_age, untagged_max_age. */
static int
rule_parse(char *line, struct retention_rule *r, size_t idx, char *err,
    size_t errlen)
{
	char *f[5];
	int i;

	for (i = 0; i < 5; i++)
		if ((f[i] = strsep(&line, "\t")) == NULL)
			break;
	if (i != 5 || line != NULL)
		return snprintf(err, errlen, "element %zu: wants 5 fields",
		    idx + 1), -1;
	if (!repo_pattern_ok(f[0]))
		return snprintf(err, errlen, "element %zu: repo '%s' is not "
		    "a repository name pattern", idx + 1, f[0]), -1;
	if (!keep_pattern_ok(f[2]))
		return snprintf(err, errlen, "element %zu: keep '%s' is not a "
		    "comma-separated list of tag patterns", idx + 1, f[2]), -1;
	if (parse_u64(f[1], 1000000, &r->keep_last) == -1 ||
	    conf_duration_parse(f[3], DURATION_MAX, &r->max_age) == -1 ||
	    conf_duration_parse(f[4], DURATION_MAX, &r->untagged_max_age) == -1)
		return snprintf(err, errlen, "element %zu: keep_last, max_age "
		    "or untagged_max_age out of range", idx + 1), -1;
	r->repo = xstrdup(f[0]);
	r->keep = xstrdup(f[2]);
	return 0;
}

int
retention_parse(const char *text, struct retention_rule **out, size_t *n,
    char *err, size_t errlen)
{
	struct retention_rule *v = NULL;
	char *copy, *cur, *line;
	size_t k = 0, cap = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (*text == '\0')
		return 0;
	cur = copy = xstrdup(text);
	while (r == 0 && (line = strsep(&cur, "\n")) != NULL) {
		if (k == RETENTION_RULES_MAX) {
			r = (snprintf(err, errlen, "more than %d elements",
			    RETENTION_RULES_MAX), -1);
			break;
		}
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		memset(&v[k], 0, sizeof(v[k]));
		if ((r = rule_parse(line, &v[k], k, err, errlen)) == 0)
			k++;
	}
	free(copy);
	if (r == -1) {
		retention_free(v, k);
		return -1;
	}
	*out = v;
	*n = k;
	return 0;
}

void
retention_free(struct retention_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].repo);
		free(v[i].keep);
	}
	free(v);
}

int
retention_check(const char *text, char *err, size_t errlen)
{
	struct retention_rule *v;
	size_t n;

	if (retention_parse(text, &v, &n, err, errlen) == -1)
		return -1;
	retention_free(v, n);
	return 0;
}

const struct retention_rule *
retention_match(const struct retention_rule *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(v[i].repo, name, 0) == 0)
			return &v[i];
	return NULL;
}

int
retention_keeps(const struct retention_rule *r, const char *tag)
{
	char pat[RETENTION_PATTERN_MAX + 1];
	const char *p = r->keep;
	size_t n;

	while (*p) {
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 0 || n >= sizeof(pat))
			break;
		memcpy(pat, p, n);
		pat[n] = '\0';
		if (fnmatch(pat, tag, 0) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* Newest first; equal times by name, so a plan is the same every run. */
static int
rtag_cmp(const void *a, const void *b)
{
	const struct rtag *x = a, *y = b;

	if (x->pushed != y->pushed)
		return x->pushed > y->pushed ? -1 : 1;
	return strcmp(x->name, y->name);
}

void
retention_plan(const struct retention_rule *r, struct rtag *tags, size_t n,
    int64_t now)
{
	uint64_t rank = 0;

	if (n > 1)
		qsort(tags, n, sizeof(*tags), rtag_cmp);
	for (size_t i = 0; i < n; i++) {
		tags[i].del = 0;
		if (retention_keeps(r, tags[i].name))
			continue;
		if (r->keep_last > 0 && rank >= r->keep_last)
			tags[i].del = 1;
		if (r->max_age > 0 && now - tags[i].pushed > (int64_t)r->max_age)
			tags[i].del = 1;
		rank++;
	}
}
