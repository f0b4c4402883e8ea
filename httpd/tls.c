/*
 * tls.c - httpd's TLS.  Master sends each certificate generation as its
 * chains, then its end (with the client CA bundle, if any); every chain
 * becomes an SSL_CTX: TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers for
 * 1.2, ALPN http/1.1, SNI choosing the certificate whose names match (the
 * first is the default).  A new generation serves new connections; open
 * ones hold a reference to their context and finish on it.  Session
 * tickets are sealed with keys made here, in memory, rotated every
 * tls.ticket_rotate and accepted for two periods; they are written
 * nowhere.  The private keys are authd's (tls_key.c).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "conn.h"
#include "ev.h"
#include "log.h"
#include "ossl.h"
#include "tls.h"
#include "util.h"

#define TLS_CERTS_MAX	64
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
			"ECDHE-RSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384:" \
			"ECDHE-RSA-AES256-GCM-SHA384:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:" \
			"ECDHE-RSA-CHACHA20-POLY1305"
#define SESSION_CONTEXT	"regmaster"

struct tls_cert {
	SSL_CTX		*ctx;
	X509		*leaf;
};

struct tls_gen {
	uint64_t	 num;
	size_t		 n;
	int		 bad;		/* a chain was refused: never runs */
	struct tls_cert	 c[TLS_CERTS_MAX];
};

struct ticket_key {
	unsigned char	 name[16];
	unsigned char	 aes[32];
	unsigned char	 hmac[32];
};

static struct tls_gen *cur;		/* serving new connections */
static struct tls_gen *next;		/* being received */
static struct ticket_key tkeys[2];	/* [0] seals, [1] previous: opens */
static struct ev_timer rotate_timer;

/* Libraries read their configuration on first use: before the chroot. */
void
tls_preload(void)
{
	ossl_preload();
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		log_warnx("libssl not initialised");
}

static void
ticket_key_new(struct ticket_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		fatalx("no random bytes for a session ticket key");
}

/* A new sealing key; the old one still opens tickets for one period. */
static void
ticket_rotate(void *arg)
{
	OPENSSL_cleanse(&tkeys[1], sizeof(tkeys[1]));
	tkeys[1] = tkeys[0];
	ticket_key_new(&tkeys[0]);
	ev_timer_arm(&rotate_timer, (uint64_t)conf_int(P_TLS_TICKET_ROTATE) *
	    1000);
}

/* At the first certificate: OpenSSL and the ticket keys (an httpd without
 * TLS starts neither); a reload's period applies from the next rotation. */
static void
tls_start(void)
{
	static int started;

	if (started)
		return;
	started = 1;
	ossl_need();
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		log_warnx("libssl not initialised");
	ticket_key_new(&tkeys[0]);
	ticket_key_new(&tkeys[1]);
	ev_timer_init(&rotate_timer, ticket_rotate, NULL);
	ev_timer_arm(&rotate_timer, (uint64_t)conf_int(P_TLS_TICKET_ROTATE) *
	    1000);
}

/* Seal (enc) or open a session ticket; 0 sends the client to a full
 * handshake, 2 opens and asks for a fresh ticket (an old key). */
static int
ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	OSSL_PARAM params[3];
	struct ticket_key *k = NULL;

	if (enc) {
		k = &tkeys[0];
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(
		    EVP_aes_256_cbc())) != 1)
			return -1;
		memcpy(name, k->name, sizeof(k->name));
		if (EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			return -1;
	} else {
		for (int i = 0; i < 2 && k == NULL; i++)
			if (memcmp(name, tkeys[i].name, 16) == 0)
				k = &tkeys[i];
		if (k == NULL)
			return 0;
		if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes,
		    iv) != 1)
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k->hmac, sizeof(k->hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    "SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	return enc || k == &tkeys[0] ? 1 : 2;
}

