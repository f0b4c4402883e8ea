/*
 * ossl.h - when OpenSSL starts in httpd and authd.  Starting it (the
 * configuration file, the error strings, the default provider's tables,
 * the random generator) makes about 2.7 MiB of libcrypto resident in each
 * process that does, so they start it only for TLS or users: master
 * passes -c to a worker whose configuration has either at spawn.  Started
 * then, before the chroot, it reads openssl.cnf; a worker that first needs
 * it after a reload starts it in its sandbox without the file.
 */
#ifndef RM_OSSL_H
#define RM_OSSL_H

/* Before the privilege drop, when master passed -c: openssl.cnf too. */
void	 ossl_preload(void);
/* Before a first OpenSSL call that may come without -c; cheap once
 * started. */
void	 ossl_need(void);

#endif
