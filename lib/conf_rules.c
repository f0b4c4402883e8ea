/*
 * conf_rules.c - values that are lists of groups of string fields
 * (auth.rules, auth.groups): which fields each has, checking their
 * canonical text, and printing it back as libconfig.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "buf.h"
#include "conf.h"
#include "util.h"

#define RULE_FIELDS	3
#define RULES_MAX	10000

struct rules_shape {
	int		 param;
	const char	*field[RULE_FIELDS];	/* NULL-ended when fewer */
};

static const struct rules_shape shapes[] = {
	{ P_AUTH_RULES, { "who", "repo", "allow" } },
	{ P_AUTH_GROUPS, { "name", "members", NULL } },
};

const char *const *
conf_rules_fields(int p, int *n)
{
	for (size_t i = 0; i < nitems(shapes); i++) {
		if (shapes[i].param != p)
			continue;
		for (*n = 0; *n < RULE_FIELDS && shapes[i].field[*n]; (*n)++)
			;
		return shapes[i].field;
	}
	*n = 0;
	return NULL;
}

/* One element's fields: each present, printable, without tabs. */
static int
element_check(char *line, int nf, const char *const *names, size_t idx,
    char *err, size_t errlen)
{
	char *f;
	int i = 0;

	while ((f = strsep(&line, "\t")) != NULL) {
		if (i == nf || *f == '\0')
			break;
		for (const char *q = f; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f) {
				snprintf(err, errlen, "element %zu: %s has a "
				    "control character", idx + 1, names[i]);
				return -1;
			}
		i++;
	}
	if (i != nf || f != NULL) {
		snprintf(err, errlen, "element %zu: wants %s%s%s%s%s, each a "
		    "non-empty string", idx + 1, names[0], nf > 1 ? ", " : "",
		    nf > 1 ? names[1] : "", nf > 2 ? ", " : "",
		    nf > 2 ? names[2] : "");
		return -1;
	}
	return 0;
}

int
conf_rules_check(int p, const char *text, char *err, size_t errlen)
{
	const char *const *names;
	char *copy, *cur, *line;
	size_t idx = 0;
	int nf, r = 0;

	if ((names = conf_rules_fields(p, &nf)) == NULL)
		return snprintf(err, errlen, "not a list of groups"), -1;
	if (*text == '\0')
		return 0;
	cur = copy = xstrdup(text);
	while (r == 0 && (line = strsep(&cur, "\n")) != NULL) {
		if (idx == RULES_MAX)
			r = (snprintf(err, errlen, "more than %d elements",
			    RULES_MAX), -1);
		else
			r = element_check(line, nf, names, idx++, err, errlen);
	}
	free(copy);
	if (r == 0 && p == P_AUTH_RULES)
		r = acl_rules_check(text, err, errlen);
	return r;
}

void
conf_rules_print(int p, const char *text, FILE *fp)
{
	const char *const *names;
	char *copy, *cur, *line, *f;
	int nf, first = 1;

	names = conf_rules_fields(p, &nf);
	fprintf(fp, "(");
	cur = copy = xstrdup(text);
	while (*text && (line = strsep(&cur, "\n")) != NULL) {
		fprintf(fp, "%s\n\t    {", first ? "" : ",");
		for (int i = 0; i < nf && (f = strsep(&line, "\t")); i++)
			fprintf(fp, " %s = \"%s\";", names[i], f);
		fprintf(fp, " }");
		first = 0;
	}
	fprintf(fp, "%s);\n", first ? " " : "\n\t");
	free(copy);
}
