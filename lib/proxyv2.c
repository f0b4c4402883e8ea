/*
 * proxyv2.c - building and strictly parsing PROXY protocol v2 headers (see
 * proxyv2.h and HAProxy's proxy-protocol.txt, section 2.2).
 */
#include <netinet/in.h>
#include <string.h>

#include "proxyv2.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define V2		0x20	/* version, high nibble of byte 12 */
#define CMD_LOCAL	0x0
#define CMD_PROXY	0x1
#define FAM_UNSPEC	0x00
#define FAM_TCP4	0x11	/* AF_INET, STREAM */
#define FAM_TCP6	0x21	/* AF_INET6, STREAM */
#define ADDR4_LEN	12
#define ADDR6_LEN	36

/* Why the fixed 16 bytes (as many as there are of them) are wrong, or NULL. */
static const char *
fixed_fault(const uint8_t *buf, size_t len)
{
	size_t n = len < sizeof(sig) ? len : sizeof(sig);

	if (memcmp(buf, sig, n) != 0)
		return "no PROXY v2 signature";
	if (len > 12 && (buf[12] & 0xf0) != V2)
		return "PROXY protocol version is not 2";
	if (len > 12 && (buf[12] & 0x0f) > CMD_PROXY)
		return "unknown PROXY command";
	if (len > 13 && (buf[12] & 0x0f) == CMD_PROXY &&
	    buf[13] != FAM_TCP4 && buf[13] != FAM_TCP6)
		return "PROXY header for other than TCP over IPv4 or IPv6";
	if (len > 15 && (size_t)(buf[14] << 8 | buf[15]) >
	    PROXYV2_MAX - PROXYV2_HDR)
		return "PROXY header longer than we take";
	return NULL;
}

/* The TLVs in the n bytes at p each lie inside them (their values unread). */
static const char *
tlv_fault(const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t vlen;

		if (n < 3)
			return "PROXY header ends inside a TLV";
		vlen = (size_t)(p[1] << 8 | p[2]);
		if (vlen > n - 3)
			return "PROXY TLV longer than its header";
		p += 3 + vlen;
		n -= 3 + vlen;
	}
	return NULL;
}

static void
addr4(struct sockaddr_storage *ss, const uint8_t *ip, const uint8_t *port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, ip, 4);
	memcpy(&sin->sin_port, port, 2);	/* both in network order */
}

static void
addr6(struct sockaddr_storage *ss, const uint8_t *ip, const uint8_t *port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, ip, 16);
	memcpy(&sin6->sin6_port, port, 2);
}

/* The addresses and TLVs of a whole header of rest bytes after the 16. */
static const char *
body_fault(const uint8_t *buf, size_t rest, struct proxyv2 *p)
{
	const uint8_t *a = buf + PROXYV2_HDR;
	size_t alen;

	memset(p, 0, sizeof(*p));
	if ((buf[12] & 0x0f) == CMD_LOCAL) {
		/* whatever a LOCAL header's family says, it names no one */
		p->local = 1;
		return NULL;
	}
	alen = buf[13] == FAM_TCP4 ? ADDR4_LEN : ADDR6_LEN;
	if (rest < alen)
		return "PROXY header shorter than its addresses";
	if (buf[13] == FAM_TCP4) {
		addr4(&p->src, a, a + 8);
		addr4(&p->dst, a + 4, a + 10);
	} else {
		addr6(&p->src, a, a + 32);
		addr6(&p->dst, a + 16, a + 34);
	}
	return tlv_fault(a + alen, rest - alen);
}

long
proxyv2_parse(const uint8_t *buf, size_t len, struct proxyv2 *p,
    const char **err)
{
	size_t rest;

	if ((*err = fixed_fault(buf, len)) != NULL)
		return -1;
	if (len < PROXYV2_HDR)
		return 0;
	rest = (size_t)(buf[14] << 8 | buf[15]);
	if (len - PROXYV2_HDR < rest)
		return 0;
	if ((*err = body_fault(buf, rest, p)) != NULL)
		return -1;
	return (long)(PROXYV2_HDR + rest);
}

/* The 16 bytes of address of sa as IPv6 (IPv4 mapped) and its port. */
static void
put6(uint8_t ip[16], uint8_t port[2], const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(ip, &s6->sin6_addr, 16);
		memcpy(port, &s6->sin6_port, 2);
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;

		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &s4->sin_addr, 4);
		memcpy(port, &s4->sin_port, 2);
	}
}

size_t
proxyv2_build(uint8_t out[PROXYV2_OUT_MAX], const struct sockaddr *src,
    const struct sockaddr *dst)
{
	uint8_t *a = out + PROXYV2_HDR;
	size_t alen;

	memcpy(out, sig, sizeof(sig));
	out[12] = V2 | (src ? CMD_PROXY : CMD_LOCAL);
	out[13] = FAM_UNSPEC;
	out[14] = out[15] = 0;
	if (src == NULL)
		return PROXYV2_HDR;
	if ((src->sa_family != AF_INET && src->sa_family != AF_INET6) ||
	    (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
		return 0;
	if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		out[13] = FAM_TCP4;
		memcpy(a, &s->sin_addr, 4);
		memcpy(a + 4, &d->sin_addr, 4);
		memcpy(a + 8, &s->sin_port, 2);
		memcpy(a + 10, &d->sin_port, 2);
		alen = ADDR4_LEN;
	} else {
		out[13] = FAM_TCP6;
		put6(a, a + 32, src);
		put6(a + 16, a + 34, dst);
		alen = ADDR6_LEN;
	}
	out[15] = (uint8_t)alen;
	return PROXYV2_HDR + alen;
}
