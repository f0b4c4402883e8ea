/* tunneld.h - what the files of tunneld share (roles, TLS, the MAC). */
#ifndef TUNNELD_TUNNELD_H
#define TUNNELD_TUNNELD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "link.h"

#define TUNNEL_VERSION		PACKAGE_VERSION
#define TUNNEL_EXPORTER_LABEL	"EXPORTER-regmaster-tunnel"
#define TUNNEL_AUTH_MS		10000	/* challenge to auth, at most */

/* tls.c: the contexts of both roles (TLS 1.3 only: both ends are ours) */
SSL_CTX	*tun_server_ctx(const char *chain, size_t, const char *key, size_t);
SSL_CTX	*tun_client_ctx(const char *ca, size_t calen);
/* The client's answer to a challenge: HMAC-SHA256(token, nonce || the
 * TLS exporter value of this connection), so it proves the token, is
 * worth nothing on another connection and the token never crosses. */
int	 tun_mac(SSL *, const char *token, const uint8_t nonce[32],
	    uint8_t mac[32]);
/* "sha256:HEX" of the peer's certificate into out. */
int	 tun_peer_fingerprint(SSL *, uint8_t out[32]);

/* relay.c */
void	 relay_configured(void);
void	 relay_listener(int fd);
void	 relay_set_ctx(SSL_CTX *);
/* relay_status.c: the status document (JSON, malloc'd) that the status
 * page, `regmaster status` and metrics share */
char	*relay_status_json(void);
/* the same as a JSON object (the caller's): the status page's */
struct json_t;
struct json_t *relay_status_doc(void);
void	 relay_status_request(struct link *, struct msg *, int relay);
/* relay_metrics.c: the relay's figures for a scrape */
struct buf;
void	 relay_metrics(struct buf *);

/* client.c */
void	 client_configured(void);
void	 client_preload(void);
int	 client_running(void);
/* {"role":"client","version","name","relay","connections":[{"index",
 * "state","uptime","streams","bytes_in","bytes_out"}]}, malloc'd */
char	*client_status_json(void);
void	 client_set_ca(const char *pem, size_t len);

#endif
