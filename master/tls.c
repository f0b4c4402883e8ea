/*
 * tls.c - master's side of TLS.  Master (root) reads every tls.certificate
 * chain and tls.key private key, checks each pair before the set replaces
 * the running one, and hands each part to the process that holds it: the
 * keys to authd, the key holder, which signs for httpd; the chains and the
 * client CA bundle to httpd, which never sees a key.  A set is a numbered
 * generation; a key's id is the generation shifted by eight bits plus the
 * pair's index, so httpd names the key it wants a signature from.
 *
 * The keys stay in master's memory while their generation runs: authd may
 * die and must get them again, and reading the files then could hand it a
 * key edited since the generation was checked, one httpd's chains do not
 * match.  Master can read the files anyway and parses no network input, so
 * keeping them here adds nothing an attacker of httpd could reach; they are
 * cleansed when their generation is replaced.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "master.h"
#include "util.h"

#define TLS_PAIRS_MAX	64	/* the index must fit A_KEYID's low byte */

struct tls_pair {
	char		*chain;
	size_t		 chainlen;
	char		*key;
	size_t		 keylen;
};

struct tls_gen {
	uint64_t	 num;
	size_t		 n;
	struct tls_pair	 p[TLS_PAIRS_MAX];
	char		*ca;		/* client CA bundle, or NULL */
	size_t		 calen;
};

static struct tls_gen *cur;
static uint64_t next_num = 1;
static uint64_t certs_sent;	/* the generation httpd has, if running */
static size_t acks_out;		/* keys of cur authd has not taken yet */

static void
gen_free(struct tls_gen *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		OPENSSL_cleanse(g->p[i].key, g->p[i].keylen);
		free(g->p[i].key);
		free(g->p[i].chain);
	}
	free(g->ca);
	free(g);
}

