/*
 * acl.c - parsing auth.rules and auth.groups, and deciding what a user may
 * do on a repository (the semantics are in acl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "oci.h"
#include "util.h"

enum who_kind { WHO_ANON, WHO_ANY, WHO_GROUP, WHO_USER };

struct acl_rule {
	enum who_kind	 who;
	char		*name;		/* user or group */
	char		*repo;		/* pattern */
	size_t		 literal;	/* specificity of the repo part */
	int		 exact;
	unsigned	 allow;
};

struct acl_group {
	char		*name;
	char		**members;
	size_t		 nmembers;
};

struct acl {
	struct acl_rule	*r;
	size_t		 nr;
	struct acl_group *g;
	size_t		 ng;
};

static const struct { const char *word; unsigned bit; } action_words[] = {
	{ "pull", ACL_PULL }, { "push", ACL_PUSH }, { "delete", ACL_DELETE },
	{ "catalog", ACL_CATALOG }, { "*", ACL_ALL }, { "none", 0 },
};

int
acl_actions_parse(const char *text, unsigned *bits)
{
	char word[16];
	const char *p = text;

	*bits = 0;
	while (*p) {
		size_t n = strcspn(p, ","), i;
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(word))
			return -1;
		memcpy(word, p, n);
		word[n] = '\0';
		for (i = 0; i < nitems(action_words); i++)
			if (strcmp(word, action_words[i].word) == 0)
				break;
		if (i == nitems(action_words))
			return -1;
		*bits |= action_words[i].bit;
		p += strcspn(p, ",");
		p += strspn(p, ", ");
	}
	return p == text ? -1 : 0;
}

void
acl_actions_text(unsigned bits, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < 4; i++)
		if (bits & action_words[i].bit)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0,
			    "%s%s", n ? "," : "", action_words[i].word);
}

/* A repo pattern: "*", a prefix ("{user}" or a name, then "/" and "*"),
 * or an exact valid name. */
static int
pattern_parse(const char *s, struct acl_rule *r)
{
	size_t n = strlen(s);
	char stem[OCI_NAME_MAX + 1];

	if (strcmp(s, "*") == 0)
		return r->literal = 0, 0;
	if (n >= 2 && strcmp(s + n - 2, "/*") == 0) {
		if (n - 2 > OCI_NAME_MAX)
			return -1;
		memcpy(stem, s, n - 2);
		stem[n - 2] = '\0';
		r->literal = n - 1;
		return strcmp(stem, "{user}") == 0 || oci_name_valid(stem) ?
		    0 : -1;
	}
	r->exact = 1;
	r->literal = n;
	return oci_name_valid(s) ? 0 : -1;
}

static int
who_parse(const char *s, struct acl_rule *r)
{
	if (strcmp(s, "anonymous") == 0)
		r->who = WHO_ANON;
	else if (strcmp(s, "*") == 0)
		r->who = WHO_ANY;
	else if (s[0] == '@' && s[1] != '\0')
		r->who = WHO_GROUP, s++;
	else
		r->who = WHO_USER;
	if (r->who >= WHO_GROUP && (strlen(s) > 255 || strchr(s, ':')))
		return -1;
	r->name = r->who >= WHO_GROUP ? xstrdup(s) : NULL;
	return 0;
}

/* One "who\trepo\tallow" line into r; -1 with err. */
static int
rule_parse(char *line, size_t idx, struct acl_rule *r, char *err, size_t len)
{
	char *who = strsep(&line, "\t"), *repo = strsep(&line, "\t");
	const char *what = "who";

	memset(r, 0, sizeof(*r));
	if (who == NULL || repo == NULL || line == NULL)
		what = "fields";
	else if (who_parse(who, r) == -1)
		what = "who";
	else if (pattern_parse(repo, r) == -1)
		what = "repo (\"*\", \"name/*\", \"{user}/*\" or a name)";
	else if (acl_actions_parse(line, &r->allow) == -1)
		what = "allow (pull, push, delete, catalog, * or none)";
	else {
		/* "*" on a part of the tree must not open the whole
		 * catalog (a "{user}" namespace rule with allow "*" is a
		 * common one); only an explicit "catalog", or "*" on
		 * every repository, lists it. */
		if (strcmp(repo, "*") != 0 && strstr(line, "catalog") == NULL)
			r->allow &= ~(unsigned)ACL_CATALOG;
		r->repo = xstrdup(repo);
		return 0;
	}
	free(r->name);
	snprintf(err, len, "rule %zu: bad %s", idx + 1, what);
	return -1;
}

/* One "name\tmember, member" line of auth.groups. */
static int
group_parse(char *line, size_t idx, struct acl_group *g, char *err, size_t len)
{
	char *name = strsep(&line, "\t"), *m;

	memset(g, 0, sizeof(*g));
	if (name == NULL || line == NULL || *name == '\0') {
		snprintf(err, len, "group %zu: wants name and members", idx + 1);
		return -1;
	}
	g->name = xstrdup(name);
	/* commas or spaces, as Apache's group files separate them */
	while ((m = strsep(&line, ", ")) != NULL) {
		if (*m == '\0')
			continue;
		g->members = xreallocarray(g->members, g->nmembers + 1,
		    sizeof(char *));
		g->members[g->nmembers++] = xstrdup(m);
	}
	return 0;
}