static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";

	if (SSL_select_next_proto((unsigned char **)out, outlen, ours,
	    sizeof(ours) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

/* The running generation's certificate whose names match the client's
 * server name; none matching keeps the default (the first). */
static int
sni_cb(SSL *s, int *alert, void *arg)
{
	const char *name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);

	if (name == NULL || cur == NULL)
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i < cur->n; i++)
		if (X509_check_host(cur->c[i].leaf, name, 0, 0, NULL) == 1) {
			if (SSL_get_SSL_CTX(s) != cur->c[i].ctx)
				SSL_set_SSL_CTX(s, cur->c[i].ctx);
			break;
		}
	return SSL_TLSEXT_ERR_OK;
}

/* Protocols, ciphers and callbacks every context shares. */
static int
ctx_settings(SSL_CTX *ctx)
{
	long ttl = (long)conf_int(P_TLS_TICKET_ROTATE) * 2;

	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	/* tickets only: no server-side session cache to fill */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, ttl);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) == 1 &&
	    SSL_CTX_set_session_id_context(ctx,
	    (const unsigned char *)SESSION_CONTEXT,
	    sizeof(SESSION_CONTEXT) - 1) == 1 ? 0 : -1;
}

/* The certificates of a PEM chain: the leaf, then the rest in *rest. */
static X509 *
chain_parse(const void *pem, size_t len, STACK_OF(X509) **rest)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *leaf = NULL, *x;

	*rest = sk_X509_new_null();
	if (b == NULL || *rest == NULL)
		goto bad;
	if ((leaf = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto bad;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(*rest, x)) {
			X509_free(x);
			goto bad;
		}
	BIO_free(b);
	ERR_clear_error();	/* the end of the chain reads as an error */
	return leaf;
bad:
	BIO_free(b);
	X509_free(leaf);
	sk_X509_pop_free(*rest, X509_free);
	*rest = NULL;
	return NULL;
}

/* A context for the chain pem whose key authd holds as keyid. */
static SSL_CTX *
ctx_new(const void *pem, size_t len, uint64_t keyid, X509 **leafp)
{
	STACK_OF(X509) *rest;
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	X509 *leaf;

	if ((leaf = chain_parse(pem, len, &rest)) == NULL ||
	    (pk = tls_key_remote(leaf, keyid)) == NULL ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    ctx_settings(ctx) == -1 ||
	    SSL_CTX_use_certificate(ctx, leaf) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_set1_chain(ctx, rest) != 1) {
		log_warnx("certificate %llu.%llu refused: %s",
		    (unsigned long long)(keyid >> 8),
		    (unsigned long long)(keyid & 0xff),
		    ERR_reason_error_string(ERR_peek_last_error()));
		SSL_CTX_free(ctx);
		X509_free(leaf);
		ctx = NULL;
		leaf = NULL;
	}
	ERR_clear_error();
	EVP_PKEY_free(pk);
	sk_X509_pop_free(rest, X509_free);
	*leafp = leaf;
	return ctx;
}

/* Contexts drop our reference; connections still on one keep it. */
static void
gen_free(struct tls_gen *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n; i++) {
		SSL_CTX_free(g->c[i].ctx);
		X509_free(g->c[i].leaf);
	}
	free(g);
}

/* master -> httpd: chain A_KEYID & 0xff of generation A_KEYID >> 8. */
void
tls_cert(struct msg *m)
{
	uint64_t id = msg_u64(m, A_KEYID, 0);
	struct tls_cert *tc;

	tls_start();
	if (next == NULL || next->num != id >> 8) {
		gen_free(next);
		next = xcalloc(1, sizeof(*next));
		next->num = id >> 8;
	}
	if (next->bad)
		return;
	if ((id & 0xff) != next->n || next->n == TLS_CERTS_MAX) {
		log_warnx("certificate %llu.%llu out of order",
		    (unsigned long long)(id >> 8),
		    (unsigned long long)(id & 0xff));
		next->bad = 1;
		return;
	}
	tc = &next->c[next->n];
	tc->ctx = ctx_new(m->v[A_BODY].p, m->v[A_BODY].len, id, &tc->leaf);
	if (tc->ctx == NULL)
		next->bad = 1;
	else
		next->n++;
}

