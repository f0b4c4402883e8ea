/*
 * mtext.c - Prometheus text exposition: writing a process's figures and
 * strictly reading what a worker wrote (see mtext.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mtext.h"
#include "util.h"

static const char *const type_names[] = {
	"counter", "gauge", "histogram", "untyped", "summary"
};

void
mhist_observe(struct mhist *h, const struct mhist_bounds *b, double v)
{
	size_t i = 0;

	while (i < b->n && v > b->le[i])
		i++;
	h->bucket[i]++;
	h->sum += v;
}

int
mtext_name_ok(const char *name, int label)
{
	const char *p = name;

	if (*p == '\0' || isdigit((unsigned char)*p))
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' &&
		    (label || *p != ':'))
			return 0;
	return 1;
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void
put_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			buf_puts(b, "\\\"");
		else
			buf_append(b, s, 1);
	}
}

void
mtext_family(struct buf *b, const char *name, enum mtext_type t,
    const char *help)
{
	if (!mtext_name_ok(name, 0) || (unsigned)t >= nitems(type_names))
		fatalx("metric %s: bad name or type", name);
	buf_printf(b, "# HELP %s ", name);
	put_escaped(b, help, 0);
	buf_printf(b, "\n# TYPE %s %s\n", name, type_names[t]);
}

static void
put_labels(struct buf *b, const struct mlabel *l, size_t n, const char *le)
{
	if (n + (le != NULL) > MTEXT_LABELS_MAX)
		fatalx("%zu labels: more than %d", n, MTEXT_LABELS_MAX);
	if (n == 0 && le == NULL)
		return;
	buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (!mtext_name_ok(l[i].name, 1) || strcmp(l[i].name, "le") == 0)
			fatalx("label %s: bad name", l[i].name);
		buf_printf(b, "%s%s=\"", i ? "," : "", l[i].name);
		put_escaped(b, l[i].value, 1);
		buf_puts(b, "\"");
	}
	if (le != NULL)
		buf_printf(b, "%sle=\"%s\"", n ? "," : "", le);
	buf_puts(b, "}");
}

/* A value as Prometheus reads it back: integers exactly, others with
 * enough digits to round trip. */
static void
put_value(struct buf *b, double v)
{
	if (isnan(v))
		buf_puts(b, "NaN");
	else if (isinf(v))
		buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.17g", v);
}

void
mtext_sample(struct buf *b, const char *name, const struct mlabel *l,
    size_t n, double value)
{
	if (!mtext_name_ok(name, 0))
		fatalx("metric %s: bad name", name);
	buf_puts(b, name);
	put_labels(b, l, n, NULL);
	buf_puts(b, " ");
	put_value(b, value);
	buf_puts(b, "\n");
}

void
mtext_count(struct buf *b, const char *name, const struct mlabel *l,
    size_t n, uint64_t value)
{
	if (!mtext_name_ok(name, 0))
		fatalx("metric %s: bad name", name);
	buf_puts(b, name);
	put_labels(b, l, n, NULL);
	buf_printf(b, " %llu\n", (unsigned long long)value);
}

void
mtext_single(struct buf *b, const char *name, enum mtext_type t,
    const char *help, uint64_t value)
{
	mtext_family(b, name, t, help);
	mtext_count(b, name, NULL, 0, value);
}

void
mtext_histogram(struct buf *b, const char *name, const struct mlabel *l,
    size_t n, const struct mhist_bounds *bounds, const struct mhist *h)
{
	char le[32];
	uint64_t cum = 0;

	if (!mtext_name_ok(name, 0) || bounds->n > MTEXT_BUCKETS_MAX)
		fatalx("histogram %s: bad name or buckets", name);
	for (size_t i = 0; i <= bounds->n; i++) {
		cum += h->bucket[i];
		if (i < bounds->n)
			snprintf(le, sizeof(le), "%g", bounds->le[i]);
		else
			strlcpy(le, "+Inf", sizeof(le));
		buf_printf(b, "%s_bucket", name);
		put_labels(b, l, n, le);
		buf_printf(b, " %llu\n", (unsigned long long)cum);
	}
	buf_printf(b, "%s_sum", name);
	put_labels(b, l, n, NULL);
	buf_puts(b, " ");
	put_value(b, h->sum);
	buf_printf(b, "\n%s_count", name);
	put_labels(b, l, n, NULL);
	buf_printf(b, " %llu\n", (unsigned long long)cum);
}
