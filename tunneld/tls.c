/*
 * tls.c - tunneld's TLS: the relay's context from the chain and key master
 * sends, the client's from the CA bundle (or none: a pinned fingerprint or
 * insecure), the MAC that binds the token proof to one connection, and
 * the fingerprint a client pins.  Both ends are regmaster: TLS 1.3 only.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "ossl.h"
#include "tunneld.h"

#define TUN_TLS_SUITES		"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:" \
				"TLS_AES_256_GCM_SHA384"

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static SSL_CTX *
ctx_new(const SSL_METHOD *method)
{
	SSL_CTX *ctx;

	ossl_need();
	if ((ctx = SSL_CTX_new(method)) == NULL)
		return NULL;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* read_ahead: one read() a record rather than two (its header, then
	 * its body).  Not into a bigger buffer: OpenSSL 3.0 moves what is
	 * left in it to its front before every record (a 256 KiB buffer
	 * made memmove 15% of the relay's time) */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* AES-NI makes AES-128-GCM the cheapest suite per byte here; both
	 * ends are ours, so the list is ours too */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TUN_TLS_SUITES) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The chain's certificates into ctx, the first as the leaf. */
static int
ctx_chain(SSL_CTX *ctx, const char *chain, size_t len)
{
	BIO *b = BIO_new_mem_buf(chain, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ok = x != NULL && SSL_CTX_use_certificate(ctx, x) == 1;

	X509_free(x);
	while (ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			ok = 0;
		}
	BIO_free(b);
	ERR_clear_error();
	return ok ? 0 : -1;
}

SSL_CTX *
tun_server_ctx(const char *chain, size_t chainlen, const char *key,
    size_t keylen)
{
	SSL_CTX *ctx = ctx_new(TLS_server_method());
	EVP_PKEY *pk = NULL;
	BIO *b;

	if (ctx == NULL || ctx_chain(ctx, chain, chainlen) == -1)
		goto bad;
	if ((b = BIO_new_mem_buf(key, (int)keylen)) != NULL) {
		pk = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
		BIO_free(b);
	}
	if (pk == NULL || SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto bad;
	EVP_PKEY_free(pk);
	return ctx;
bad:
	log_warnx("the relay's certificate and key are not usable: %s",
	    ERR_reason_error_string(ERR_peek_last_error()));
	ERR_clear_error();
	EVP_PKEY_free(pk);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tun_client_ctx(const char *ca, size_t calen)
{
	SSL_CTX *ctx = ctx_new(TLS_client_method());
	X509_STORE *st;
	BIO *b;
	X509 *x;
	int n = 0;

	if (ctx == NULL || ca == NULL)
		return ctx;
	st = SSL_CTX_get_cert_store(ctx);
	if ((b = BIO_new_mem_buf(ca, (int)calen)) != NULL) {
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			n += X509_STORE_add_cert(st, x) == 1;
			X509_free(x);
		}
		BIO_free(b);
	}
	ERR_clear_error();
	if (n == 0) {
		log_warnx("tunnel.client.ca holds no certificate");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int
tun_mac(SSL *ssl, const char *token, const uint8_t nonce[32],
    uint8_t mac[32])
{
	uint8_t in[64];
	unsigned int len = 32;
	int ok;

	memcpy(in, nonce, 32);
	if (SSL_export_keying_material(ssl, in + 32, 32, TUNNEL_EXPORTER_LABEL,
	    strlen(TUNNEL_EXPORTER_LABEL), NULL, 0, 0) != 1)
		return -1;
	ok = HMAC(EVP_sha256(), token, (int)strlen(token), in, sizeof(in),
	    mac, &len) != NULL && len == 32;
	OPENSSL_cleanse(in, sizeof(in));
	return ok ? 0 : -1;
}

int
tun_peer_fingerprint(SSL *ssl, uint8_t out[32])
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned int len = 0;

	if (x == NULL || X509_digest(x, EVP_sha256(), out, &len) != 1 ||
	    len != 32)
		return -1;
	return 0;
}
