/*
 * client_local.c - the client's side of a visitor's stream: the relay's
 * OPEN names the proxy and the visitor; the client dials the proxy's
 * local service, and the stream's bytes flow once it answers.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "log.h"
#include "proxyv2.h"
#include "tframe.h"
#include "util.h"

/* The relay's OPEN: "proxy\tvisitor". */
void
local_open(struct mux *mx, uint32_t id, const uint8_t *p, size_t len)
{
	char buf[TF_OPEN_MAX + 1], *tab;
	const struct tunnel_proxy *px;
	struct cstream *cs;
	struct mstream *s;
	int fd;

	memcpy(buf, p, len);
	buf[len] = '\0';
	if (strlen(buf) != len || (tab = strchr(buf, '\t')) == NULL) {
		log_warnx("relay %s: an OPEN that does not parse: refused",
		    mux_peer(mx));
		mux_stream_refuse(mx, id);
		return;
	}
	*tab++ = '\0';
	if ((px = client_proxy(buf)) == NULL || (fd = local_dial(px)) == -1) {
		log_warnx("visitor %s for proxy %s: %s%s", tab, buf, px ?
		    "cannot dial the local service: " : "no such proxy",
		    px ? strerror(errno) : "");
		mux_stream_refuse(mx, id);
		return;
	}
	if ((s = mux_stream_accept(mx, id, fd, 1, px->compression)) == NULL)
		return;
	cs = xcalloc(1, sizeof(*cs));
	cs->proxy = px;
	str_copy(cs->visitor, tab, sizeof(cs->visitor));
	mux_stream_set_tag(s, cs);
}

/* The port of an AF_INET or AF_INET6 address. */
static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/*
 * The local service answered, before a byte of the visitor's reaches it.
 * With proxy_protocol, the PROXY v2 header goes first: from the visitor to
 * the public port it came in on, at the relay's address as this tunnel
 * connection sees it.  A visitor the relay could not name gets a LOCAL
 * header, so the service sees the tunnel rather than a made-up address.
 */
void
client_local_connected(struct mux *mx, struct mstream *s)
{
	struct cstream *cs = mux_stream_tag(s);
	struct sockaddr_storage src, dst;
	uint8_t hdr[PROXYV2_OUT_MAX];
	size_t n = 0;

	if (cs == NULL || !cs->proxy->proxy_protocol)
		return;
	if (addr_parse(cs->visitor, &src) == 0 &&
	    addr_parse(mux_peer(mx), &dst) == 0) {
		set_port(&dst, cs->proxy->remote_port);
		n = proxyv2_build(hdr, (struct sockaddr *)&src,
		    (struct sockaddr *)&dst);
	}
	if (n == 0) {
		log_info("stream %u: visitor %s has no address: a LOCAL PROXY "
		    "header", mux_stream_id(s), cs->visitor);
		n = proxyv2_build(hdr, NULL, NULL);
	}
	mux_stream_prepend(s, hdr, n);
}

void
local_stream_end(struct mux *mx, struct mstream *s)
{
	free(mux_stream_tag(s));
}
