/* listen.c - the listening sockets master opens and hands to a worker: the
 * HTTP ones to httpd, the tunnel relay's and its status page's to tunneld,
 * and the relay's public ports when tunneld claims one. */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
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
static int owner[LISTEN_MAX];		/* PROC_HTTPD, PROC_TUNNELD */
static int nfds;

int
listen_one(const char *spec)
{
	char host[256], port[16];
	struct addrinfo hints, *res;
	int fd, on = 1, r;

	if (conf_split_hostport(spec, host, sizeof(host), port,
	    sizeof(port))) {
		log_warnx("bad listen address %s", spec);
		errno = EINVAL;
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("%s: %s", spec, gai_strerror(r));
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		fatal("socket for %s", spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1) {
		int saved = errno;
		freeaddrinfo(res);
		close(fd);
		errno = saved;
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* Listen on spec with flags f for worker id under name (NULL: spec);
 * -1 when it cannot be bound (errno). */
static int
listen_add(const char *spec, int f, int id, const char *name)
{
	if (nfds == LISTEN_MAX)
		fatalx("at most %d listen addresses", LISTEN_MAX);
	if ((fds[nfds] = listen_one(spec)) == -1)
		return -1;
	flags[nfds] = f;
	owner[nfds] = id;
	names[nfds++] = xstrdup(name ? name : spec);
	return 0;
}

/* Open every address of list p, each with flags f, for worker id under
 * name (NULL: its address). */
static void
listen_list(int p, int f, int id, const char *name)
{
	char *const *list;
	size_t n;

	list = conf_list(p, &n);
	for (size_t i = 0; i < n; i++)
		if (listen_add(list[i], f, id, name) == -1)
			fatal("cannot listen on %s", list[i]);
}

/*
 * metrics.listen, for httpd or, on a host without it, tunneld (named
 * "metrics" there): monitoring must never keep the registry from serving,
 * so an address that cannot be bound (a second instance on the default
 * port) is a warning, and that instance serves no metrics there.
 */
void
listen_metrics(void)
{
	int id = metrics_server();
	char *const *list;
	size_t n;

	if (id == PROC_MASTER)
		return;
	list = conf_list(P_METRICS_LISTEN, &n);
	for (size_t i = 0; i < n; i++)
		if (listen_add(list[i], LISTEN_F_METRICS, id, id == PROC_HTTPD ?
		    NULL : "metrics") == -1)
			log_warn("metrics.listen %s: serving no metrics there",
			    list[i]);
}

/* Open every http.listen, http.tls_listen and http.proxy_listen address;
 * any failure ends the start. */
void
listen_open_all(void)
{
	listen_list(P_HTTP_LISTEN, 0, PROC_HTTPD, NULL);
	listen_list(P_HTTP_TLS_LISTEN, LISTEN_F_TLS, PROC_HTTPD, NULL);
	listen_list(P_HTTP_PROXY_LISTEN, LISTEN_F_PROXY, PROC_HTTPD, NULL);
}

/* The relay's listeners, named "relay" (TLS) and "status" for tunneld. */
void
listen_open_tunnel(void)
{
	listen_list(P_TUNNEL_RELAY_LISTEN, LISTEN_F_TLS, PROC_TUNNELD, "relay");
	listen_list(P_TUNNEL_RELAY_STATUS_LISTEN, 0, PROC_TUNNELD, "status");
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

int
listen_owner(int i)
{
	return owner[i];
}
