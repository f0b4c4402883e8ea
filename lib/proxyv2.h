/*
 * proxyv2.h - the PROXY protocol, version 2 (HAProxy's binary header): what
 * a proxy in front of a TCP service writes first so that the service learns
 * the real client's address.  The tunnel client writes one toward its local
 * service; httpd reads one on http.proxy_listen, and nowhere else.
 *
 * The header: a 12-byte signature, version and command (1), address family
 * and transport (1), the length of the rest (2, big-endian), the addresses
 * (TCP over IPv4: 12 bytes, over IPv6: 36), then TLVs.  The parser takes
 * PROXY over TCP and LOCAL (a health check of the proxy itself: keep the
 * connection's own address) and nothing else; TLVs are walked, each
 * checked to lie inside the header, and skipped.
 */
#ifndef RM_PROXYV2_H
#define RM_PROXYV2_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROXYV2_HDR	16		/* signature, command, family, length */
#define PROXYV2_MAX	(PROXYV2_HDR + 1024)	/* the most we read of one */
#define PROXYV2_OUT_MAX	(PROXYV2_HDR + 36)	/* what we write */

struct proxyv2 {
	int			 local;	/* LOCAL: no addresses; src/dst unset */
	struct sockaddr_storage	 src;	/* the client, AF_INET or AF_INET6 */
	struct sockaddr_storage	 dst;	/* the address it connected to */
};

/*
 * Parse a header from the first len bytes of buf into p.  Returns its size
 * once it is all there, 0 if more bytes are needed (the bytes so far can
 * start a header), -1 with *err saying why for anything else — a plain
 * HTTP request is refused at its first byte.
 */
long	 proxyv2_parse(const uint8_t *buf, size_t len, struct proxyv2 *p,
	    const char **err);

/*
 * Write the header for a connection from src to dst (AF_INET or AF_INET6;
 * one of each is written as IPv6, the IPv4 one mapped) to out, or a LOCAL
 * header if src is NULL.  Returns its size, 0 for a family it cannot say.
 */
size_t	 proxyv2_build(uint8_t out[PROXYV2_OUT_MAX], const struct sockaddr *src,
	    const struct sockaddr *dst);

#endif