/* The client CA bundle: a store to verify with and the names to ask
 * for; -1 logged. */
static int
ca_parse(const void *pem, size_t len, X509_STORE **st,
    STACK_OF(X509_NAME) **names)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	int n = 0;

	*st = X509_STORE_new();
	*names = sk_X509_NAME_new_null();
	while (b && *st && *names &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
		if (X509_STORE_add_cert(*st, x) == 1 && nm &&
		    sk_X509_NAME_push(*names, nm))
			n++;
		else
			X509_NAME_free(nm);
		X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	if (n > 0)
		return 0;
	log_warnx("the client CA bundle holds no usable certificate");
	X509_STORE_free(*st);
	sk_X509_NAME_pop_free(*names, X509_NAME_free);
	return -1;
}

/* The revocation lists in the bundle go into st: with any, a client's
 * certificate is checked against its issuer's list, and a CA without one
 * fails every certificate it signed (OpenSSL's rule, and nginx's). */
static void
ca_add_crls(const void *pem, size_t len, X509_STORE *st)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509_CRL *crl;
	int n = 0;

	while (b && (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL))) {
		if (X509_STORE_add_crl(st, crl) == 1)
			n++;
		X509_CRL_free(crl);
	}
	BIO_free(b);
	ERR_clear_error();
	if (n > 0)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
}

/* Ask for client certificates verified by the bundle; none is fine. */
static int
gen_client_ca(struct tls_gen *g, const void *pem, size_t len)
{
	STACK_OF(X509_NAME) *names;
	X509_STORE *st;
	unsigned char sid[SHA256_DIGEST_LENGTH];
	int rc = 0;

	if (ca_parse(pem, len, &st, &names) == -1)
		return -1;
	ca_add_crls(pem, len, st);
	/* a session resumes only under the bundle that verified its client
	 * certificate: after a reload to another CA, a ticket from before is
	 * no way around the new bundle */
	SHA256(pem, len, sid);
	for (size_t i = 0; i < g->n && rc == 0; i++) {
		STACK_OF(X509_NAME) *dup = SSL_dup_CA_list(names);
		if (dup == NULL ||
		    SSL_CTX_set_session_id_context(g->c[i].ctx, sid,
		    sizeof(sid)) != 1 ||
		    SSL_CTX_set1_verify_cert_store(g->c[i].ctx, st) != 1) {
			sk_X509_NAME_pop_free(dup, X509_NAME_free);
			rc = -1;
			break;
		}
		SSL_CTX_set_client_CA_list(g->c[i].ctx, dup);
		SSL_CTX_set_verify(g->c[i].ctx, SSL_VERIFY_PEER, NULL);
	}
	X509_STORE_free(st);
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	return rc;
}

/* master -> httpd: generation A_KEYID >> 8 is complete: it serves new
 * connections from now on, unless a part of it was refused. */
void
tls_end(struct msg *m)
{
	uint64_t num = msg_u64(m, A_KEYID, 0) >> 8;
	struct tls_gen *g = next;

	next = NULL;
	if (g == NULL || g->num != num || g->bad || g->n == 0 ||
	    (msg_has(m, A_BODY) && gen_client_ca(g, m->v[A_BODY].p,
	    m->v[A_BODY].len) == -1)) {
		log_warnx("TLS generation %llu refused: keeping %llu",
		    (unsigned long long)num,
		    (unsigned long long)(cur ? cur->num : 0));
		gen_free(g);
		return;
	}
	gen_free(cur);
	cur = g;
	log_info("TLS generation %llu: %zu certificate%s%s",
	    (unsigned long long)num, g->n, g->n == 1 ? "" : "s",
	    msg_has(m, A_BODY) ? ", client certificates asked" : "");
}

void
tls_ca_peer(int fd)
{
	tls_key_channel(fd);
	log_debug("ca channel to authd");
}

void *
tls_new(int fd)
{
	SSL *ssl;

	if (cur == NULL || (ssl = SSL_new(cur->c[0].ctx)) == NULL)
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void
tls_free(void *ssl)
{
	SSL_free(ssl);
}
