/*
 * token.c - Docker token auth: the ES256 key (made in memory when users
 * are first configured, never written anywhere; a restart makes a new one
 * and old tokens stop verifying, which only costs clients a new /token),
 * its public half sent to httpd, and M_TOKEN_ISSUE: a JWT granting each
 * asked scope only what the rules allow the authenticated (or anonymous)
 * client.
 */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "acl.h"
#include "authd.h"
#include "conf.h"
#include "jwt.h"
#include "log.h"
#include "ossl.h"
#include "oci.h"
#include "util.h"

#define REPO_ACTIONS	(ACL_PULL | ACL_PUSH | ACL_DELETE)

static EVP_PKEY *key;
static char kid[64];
static char *pub_pem;
static size_t pub_len;

void
token_init(void)
{
	BIO *b;
	char *p;
	long n;

	ossl_need();
	if ((key = EVP_EC_gen("P-256")) == NULL)
		fatalx("token: cannot make a P-256 key");
	if (jwt_kid(key, kid, sizeof(kid)) == -1)
		fatalx("token: no key id");
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, key) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0)
		fatalx("token: cannot write the public key");
	pub_pem = xstrndup(p, (size_t)n);
	pub_len = (size_t)n;
	BIO_free(b);
}

int
token_ready(void)
{
	return key != NULL;
}

/* httpd verifies tokens itself: give every new httpd link the key. */
void
token_send_key(struct link *lk)
{
	struct msgb mb;

	msgb_init(&mb, M_TOKEN_KEY);
	msgb_bytes(&mb, A_BODY, pub_pem, pub_len);
	msgb_str(&mb, A_NAME, kid);
	link_notify(lk, &mb);
}

/* The ACL bits of "pull,push" for a scope of type; unknown words (other
 * registries' extensions) ask for nothing. */
static unsigned
scope_actions(const char *type, const char *words)
{
	char w[64];
	unsigned bits = 0, b;
	size_t n;

	for (const char *p = words; *p; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (n >= sizeof(w))
			continue;
		memcpy(w, p, n);
		w[n] = '\0';
		if (acl_actions_parse(w, &b) == 0)
			bits |= b;
	}
	return strcmp(type, "registry") == 0 ? bits & ACL_CATALOG :
	    bits & REPO_ACTIONS;
}

/* One "type:name:actions" line into c (joined with an earlier entry for
 * the same name); -1 if it is malformed or one too many. */
static int
scope_line(const char *line, struct jwt_claims *c)
{
	const char *colon = strchr(line, ':'), *last = strrchr(line, ':');
	struct jwt_access a = { { 0 }, { 0 }, 0 };
	size_t tlen, nlen;

	if (colon == NULL || last == colon)
		return -1;
	tlen = (size_t)(colon - line);
	nlen = (size_t)(last - colon - 1);
	if (tlen >= sizeof(a.type) || nlen >= sizeof(a.name))
		return -1;
	memcpy(a.type, line, tlen);
	memcpy(a.name, colon + 1, nlen);
	if (strcmp(a.type, "repository") == 0 ? !oci_name_valid(a.name) :
	    strcmp(a.type, "registry") != 0 || strcmp(a.name, "catalog") != 0)
		return strcmp(a.type, "repository") == 0 ? -1 : 0;
	a.actions = scope_actions(a.type, last + 1);
	for (size_t i = 0; i < c->naccess; i++)
		if (strcmp(c->access[i].type, a.type) == 0 &&
		    strcmp(c->access[i].name, a.name) == 0) {
			c->access[i].actions |= a.actions;
			return 0;
		}
	if (c->naccess == JWT_ACCESS_MAX)
		return -1;
	c->access[c->naccess++] = a;
	return 0;
}

/* A_SCOPE: one scope a line; registry scopes other than the catalog and
 * resource types we do not know are left out of the token. */
static int
scope_parse(const char *text, struct jwt_claims *c)
{
	char line[JWT_NAME_MAX + 64];
	size_t n;

	for (const char *p = text; *p; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		if (n == 0)
			continue;
		if (n >= sizeof(line))
			return -1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (scope_line(line, c) == -1)
			return -1;
	}
	return 0;
}

