/*
 * acl.h - access rules: who may do what on which repositories.  The rules
 * come from auth.rules (canonical text, see conf.h); authd evaluates them.
 *
 * who:   a user name, "@group" (auth.groups), "anonymous" (no credentials)
 *        or "*" (any authenticated user)
 * repo:  "*", an exact name, a prefix: a name then "/" and "*" (any depth
 *        below it), or that with the name "{user}": the authenticated
 *        user's own namespace
 * allow: comma-separated pull, push, delete, catalog, "*" (all) or "none"
 *
 * The most specific matching rule wins: a longer literal repository part
 * beats a shorter one (an exact name beats any pattern), then a user beats
 * a group beats "*"; ties are joined.  An authenticated user also gets what
 * anonymous gets.  No rules: authenticated users may do everything,
 * anonymous nothing.
 */
#ifndef RM_ACL_H
#define RM_ACL_H

#include <stddef.h>

#define ACL_PULL	0x1
#define ACL_PUSH	0x2
#define ACL_DELETE	0x4
#define ACL_CATALOG	0x8
#define ACL_ALL		0xf

struct acl;

/* Parse auth.rules and auth.groups canonical text; NULL with err set. */
struct acl *acl_parse(const char *rules, const char *groups, char *err,
	    size_t errlen);
void	 acl_free(struct acl *);
/* Check auth.rules text alone (conf.c, for errors at load time). */
int	 acl_rules_check(const char *rules, char *err, size_t errlen);
/* The ACL_* bits user (NULL: anonymous) has on repo (NULL: the catalog). */
unsigned acl_grant(const struct acl *, const char *user, const char *repo);
/* "pull,push" for bits; -1 on an unknown word.  out holds 64 bytes. */
int	 acl_actions_parse(const char *text, unsigned *bits);
void	 acl_actions_text(unsigned bits, char *out, size_t len);

#endif
