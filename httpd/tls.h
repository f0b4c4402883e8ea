/*
 * tls.h - httpd's TLS: the contexts of each certificate generation master
 * sends, handshakes whose private-key operation authd does (tls.c), and
 * the reads and writes conn.c makes on a TLS connection.
 */
#ifndef RM_HTTPD_TLS_H
#define RM_HTTPD_TLS_H

#include <sys/types.h>

#include <stdint.h>

#include "link.h"

struct conn;

void	 tls_preload(void);		/* before the chroot, if -c */
void	 tls_cert(struct msg *);	/* M_TLS_CERT from master */
void	 tls_end(struct msg *);		/* M_TLS_END: the generation runs */
void	 tls_ca_peer(int fd);		/* a fresh ca channel to authd */

/* A TLS session for a new connection on fd (SSL *), NULL if none can be
 * made (no certificate yet). */
void	*tls_new(int fd);
void	 tls_free(void *);
/* 1 done, 0 waiting (c->tls_want says for what), -1 failed. */
int	 tls_handshake(struct conn *);
/* Like recv/send: bytes, 0 at the end (read), -1 with errno (EAGAIN:
 * wait for c->tls_want or, when 0, the direction asked). */
ssize_t	 tls_read(struct conn *, void *, size_t);
ssize_t	 tls_write(struct conn *, const void *, size_t);
int	 tls_pending(const struct conn *);	/* bytes SSL holds unread */
void	 tls_shutdown(struct conn *);		/* send close_notify */

/* tls_key.c: the private key httpd does not have */
struct evp_pkey_st;
struct x509_st;
/* A key for leaf's public key whose private operations authd does with
 * key keyid; NULL logged. */
struct evp_pkey_st *tls_key_remote(struct x509_st *leaf, uint64_t keyid);
void	 tls_key_channel(int fd);	/* the ca channel (taken) */

#endif
