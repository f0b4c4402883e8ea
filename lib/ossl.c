/*
 * ossl.c - starting libcrypto once, with its configuration or without
 * (libssl is httpd's: tls.c starts it after this, so that authd does not
 * link it).
 */
#include <stdint.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"
#include "ossl.h"

static int started;

static void
ossl_start(uint64_t how)
{
	unsigned char b;

	if (started)
		return;
	started = 1;
	/* one random byte seeds the generator while the source is open */
	if (OPENSSL_init_crypto(how, NULL) != 1 || RAND_bytes(&b, 1) != 1)
		log_warnx("OpenSSL not initialised");
}

void
ossl_preload(void)
{
	ossl_start(OPENSSL_INIT_LOAD_CONFIG);
}

void
ossl_need(void)
{
	if (started)
		return;
	log_info("OpenSSL started after the sandbox closed: openssl.cnf in "
	    "%s is read at the next restart", OPENSSL_info(
	    OPENSSL_INFO_CONFIG_DIR));
	ossl_start(OPENSSL_INIT_NO_LOAD_CONFIG);
}
