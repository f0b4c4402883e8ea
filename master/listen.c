/* listen.c - the HTTP listening sockets master opens and hands to httpd. */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util.h"

#define LISTEN_MAX	16

static int fds[LISTEN_MAX];
static char *names[LISTEN_MAX];
static int flags[LISTEN_MAX];		/* LISTEN_F_* */
static int nfds;

static int
listen_one(const char *spec)
{
	char host[256], port[16];
	struct addrinfo hints, *res;
	int fd, on = 1, r;

	if (conf_split_hostport(spec, host, sizeof(host), port, sizeof(port)))
		fatalx("bad listen address %s", spec);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		fatalx("%s: %s", spec, gai_strerror(r));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("socket for %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		fatal("cannot listen on %s", spec);
	if (listen(fd, 1024) == -1)
		fatal("listen %s", spec);
	freeaddrinfo(res);
	return fd;
}

/* Open every address of list p, each with flags f. */
static void
listen_list(int p, int f)
{
	char *const *list;
	size_t n;

	list = conf_list(p, &n);
	if (n > LISTEN_MAX - (size_t)nfds)
		fatalx("at most %d listen addresses", LISTEN_MAX);
	for (size_t i = 0; i < n; i++) {
		fds[nfds] = listen_one(list[i]);
		flags[nfds] = f;
		names[nfds++] = xstrdup(list[i]);
	}
}

/* Open every http.listen, http.tls_listen and http.proxy_listen address;
 * any failure ends the start. */
void
listen_open_all(void)
{
	listen_list(P_HTTP_LISTEN, 0);
	listen_list(P_HTTP_TLS_LISTEN, LISTEN_F_TLS);
	listen_list(P_HTTP_PROXY_LISTEN, LISTEN_F_PROXY);
}

int
listen_count(void)
{
	return nfds;
}

int
listen_fd(int i)
{
	return fds[i];
}

const char *
listen_name(int i)
{
	return names[i];
}

int
listen_flags(int i)
{
	return flags[i];
}
