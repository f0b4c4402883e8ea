/*
 * fuzz_rules.c - libFuzzer target for lib/acl.c (auth.rules, auth.groups).
 * Input: rules text, 0x01, groups text, 0x01, then "user\trepo" query
 * lines ("-" for anonymous or the catalog).  Whatever parses must answer
 * every query within ACL_ALL, never catalog on a repository, and give an
 * authenticated user at least what anonymous gets; acl_rules_check and
 * conf_rules_check agree with acl_parse; action words round-trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "conf.h"
#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Cut s at the first sep: s is the head, the tail is returned. */
static char *
cut(char *s, int sep)
{
	char *p = strchr(s, sep);

	if (p == NULL)
		return s + strlen(s);
	*p = '\0';
	return p + 1;
}

/* Check one query's answer against the invariants. */
static void
query(const struct acl *a, char *line)
{
	char *repo = cut(line, '\t');
	const char *user = strcmp(line, "-") == 0 ? NULL : line;
	const char *r = strcmp(repo, "-") == 0 ? NULL : repo;
	unsigned g = acl_grant(a, user, r), anon = acl_grant(a, NULL, r);

	if (g & ~(unsigned)ACL_ALL)
		abort();
	if (r != NULL && (g & ACL_CATALOG))
		abort();
	if ((g & anon) != anon)
		abort();
}

/* Parsed action words print back to the same bits. */
static void
actions_roundtrip(const char *text)
{
	unsigned bits, again;
	char out[64];

	if (acl_actions_parse(text, &bits) != 0)
		return;
	if (bits & ~(unsigned)ACL_ALL)
		abort();
	acl_actions_text(bits, out, sizeof(out));
	if (bits != 0 && (acl_actions_parse(out, &again) != 0 || again != bits))
		abort();
}

/* One input: rules, groups and queries. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *groups, *queries, *line, err[256];
	struct acl *a;
	int ok;

	if (size > 16384)
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	groups = cut(s, 1);
	queries = cut(groups, 1);
	actions_roundtrip(s);
	a = acl_parse(s, groups, err, sizeof(err));
	ok = acl_rules_check(s, err, sizeof(err)) == 0;
	if (a != NULL && !ok)
		abort();	/* groups can only add errors */
	if (conf_rules_check(P_AUTH_RULES, s, err, sizeof(err)) == 0 && !ok)
		abort();
	while (a != NULL && *queries != '\0') {
		line = queries;
		queries = cut(queries, '\n');
		query(a, line);
	}
	acl_free(a);
	free(s);
	return 0;
}
