/*
 * mtext_check.c - the strict reader of the Prometheus text format that
 * master runs over a worker's part of a scrape (mtext.h): a line it does
 * not understand drops that worker's part, never the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtext.h"
#include "util.h"

#define FAMILIES_MAX	1024

struct family {
	char		 name[128];
	int		 typed;		/* a TYPE line was seen */
	int		 sampled;	/* a sample was seen */
	int		 histogram;
	int		 summary;	/* its _sum and _count are its own */
};

struct reader {
	struct family	*fam;
	size_t		 nfam;
	const char *const *prefixes;
	const char	*why;
};

static struct family *
family_of(struct reader *r, const char *name, size_t len)
{
	for (size_t i = 0; i < r->nfam; i++)
		if (strlen(r->fam[i].name) == len &&
		    memcmp(r->fam[i].name, name, len) == 0)
			return &r->fam[i];
	if (r->nfam == FAMILIES_MAX || len >= sizeof(r->fam[0].name)) {
		r->why = "too many families or too long a name";
		return NULL;
	}
	memcpy(r->fam[r->nfam].name, name, len);
	r->fam[r->nfam].name[len] = '\0';
	return &r->fam[r->nfam++];
}

/* The name at *p: its length, 0 when there is none or it is not ours. */
static size_t
name_len(struct reader *r, const char *p, int label)
{
	char name[128];
	size_t n = 0;

	while (p[n] && strchr(" \t{}=,\"#", p[n]) == NULL)
		n++;
	if (n == 0 || n >= sizeof(name))
		return r->why = "no name or too long a name", 0;
	memcpy(name, p, n);
	name[n] = '\0';
	if (!mtext_name_ok(name, label))
		return r->why = "not a valid name", 0;
	if (label || r->prefixes == NULL)
		return n;
	for (const char *const *pp = r->prefixes; *pp; pp++)
		if (strncmp(name, *pp, strlen(*pp)) == 0)
			return n;
	return r->why = "a name this part may not use", 0;
}

/* An escaped text up to end (HELP) or to '"' (a label value). */
static const char *
skip_escaped(struct reader *r, const char *p, int quoted)
{
	for (; *p && (!quoted || *p != '"'); p++) {
		if (*p != '\\')
			continue;
		p++;
		if (*p != '\\' && *p != 'n' && !(quoted && *p == '"'))
			return r->why = "bad escape", NULL;
	}
	if (quoted && *p != '"')
		return r->why = "unterminated label value", NULL;
	return quoted ? p + 1 : p;
}

/* A float as Prometheus writes them: decimal, Inf, NaN; no hex. */
static const char *
skip_value(struct reader *r, const char *p)
{
	const char *s = p;
	char *end;

	if (*s == '+' || *s == '-')
		s++;
	if (strncmp(s, "Inf", 3) == 0)
		return s + 3;
	if (strncmp(p, "NaN", 3) == 0)
		return p + 3;
	for (const char *q = s; *q && *q != ' ' && *q != '\t'; q++)
		if (strchr("0123456789.eE+-", *q) == NULL)
			return r->why = "not a number", NULL;
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return r->why = "not a number", NULL;
	(void)strtod(p, &end);
	if (end == p)
		return r->why = "not a number", NULL;
	return end;
}

static const char *
skip_labels(struct reader *r, const char *p)
{
	const char *seen[MTEXT_LABELS_MAX];
	size_t nseen = 0, n;

	p++;
	while (*p != '}') {
		if ((n = name_len(r, p, 1)) == 0)
			return NULL;
		for (size_t i = 0; i < nseen; i++)
			if (strncmp(seen[i], p, n) == 0 && seen[i][n] == '=')
				return r->why = "a label twice", NULL;
		if (nseen == MTEXT_LABELS_MAX)
			return r->why = "too many labels", NULL;
		seen[nseen++] = p;
		if (p[n] != '=' || p[n + 1] != '"')
			return r->why = "label without =\"value\"", NULL;
		if ((p = skip_escaped(r, p + n + 2, 1)) == NULL)
			return NULL;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return r->why = "labels not separated by ','", NULL;
	}
	return p + 1;
}