static void
group_clear(struct acl_group *g)
{
	for (size_t i = 0; i < g->nmembers; i++)
		free(g->members[i]);
	free(g->members);
	free(g->name);
}

void
acl_free(struct acl *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nr; i++) {
		free(a->r[i].name);
		free(a->r[i].repo);
	}
	for (size_t i = 0; i < a->ng; i++)
		group_clear(&a->g[i]);
	free(a->r);
	free(a->g);
	free(a);
}

static int
parse_lines(struct acl *a, const char *text, int groups, char *err, size_t len)
{
	char *copy = xstrdup(text), *cur = copy, *line;
	int r = 0;

	while (*text && r == 0 && (line = strsep(&cur, "\n")) != NULL) {
		if (groups) {
			a->g = xreallocarray(a->g, a->ng + 1, sizeof(*a->g));
			if ((r = group_parse(line, a->ng, &a->g[a->ng], err,
			    len)) == 0)
				a->ng++;
		} else {
			a->r = xreallocarray(a->r, a->nr + 1, sizeof(*a->r));
			if ((r = rule_parse(line, a->nr, &a->r[a->nr], err,
			    len)) == 0)
				a->nr++;
		}
	}
	free(copy);
	return r;
}

struct acl *
acl_parse(const char *rules, const char *groups, char *err, size_t len)
{
	struct acl *a = xcalloc(1, sizeof(*a));

	if (parse_lines(a, rules, 0, err, len) == -1 ||
	    parse_lines(a, groups, 1, err, len) == -1) {
		acl_free(a);
		return NULL;
	}
	return a;
}

int
acl_rules_check(const char *rules, char *err, size_t len)
{
	struct acl *a = acl_parse(rules, "", err, len);

	acl_free(a);
	return a ? 0 : -1;
}

static int
in_group(const struct acl *a, const char *group, const char *user)
{
	for (size_t i = 0; i < a->ng; i++) {
		if (strcmp(a->g[i].name, group) != 0)
			continue;
		for (size_t j = 0; j < a->g[i].nmembers; j++)
			if (strcmp(a->g[i].members[j], user) == 0)
				return 1;
	}
	return 0;
}

static int
who_matches(const struct acl *a, const struct acl_rule *r, const char *user)
{
	switch (r->who) {
	case WHO_ANON:
		return user == NULL;
	case WHO_ANY:
		return user != NULL;
	case WHO_GROUP:
		return user != NULL && in_group(a, r->name, user);
	case WHO_USER:
		return user != NULL && strcmp(r->name, user) == 0;
	}
	return 0;
}

/* How specifically r's pattern matches repo: -1 not at all, else the
 * literal length (an exact name counts one more than a prefix as long). */
static long
repo_match(const struct acl_rule *r, const char *user, const char *repo)
{
	size_t n;

	if (r->exact)
		return strcmp(r->repo, repo) == 0 ? (long)r->literal * 2 + 1 : -1;
	if (strcmp(r->repo, "*") == 0)
		return 0;
	if (strncmp(r->repo, "{user}/", 7) == 0) {
		if (user == NULL)
			return -1;
		n = strlen(user);
		return strncmp(repo, user, n) == 0 && repo[n] == '/' &&
		    repo[n + 1] ? (long)(n + 1) * 2 : -1;
	}
	n = r->literal;
	return strncmp(repo, r->repo, n) == 0 && repo[n] ? (long)n * 2 : -1;
}

/* The grant of the most specific rules matching user (NULL: anonymous). */
static unsigned
best_grant(const struct acl *a, const char *user, const char *repo)
{
	long best = -1, score;
	unsigned bits = 0;

	for (size_t i = 0; i < a->nr; i++) {
		const struct acl_rule *r = &a->r[i];
		if (!who_matches(a, r, user))
			continue;
		if (repo == NULL) {
			bits |= r->allow & ACL_CATALOG;
			continue;
		}
		if ((score = repo_match(r, user, repo)) < 0)
			continue;
		score = score * 4 + (long)r->who;
		if (score > best)
			best = score, bits = 0;
		if (score == best)
			bits |= r->allow;
	}
	return repo ? bits & ~(unsigned)ACL_CATALOG : bits;
}

unsigned
acl_grant(const struct acl *a, const char *user, const char *repo)
{
	if (a == NULL || a->nr == 0)
		return user ? (repo ? ACL_ALL & ~ACL_CATALOG : ACL_CATALOG) : 0;
	if (user == NULL)
		return best_grant(a, NULL, repo);
	return best_grant(a, user, repo) | best_grant(a, NULL, repo);
}
