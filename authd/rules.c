/*
 * rules.c - auth.rules and auth.groups, parsed at start and again on every
 * reload.  Rules that do not parse (master checked them, so only a bug gets
 * here) keep the ones before, and say so.
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "authd.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static struct acl *acl;
static char *rules_text, *groups_text;

int
rules_configure(void)
{
	const char *r = conf_str(P_AUTH_RULES), *g = conf_str(P_AUTH_GROUPS);
	struct acl *next;
	char err[256];

	if (acl && strcmp(r, rules_text) == 0 && strcmp(g, groups_text) == 0)
		return 0;
	if ((next = acl_parse(r, g, err, sizeof(err))) == NULL) {
		log_warnx("auth.rules: %s: keeping the rules before", err);
		return 0;
	}
	acl_free(acl);
	acl = next;
	free(rules_text);
	free(groups_text);
	rules_text = xstrdup(r);
	groups_text = xstrdup(g);
	return 1;
}

/* What user (NULL or "": anonymous) may do on repo (NULL: the catalog);
 * everything when there is no password file. */
unsigned
rules_grant(const char *user, const char *repo)
{
	if (passwd_open())
		return ACL_ALL;
	if (acl == NULL)
		return 0;
	return acl_grant(acl, user && *user ? user : NULL, repo);
}