/* A PEM file, at most one message body; -1 logged. */
static int
read_pem(const char *path, char **out, size_t *len)
{
	if (file_read_all(path, TLS_PEM_MAX, out, len) == -1) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

/* Read and check pair i of the configuration into g; -1 logged. */
static int
gen_read_pair(struct tls_gen *g, const char *certpath, const char *keypath)
{
	struct tls_pair *p = &g->p[g->n];
	char why[512];
	int keyfault;

	if (read_pem(certpath, &p->chain, &p->chainlen) == -1)
		return -1;
	if (read_pem(keypath, &p->key, &p->keylen) == -1) {
		free(p->chain);
		return -1;
	}
	g->n++;		/* gen_free frees it from here on */
	if (tls_pair_check(p->chain, p->chainlen, p->key, p->keylen,
	    &keyfault, why, sizeof(why)) == -1) {
		log_warnx("%s: %s", keyfault ? keypath : certpath, why);
		return -1;
	}
	return 0;
}

/* The client CA bundle, and the revocation lists after it: httpd takes
 * both from one body, and a changed list makes a new generation (so a
 * session of a certificate revoked since cannot resume). -1 logged. */
static int
gen_read_client_ca(struct tls_gen *g)
{
	const char *crlpath = conf_str(P_TLS_CLIENT_CRL);
	char *crl;
	size_t crllen;

	if (read_pem(conf_str(P_TLS_CLIENT_CA), &g->ca, &g->calen) == -1)
		return -1;
	if (*crlpath == '\0')
		return 0;
	if (read_pem(crlpath, &crl, &crllen) == -1)
		return -1;
	if (g->calen + 1 + crllen > TLS_PEM_MAX) {
		log_warnx("%s and %s: over %d KiB together", conf_str(
		    P_TLS_CLIENT_CA), crlpath, TLS_PEM_MAX / 1024);
		free(crl);
		return -1;
	}
	g->ca = xreallocarray(g->ca, g->calen + 1 + crllen, 1);
	g->ca[g->calen++] = '\n';	/* a bundle may lack its last newline */
	memcpy(g->ca + g->calen, crl, crllen);
	g->calen += crllen;
	free(crl);
	return 0;
}

/* The generation the configuration names, checked; NULL logged. */
static struct tls_gen *
gen_read(void)
{
	char *const *certs, *const *keys;
	size_t ncert, nkey, nlisten;
	struct tls_gen *g;

	certs = conf_list(P_TLS_CERTIFICATE, &ncert);
	keys = conf_list(P_TLS_KEY, &nkey);
	(void)conf_list(P_HTTP_TLS_LISTEN, &nlisten);
	if (ncert != nkey || ncert > TLS_PAIRS_MAX) {
		log_warnx("%zu tls.certificate and %zu tls.key: they pair by "
		    "order, at most %d", ncert, nkey, TLS_PAIRS_MAX);
		return NULL;
	}
	if (nlisten > 0 && ncert == 0) {
		log_warnx("http.tls_listen needs tls.certificate and tls.key");
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	for (size_t i = 0; i < ncert; i++)
		if (gen_read_pair(g, certs[i], keys[i]) == -1) {
			gen_free(g);
			return NULL;
		}
	if (*conf_str(P_TLS_CLIENT_CA) && gen_read_client_ca(g) == -1) {
		gen_free(g);
		return NULL;
	}
	return g;
}

static int
same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Do two generations hold the same files' bytes? */
static int
gen_same(const struct tls_gen *a, const struct tls_gen *b)
{
	if (a == NULL || b == NULL || a->n != b->n ||
	    !same_bytes(a->ca, a->calen, b->ca, b->calen))
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!same_bytes(a->p[i].chain, a->p[i].chainlen,
		    b->p[i].chain, b->p[i].chainlen) ||
		    !same_bytes(a->p[i].key, a->p[i].keylen, b->p[i].key,
		    b->p[i].keylen))
			return 0;
	return 1;
}

/* httpd gets the chains of the current generation, then its end. */
static void
send_certs(void)
{
	struct link *l = workers[PROC_HTTPD].link;
	struct msgb mb;

	if (l == NULL || cur == NULL || cur->n == 0)
		return;
	for (size_t i = 0; i < cur->n; i++) {
		msgb_init(&mb, M_TLS_CERT);
		msgb_u64(&mb, A_KEYID, cur->num << 8 | i);
		msgb_bytes(&mb, A_BODY, cur->p[i].chain, cur->p[i].chainlen);
		link_notify(l, &mb);
	}
	msgb_init(&mb, M_TLS_END);
	msgb_u64(&mb, A_KEYID, cur->num << 8);
	if (cur->ca)
		msgb_bytes(&mb, A_BODY, cur->ca, cur->calen);
	link_notify(l, &mb);
	certs_sent = cur->num;
	log_debug("TLS generation %llu sent to httpd",
	    (unsigned long long)cur->num);
}

/* authd took (or refused) a key; once it has them all, httpd may use
 * the generation: no handshake asks for a key authd does not hold yet. */
static void
on_key_ack(struct link *l, struct msg *m, void *arg)
{
	uint64_t num = (uint64_t)(uintptr_t)arg;

	if (m != NULL && m->type == M_ERR)
		log_warnx("authd refused a TLS key: %s", msg_str(m, A_TEXT) ?
		    msg_str(m, A_TEXT) : "no reason");
	if (cur == NULL || num != cur->num || acks_out == 0)
		return;
	if (--acks_out == 0 && certs_sent != cur->num)
		send_certs();
}

/* authd gets every key of the current generation. */
static void
send_keys(void)
{
	struct link *l = workers[PROC_AUTHD].link;
	struct msgb mb;

	acks_out = cur->n;
	for (size_t i = 0; i < cur->n; i++) {
		msgb_init(&mb, M_TLS_KEY);
		msgb_u64(&mb, A_KEYID, cur->num << 8 | i);
		msgb_bytes(&mb, A_BODY, cur->p[i].key, cur->p[i].keylen);
		link_request(l, &mb, on_key_ack, (void *)(uintptr_t)cur->num);
	}
}

/* A new generation runs: keys first, chains once authd has the keys. */
static void
distribute(void)
{
	if (cur->n == 0)
		return;
	if (workers[PROC_AUTHD].link)
		send_keys();
	else {
		if (workers[PROC_AUTHD].enabled)
			log_info("authd is down: TLS keys go to it when it is "
			    "back");
		else
			log_warnx("TLS needs authd (workers.authd), which "
			    "holds the keys");
		send_certs();
	}
}

/* (Re)read the TLS files: a good, changed set becomes the running
 * generation; a bad one leaves the running one alone. */
int
tls_load(void)
{
	struct tls_gen *g = gen_read();

	if (g == NULL)
		return -1;
	if (gen_same(g, cur)) {
		gen_free(g);
		return 0;
	}
	gen_free(cur);
	cur = g;
	cur->num = next_num++;
	if (cur->n)
		log_info("TLS generation %llu: %zu certificate%s",
		    (unsigned long long)cur->num, cur->n, cur->n == 1 ? "" : "s");
	distribute();
	return 0;
}

/* A worker (re)started: authd gets the keys again, httpd the chains. */
void
tls_send(struct worker *w)
{
	if (cur == NULL || cur->n == 0)
		return;
	if (w->id == PROC_AUTHD)
		send_keys();
	else if (w->id == PROC_HTTPD)
		send_certs();
}
