/*
 * ca.c - authd's key holder, after OpenBSD relayd's and smtpd's ca process:
 * the TLS private keys master reads live here and never in httpd, which
 * asks over its ca channel for the one private-key operation each
 * handshake needs.  Keys of the current and the previous generation are
 * kept, so handshakes begun before a reload still complete; a key dropped
 * is cleansed (OpenSSL clears the private numbers it frees).
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ca.h"
#include "link.h"
#include "log.h"
#include "ossl.h"
#include "proc.h"
#include "pss.h"
#include "util.h"

#define CA_KEYS_MAX	128		/* two generations of 64 */
#define CA_SIG_MAX	1024		/* RSA 8192 */
#define CA_QUIET_MS	60000		/* refusals said once a minute */

struct ca_key {
	uint64_t	 id;		/* generation << 8 | index */
	EVP_PKEY	*pkey;
};

static struct ca_key keys[CA_KEYS_MAX];
static size_t nkeys;
static struct link *ca_link;

static const struct link_accept ca_accept[] = {
	{ PROC_HTTPD, M_TLS_SIGN, 0 },
	{ 0, 0, 0 }
};

/* OpenSSL reads its configuration on first use: before the chroot. */
void
ca_preload(void)
{
	ossl_preload();
}

static void
key_drop(size_t i)
{
	EVP_PKEY_free(keys[i].pkey);
	keys[i] = keys[--nkeys];
	memset(&keys[nkeys], 0, sizeof(keys[nkeys]));
}

/* A key of generation gen arrives: keys before gen's previous go, and
 * one of the same id is replaced. */
static void
keys_prune(uint64_t id)
{
	uint64_t gen = id >> 8;

	for (size_t i = 0; i < nkeys;) {
		if (keys[i].id == id || (keys[i].id >> 8) + 1 < gen)
			key_drop(i);
		else
			i++;
	}
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* master -> authd: a private key (PEM) for A_KEYID; answered. */
void
ca_key(struct link *l, struct msg *m)
{
	uint64_t id = msg_u64(m, A_KEYID, 0);
	struct msg_val *v = &m->v[A_BODY];
	EVP_PKEY *pkey = NULL;
	BIO *b;

	ossl_need();
	if ((b = BIO_new_mem_buf(v->p, (int)v->len)) != NULL) {
		pkey = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
		BIO_free(b);
	}
	/* the frame is our receive buffer: no copy of the key stays */
	OPENSSL_cleanse((void *)(uintptr_t)v->p, v->len);
	ERR_clear_error();
	if (pkey == NULL || (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC &&
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)) {
		EVP_PKEY_free(pkey);
		link_reply_err(l, m->id, 0, "not an EC or RSA private key");
		return;
	}
	keys_prune(id);
	if (nkeys == CA_KEYS_MAX) {
		EVP_PKEY_free(pkey);
		link_reply_err(l, m->id, 0, "too many keys");
		return;
	}
	keys[nkeys].id = id;
	keys[nkeys++].pkey = pkey;
	log_debug("TLS key %llu.%llu held", (unsigned long long)(id >> 8),
	    (unsigned long long)(id & 0xff));
	link_reply_done(l, m->id);
}

static EVP_PKEY *
key_find(uint64_t id)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].id == id)
			return keys[i].pkey;
	return NULL;
}

/* Is the request's input what the operation takes from this key? */
static const char *
sign_refusal(EVP_PKEY *pkey, uint64_t op, uint64_t pad, const void *in,
    size_t len)
{
	size_t size;

	if (pkey == NULL)
		return "unknown key";
	size = (size_t)EVP_PKEY_get_size(pkey);
	if (op == TLS_OP_ECDSA_SIGN) {
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
			return "not an EC key";
		return len == 0 || len > EVP_MAX_MD_SIZE ? "bad digest size" :
		    NULL;
	}
	if (op != TLS_OP_RSA_PRIVATE)
		return "unknown operation";
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return "not an RSA key";
	if (pad == RSA_NO_PADDING && len != size)
		return "bad input size";
	/* a raw c^d for any c would decrypt: only PSS encodings are signed */
	if (pad == RSA_NO_PADDING)
		return pss_encoded(in, len, EVP_PKEY_get_bits(pkey)) == NULL ?
		    "raw input is not a PSS encoding" : NULL;
	if (pad == RSA_PKCS1_PADDING)
		return len == 0 || len + RSA_PKCS1_PADDING_SIZE > size ?
		    "bad input size" : NULL;
	return "unknown padding";
}

/* The signature of in with pkey into out; its length, or 0. */
static size_t
sign(EVP_PKEY *pkey, uint64_t op, uint64_t pad, const void *in,
    size_t inlen, unsigned char *out, size_t outmax)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
	size_t outlen = outmax;

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    (op == TLS_OP_RSA_PRIVATE &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, (int)pad) != 1) ||
	    EVP_PKEY_sign(ctx, out, &outlen, in, inlen) != 1)
		outlen = 0;
	EVP_PKEY_CTX_free(ctx);
	if (outlen == 0) {
		log_warnx("signing failed: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
	}
	return outlen;
}

/* A refusal means httpd misbehaves, perhaps compromised and probing:
 * said at most once a minute, so that it cannot flood the log. */
static void
refusal_log(uint64_t keyid, const char *why)
{
	static uint64_t last;
	static unsigned long quiet;
	uint64_t now = now_ms();

	if (last != 0 && now - last < CA_QUIET_MS) {
		quiet++;
		return;
	}
	log_warnx("signature refused: key %llu.%llu: %s (%lu more since, "
	    "not logged)", (unsigned long long)(keyid >> 8),
	    (unsigned long long)(keyid & 0xff), why, quiet);
	last = now;
	quiet = 0;
}

/* httpd -> authd on the ca channel: one signature, answered at once. */
static void
ca_request(struct link *l, struct msg *m, void *arg)
{
	uint64_t op = msg_u64(m, A_CODE, 0), pad = msg_u64(m, A_FLAGS, 0);
	EVP_PKEY *pkey = key_find(msg_u64(m, A_KEYID, 0));
	const struct msg_val *v = &m->v[A_BODY];
	unsigned char sig[CA_SIG_MAX];
	const char *why;
	struct msgb mb;
	size_t n;

	if ((why = sign_refusal(pkey, op, pad, v->p, v->len)) != NULL) {
		refusal_log(msg_u64(m, A_KEYID, 0), why);
		link_reply_err(l, m->id, 0, why);
		return;
	}
	if ((n = sign(pkey, op, pad, v->p, v->len, sig, sizeof(sig))) == 0) {
		link_reply_err(l, m->id, 0, "signing failed");
		return;
	}
	msgb_init(&mb, M_TLS_SIGNED);
	msgb_bytes(&mb, A_BODY, sig, n);
	link_reply(l, m->id, &mb);
}

static void
ca_close(struct link *l, void *arg)
{
	if (l == ca_link)
		ca_link = NULL;
	link_free(l);
}

/* A fresh ca channel to httpd replaces the old one. */
void
ca_peer(int peer, int fd)
{
	if (peer != PROC_HTTPD) {
		log_warnx("unexpected ca peer %s", proc_name(peer));
		close(fd);
		return;
	}
	if (ca_link)
		link_free(ca_link);
	ca_link = link_new(fd, peer, ca_accept, ca_request, ca_close, NULL);
}