/* Keep of each asked entry what user may do; drop what grants nothing. */
static void
claims_grant(struct jwt_claims *c, const char *user)
{
	size_t i, k = 0;

	for (i = 0; i < c->naccess; i++) {
		struct jwt_access *a = &c->access[i];
		a->actions &= rules_grant(user, strcmp(a->type, "registry") ?
		    a->name : NULL);
		if (a->actions)
			c->access[k++] = *a;
	}
	c->naccess = k;
}

/* The rest of the claims: who, for whom, when, and a fresh id. */
static void
claims_fill(struct jwt_claims *c, const char *user)
{
	unsigned char r[16];
	time_t now = time(NULL);

	(void)str_copy(c->iss, conf_str(P_AUTH_ISSUER), sizeof(c->iss));
	(void)str_copy(c->sub, user, sizeof(c->sub));
	c->iat = c->nbf = now;
	c->exp = now + conf_int(P_AUTH_TOKEN_TTL);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		fatal("getrandom");
	for (size_t i = 0; i < sizeof(r); i++)
		(void)snprintf(c->jti + 2 * i, 3, "%02x", r[i]);
}

/* One "token" audit record per repository the token opens (one with no
 * repository if it opens none). */
static void
token_audit(const struct login *l, const struct jwt_claims *c)
{
	struct audit_rec r = { l->addr, l->user, "token", NULL, NULL, NULL,
	    200, 0 };
	size_t n = 0;

	for (size_t i = 0; i < c->naccess; i++)
		if (strcmp(c->access[i].type, "repository") == 0) {
			r.repo = c->access[i].name;
			audit_event(&r);
			n++;
		}
	if (n == 0)
		audit_event(&r);
}

static void
token_reply(struct link *lk, uint32_t id, uint64_t code, uint64_t wait)
{
	struct msgb mb;

	msgb_init(&mb, M_TOKEN);
	msgb_u64(&mb, A_CODE, code);
	if (wait)
		msgb_u64(&mb, A_TIME, wait);
	link_reply(lk, id, &mb);
}

/* The client is known (or refused): sign what it may have. */
static void
token_done(struct login *l)
{
	struct jwt_claims *c = l->arg;
	struct msgb mb;
	char *tok;

	if (l->link == NULL || l->result != LOGIN_OK) {
		if (l->link)
			token_reply(l->link, l->id, l->result == LOGIN_BAD ?
			    401 : 429, l->wait);
		free(c);
		return;
	}
	claims_grant(c, l->user);
	claims_fill(c, l->user);
	if ((tok = jwt_sign(key, kid, c)) == NULL) {
		log_warnx("token: signing failed");
		token_reply(l->link, l->id, 500, 0);
		free(c);
		return;
	}
	token_audit(l, c);
	msgb_init(&mb, M_TOKEN);
	msgb_u64(&mb, A_CODE, 0);
	msgb_str(&mb, A_VALUE, tok);
	msgb_u64(&mb, A_TIME, (uint64_t)conf_int(P_AUTH_TOKEN_TTL));
	if (*l->user)
		msgb_str(&mb, A_USER, l->user);
	link_reply(l->link, l->id, &mb);
	free(tok);
	free(c);
}

/* M_TOKEN_ISSUE: a service that is not ours, or scopes we cannot read,
 * are refused (400) before any password is checked. */
void
token_request(struct link *lk, struct msg *m)
{
	const char *service = msg_str(m, A_NAME), *scope = msg_str(m, A_SCOPE);
	struct jwt_claims *c = xcalloc(1, sizeof(*c));

	/* open mode makes no key at start: the first token does, and httpd
	 * has it before the answer (same link, in order) */
	if (!token_ready()) {
		token_init();
		token_send_key(lk);
	}
	if (service == NULL)
		service = conf_str(P_AUTH_SERVICE);
	if (strcmp(service, conf_str(P_AUTH_SERVICE)) != 0 ||
	    scope_parse(scope ? scope : "", c) == -1) {
		log_info("%s: token refused: another service, or scopes "
		    "that do not parse", msg_str(m, A_ADDR));
		token_reply(lk, m->id, 400, 0);
		free(c);
		return;
	}
	(void)str_copy(c->aud, service, sizeof(c->aud));
	login_begin(lk, m, token_done, c);
}
