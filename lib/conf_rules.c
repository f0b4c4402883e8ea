/*
 * conf_rules.c - values that are lists of groups of typed fields
 * (auth.rules, auth.groups, tunnel.client.proxies, cache.upstreams): which fields each has,
 * their kinds and defaults, checking their canonical text, and printing it
 * back as libconfig.  The canonical text holds every field of every
 * element, defaults filled in, so that a worker reading it never has to
 * know what was left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "buf.h"
#include "conf.h"
#include "conf_cache.h"
#include "conf_tunnel.h"
#include "retention.h"
#include "util.h"

#define RULES_MAX	10000

struct rules_shape {
	int			 param;
	int			 n;
	struct conf_rule_field	 f[CONF_RULE_FIELDS];
};

#define REQ_STR(n)		{ n, RF_STR, NULL, 0, 0 }
#define OPT_STR(n, d)		{ n, RF_STR, d, 0, 0 }
#define OPT_INT(n, d, lo, hi)	{ n, RF_INT, d, lo, hi }
#define REQ_INT(n, lo, hi)	{ n, RF_INT, NULL, lo, hi }
#define OPT_BOOL(n, d)		{ n, RF_BOOL, d, 0, 0 }
#define OPT_DUR(n, d, hi)	{ n, RF_DURATION, d, 0, hi }

static const struct rules_shape shapes[] = {
	{ P_AUTH_RULES, 3, { REQ_STR("who"), REQ_STR("repo"),
	    REQ_STR("allow") } },
	{ P_AUTH_GROUPS, 2, { REQ_STR("name"), REQ_STR("members") } },
	/* group "=name": the proxy's own name when left out */
	{ P_TUNNEL_CLIENT_PROXIES, 8, { REQ_STR("name"), REQ_STR("local"),
	    REQ_INT("remote_port", 1, 65535), OPT_STR("group", "=name"),
	    OPT_INT("weight", "1", 1, 1000), OPT_BOOL("compression", "false"),
	    OPT_BOOL("proxy_protocol", "false"), OPT_STR("health", "none") } },
	/* prefix "": the catch-all; ttl: when a tag is asked again */
	{ P_CACHE_UPSTREAMS, 7, { OPT_STR("prefix", ""), REQ_STR("url"),
	    OPT_STR("username", ""), OPT_STR("password", ""), OPT_STR("ca", ""),
	    OPT_DUR("ttl", "5m", 366 * 86400), OPT_BOOL("mirror", "false") } },
	/* keep "": no tag kept by name; 0 and "0s": no such limit */
	{ P_RETENTION, 5, { REQ_STR("repo"),
	    OPT_INT("keep_last", "0", 0, 1000000), OPT_STR("keep", ""),
	    OPT_DUR("max_age", "0s", 3660 * 86400),
	    OPT_DUR("untagged_max_age", "0s", 3660 * 86400) } },
};

const struct conf_rule_field *
conf_rules_fields(int p, int *n)
{
	for (size_t i = 0; i < nitems(shapes); i++)
		if (shapes[i].param == p) {
			*n = shapes[i].n;
			return shapes[i].f;
		}
	*n = 0;
	return NULL;
}

