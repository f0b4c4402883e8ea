/*
 * client_local.c - the client's side of a visitor's stream: the relay's
 * OPEN names the proxy and the visitor; the client dials the proxy's
 * local service, and the stream's bytes flow once it answers.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "conf.h"
#include "log.h"
#include "tframe.h"
#include "util.h"

/* A nonblocking connect to "host:port"; the socket, or -1. */
static int
local_dial(const char *spec)
{
	char host[256], port[16];
	struct addrinfo hints, *res;
	int fd, on = 1;

	if (conf_split_hostport(spec, host, sizeof(host), port, sizeof(port)))
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd != -1) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

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
	if ((px = client_proxy(buf)) == NULL || (fd = local_dial(
	    px->local)) == -1) {
		log_warnx("visitor %s for proxy %s: %s", tab, buf, px ?
		    "cannot dial the local service" : "no such proxy");
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

/*
 * The local service answered, before a byte of the visitor's reaches it.
 * With proxy_protocol, this is where the PROXY v2 header naming the
 * visitor (cs->visitor) goes first, by mux_stream_prepend: lib/proxyv2
 * builds it.
 */
void
client_local_connected(struct mux *mx, struct mstream *s)
{
	struct cstream *cs = mux_stream_tag(s);

	if (cs && cs->proxy->proxy_protocol)
		log_debug("stream %u: visitor %s (PROXY v2 header: from "
		    "lib/proxyv2)", mux_stream_id(s), cs->visitor);
}

void
local_stream_end(struct mux *mx, struct mstream *s)
{
	free(mux_stream_tag(s));
}