/* The family a sample belongs to: a histogram's series drop their
 * suffix, as do a summary's _sum and _count. */
static struct family *
sample_family(struct reader *r, const char *p, size_t n)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };

	for (size_t i = 0; i < nitems(sfx); i++) {
		size_t l = strlen(sfx[i]);
		struct family *f;
		if (n <= l || memcmp(p + n - l, sfx[i], l) != 0)
			continue;
		for (size_t k = 0; k < r->nfam; k++) {
			f = &r->fam[k];
			if ((f->histogram || (f->summary && i > 0)) &&
			    strlen(f->name) == n - l &&
			    memcmp(f->name, p, n - l) == 0)
				return f;
		}
	}
	return family_of(r, p, n);
}

static int
read_sample(struct reader *r, const char *p)
{
	struct family *f;
	size_t n;

	if ((n = name_len(r, p, 0)) == 0 ||
	    (f = sample_family(r, p, n)) == NULL)
		return -1;
	f->sampled = 1;
	p += n;
	if (*p == '{' && (p = skip_labels(r, p)) == NULL)
		return -1;
	if (*p != ' ' && *p != '\t')
		return r->why = "no value", -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((p = skip_value(r, p)) == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0') {	/* a timestamp: integer milliseconds */
		p += *p == '-';
		if ((n = strspn(p, "0123456789")) == 0 || p[n] != '\0')
			return r->why = "junk after the value", -1;
	}
	return 0;
}

static int
read_type(struct reader *r, struct family *f, const char *t)
{
	static const char *const types[] = {
		"counter", "gauge", "histogram", "summary", "untyped"
	};

	if (f->typed || f->sampled)
		return r->why = "TYPE twice or after samples", -1;
	for (size_t i = 0; i < nitems(types); i++)
		if (strcmp(t, types[i]) == 0) {
			f->typed = 1;
			f->histogram = i == 2;
			f->summary = i == 3;
			return 0;
		}
	return r->why = "unknown type", -1;
}

static int
read_comment(struct reader *r, const char *p)
{
	int help = strncmp(p, "# HELP ", 7) == 0;
	struct family *f;
	size_t n;

	if (!help && strncmp(p, "# TYPE ", 7) != 0)
		return 0;	/* a plain comment */
	p += 7;
	if ((n = name_len(r, p, 0)) == 0 || (f = family_of(r, p, n)) == NULL)
		return -1;
	p += n;
	if (*p != ' ' && !(help && *p == '\0'))
		return r->why = "HELP or TYPE without text", -1;
	if (help)
		return skip_escaped(r, p, 0) == NULL ? -1 : 0;
	return read_type(r, f, p + 1);
}

static int
read_line(struct reader *r, const char *line)
{
	if (*line == '\0')
		return 0;
	if (*line == '#')
		return read_comment(r, line);
	return read_sample(r, line);
}

long
mtext_check(const char *text, size_t len, const char *const *prefixes,
    char *err, size_t errlen)
{
	struct reader r = { .prefixes = prefixes };
	char line[MTEXT_LINE_MAX];
	size_t off = 0, lineno = 0;
	long samples = 0;

	r.fam = xcalloc(FAMILIES_MAX, sizeof(*r.fam));
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		lineno++;
		if (nl == NULL)
			r.why = "the last line has no newline";
		else if (n >= sizeof(line) || memchr(text + off, '\0', n))
			r.why = "a line too long or with a NUL";
		if (r.why == NULL) {
			memcpy(line, text + off, n);
			line[n] = '\0';
			if (read_line(&r, line) == 0)
				samples += *line && *line != '#';
		}
		if (r.why != NULL)
			break;
		off += n + 1;
	}
	free(r.fam);
	if (r.why == NULL)
		return samples;
	snprintf(err, errlen, "line %zu: %s", lineno, r.why);
	return -1;
}