/* One field's text against its kind: 0, or -1 with the reason. */
static int
field_check(const struct conf_rule_field *f, const char *v, size_t idx,
    char *err, size_t errlen)
{
	uint64_t u;

	if (*v == '\0' && f->dflt != NULL && *f->dflt == '\0')
		return 0;
	if (*v == '\0')
		return snprintf(err, errlen, "element %zu: %s is empty",
		    idx + 1, f->name), -1;
	for (const char *q = v; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return snprintf(err, errlen, "element %zu: %s has a "
			    "control character", idx + 1, f->name), -1;
	if (f->kind == RF_INT && (parse_u64(v, (uint64_t)f->max, &u) == -1 ||
	    (int64_t)u < f->min))
		return snprintf(err, errlen, "element %zu: %s '%s' is not an "
		    "integer from %lld to %lld", idx + 1, f->name, v,
		    (long long)f->min, (long long)f->max), -1;
	if (f->kind == RF_DURATION && conf_duration_parse(v, (uint64_t)f->max,
	    &u) == -1)
		return snprintf(err, errlen, "element %zu: %s '%s' is not a "
		    "duration (like 90s, 1h, 30d)", idx + 1, f->name, v), -1;
	if (f->kind == RF_BOOL && strcmp(v, "true") && strcmp(v, "false"))
		return snprintf(err, errlen, "element %zu: %s '%s' is not true "
		    "or false", idx + 1, f->name, v), -1;
	return 0;
}

/* One element's fields: each present and of its kind. */
static int
element_check(char *line, int nf, const struct conf_rule_field *fs,
    size_t idx, char *err, size_t errlen)
{
	char *f;
	int i = 0;

	while ((f = strsep(&line, "\t")) != NULL) {
		if (i == nf || (*f == '\0' && (fs[i].dflt == NULL ||
		    *fs[i].dflt != '\0')))
			break;
		if (field_check(&fs[i], f, idx, err, errlen) == -1)
			return -1;
		i++;
	}
	if (i != nf || f != NULL) {
		struct buf names;
		buf_init(&names);
		for (int k = 0; k < nf; k++)
			buf_printf(&names, "%s%s", k ? ", " : "", fs[k].name);
		buf_append(&names, "", 1);
		snprintf(err, errlen, "element %zu: wants %s, each non-empty",
		    idx + 1, names.data);
		buf_free(&names);
		return -1;
	}
	return 0;
}

int
conf_rules_check(int p, const char *text, char *err, size_t errlen)
{
	const struct conf_rule_field *fs;
	char *copy, *cur, *line;
	size_t idx = 0;
	int nf, r = 0;

	if ((fs = conf_rules_fields(p, &nf)) == NULL)
		return snprintf(err, errlen, "not a list of groups"), -1;
	if (*text == '\0')
		return 0;
	cur = copy = xstrdup(text);
	while (r == 0 && (line = strsep(&cur, "\n")) != NULL) {
		if (idx == RULES_MAX)
			r = (snprintf(err, errlen, "more than %d elements",
			    RULES_MAX), -1);
		else
			r = element_check(line, nf, fs, idx++, err, errlen);
	}
	free(copy);
	if (r == 0 && p == P_AUTH_RULES)
		r = acl_rules_check(text, err, errlen);
	if (r == 0 && p == P_TUNNEL_CLIENT_PROXIES)
		r = tunnel_proxies_check(text, err, errlen);
	if (r == 0 && p == P_CACHE_UPSTREAMS)
		r = cache_upstreams_check(text, err, errlen);
	if (r == 0 && p == P_RETENTION)
		r = retention_check(text, err, errlen);
	return r;
}

/*
 * A list value's canonical text into an array of at most max elements of
 * size bytes each, one() parsing each line; what names them in the error.
 * On failure the array is wiped before it is freed (an element may hold
 * a password) and *out is NULL.
 */
int
conf_list_parse(const char *text, size_t size, size_t max, const char *what,
    conf_elem_fn one, void **out, size_t *n, char *err, size_t errlen)
{
	char *copy, *cur, *line, *v = NULL;
	size_t cap = 0;
	int r = 0;

	*out = NULL;
	*n = 0;
	if (*text == '\0')
		return 0;
	cur = copy = xstrdup(text);
	while (r == 0 && (line = strsep(&cur, "\n")) != NULL) {
		if (*n == max) {
			r = (snprintf(err, errlen, "more than %zu %s", max,
			    what), -1);
			break;
		}
		v = xreallocarray(v, ++cap, size);
		memset(v + *n * size, 0, size);
		if ((r = one(line, v + *n * size, err, errlen)) == 0)
			(*n)++;
	}
	free(copy);
	if (r == -1) {
		if (v != NULL)
			explicit_bzero(v, cap * size);
		free(v);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}

void
conf_rules_print(int p, const char *text, FILE *fp)
{
	const struct conf_rule_field *fs;
	char *copy, *cur, *line, *f;
	int nf, first = 1;

	fs = conf_rules_fields(p, &nf);
	fprintf(fp, "(");
	cur = copy = xstrdup(text);
	while (*text && (line = strsep(&cur, "\n")) != NULL) {
		fprintf(fp, "%s\n\t    {", first ? "" : ",");
		for (int i = 0; i < nf && (f = strsep(&line, "\t")); i++)
			fprintf(fp, fs[i].kind == RF_STR ||
			    fs[i].kind == RF_DURATION ? " %s = \"%s\";" :
			    " %s = %s;", fs[i].name, f);
		fprintf(fp, " }");
		first = 0;
	}
	fprintf(fp, "%s);\n", first ? " " : "\n\t");
	free(copy);
}
