/*
 * client_health.c - the health checks of the client's proxies: every
 * HEALTH_EVERY_MS each proxy with health "tcp" or "http:/PATH" is probed
 * on the event loop (nonblocking, a probe still unanswered at the next
 * tick has failed); HEALTH_FAILS failures in a row make it unhealthy, one
 * success healthy again, and each change is said to the relay, which
 * skips unhealthy members when it picks where a visitor goes.
 *
 * The client probes its local service directly rather than the relay
 * probing through a tunnel stream: the tunnel itself is watched by the
 * heartbeat (a dead tunnel drops the client from its groups at once), so
 * what is left to learn is whether the service answers, and only the
 * client can reach it.  A probe through the tunnel would cost a stream per
 * check per relay and fail for reasons the heartbeat already reports.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "ctrl.h"
#include "log.h"
#include "probe.h"
#include "proxyv2.h"
#include "util.h"

#define HEALTH_EVERY_MS	2000	/* a probe each, and its deadline */
#define HEALTH_FAILS	2	/* in a row, to be unhealthy */

enum pstate { PR_IDLE, PR_CONNECT, PR_SEND, PR_READ };

struct probe {
	const struct tunnel_proxy *px;
	enum pstate	 st;
	int		 fd;
	int		 healthy;
	unsigned	 fails;
	struct ev_timer	 timer;
	int		 http;		/* else "tcp": connecting is enough */
	char		 req[PROXYV2_OUT_MAX + PROBE_REQ_MAX];
	size_t		 reqlen, sent;
	char		 line[PROBE_LINE_MAX];
	size_t		 len;
};

static struct probe probes[TUNNEL_PROXIES_MAX];
static size_t nprobes;
static void (*on_change)(const char *proxy, int healthy);

static void
probe_close(struct probe *pr)
{
	if (pr->fd != -1) {
		ev_del(pr->fd);
		close(pr->fd);
		pr->fd = -1;
	}
	pr->st = PR_IDLE;
}

/* The probe's verdict, a change logged once and told the relay. */
static void
probe_done(struct probe *pr, int good, const char *why)
{
	probe_close(pr);
	if (good) {
		pr->fails = 0;
		if (!pr->healthy) {
			pr->healthy = 1;
			log_info("proxy %s: health check %s passes again: "
			    "healthy", pr->px->name, pr->px->health);
			on_change(pr->px->name, 1);
		}
		return;
	}
	if (++pr->fails == HEALTH_FAILS && pr->healthy) {
		pr->healthy = 0;
		log_warnx("proxy %s: health check %s of %s failed %d times "
		    "(%s): unhealthy", pr->px->name, pr->px->health,
		    pr->px->local, HEALTH_FAILS, why);
		on_change(pr->px->name, 0);
	}
}

static void
probe_read(struct probe *pr)
{
	char why[64];
	ssize_t n;
	int status, r;

	n = read(pr->fd, pr->line + pr->len, sizeof(pr->line) - pr->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		probe_done(pr, 0, n == 0 ? "closed before a status line" :
		    strerror(errno));
		return;
	}
	pr->len += (size_t)n;
	if ((r = probe_status(pr->line, pr->len, &status)) == 0)
		return;
	if (r == -1)
		probe_done(pr, 0, "not an HTTP status line");
	else {
		snprintf(why, sizeof(why), "status %d", status);
		probe_done(pr, status < 500, why);
	}
}

static void
probe_io(int fd, int events, void *arg)
{
	struct probe *pr = arg;
	socklen_t sl = sizeof(int);
	ssize_t n;
	int err = 0;

	if (pr->st == PR_CONNECT) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err) {
			probe_done(pr, 0, strerror(err ? err : errno));
			return;
		}
		if (!pr->http) {
			/* the LOCAL header, if any, lest a PROXY listener
			 * log a broken connection: best effort, it fits */
			if (pr->reqlen && write(fd, pr->req, pr->reqlen) < 0)
				log_debug("proxy %s: %s", pr->px->name,
				    strerror(errno));
			probe_done(pr, 1, NULL);
			return;
		}
		pr->st = PR_SEND;
	}
	if (pr->st == PR_SEND) {
		n = write(fd, pr->req + pr->sent, pr->reqlen - pr->sent);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			probe_done(pr, 0, strerror(errno));
			return;
		}
		if (n > 0 && (pr->sent += (size_t)n) == pr->reqlen) {
			pr->st = PR_READ;
			ev_set(fd, EV_READ);
		}
		return;
	}
	probe_read(pr);
}

/* Each tick: the last probe, if unanswered, failed; the next starts. */
static void
probe_tick(void *arg)
{
	struct probe *pr = arg;

	if (pr->st != PR_IDLE)
		probe_done(pr, 0, "no answer within 2 s");
	ev_timer_arm(&pr->timer, HEALTH_EVERY_MS);
	pr->sent = pr->len = 0;
	if ((pr->fd = local_dial(pr->px)) == -1) {
		probe_done(pr, 0, "cannot dial");
		return;
	}
	pr->st = PR_CONNECT;
	ev_add(pr->fd, EV_WRITE, probe_io, pr);
}

/*
 * What a probe sends: a service behind a PROXY listener (proxy_protocol)
 * takes nothing without a header first, so the probe starts with a LOCAL
 * one (a check of the proxy itself, no visitor address); then the GET.
 */
static void
probe_prepare(struct probe *pr)
{
	const struct tunnel_proxy *px = pr->px;
	size_t n = 0, r;

	if (px->proxy_protocol)
		n = proxyv2_build((uint8_t *)pr->req, NULL, NULL);
	pr->http = strcmp(px->health, "tcp") != 0;
	r = pr->http ? probe_request(px->health, px->local, pr->req + n,
	    sizeof(pr->req) - n) : 0;
	if (pr->http && r == 0)
		fatalx("proxy %s: health %s does not make a request",
		    px->name, px->health);
	pr->reqlen = n + r;
}

void
health_start(const struct tunnel_proxy *px, size_t n,
    void (*changed)(const char *, int))
{
	on_change = changed;
	nprobes = 0;
	for (size_t i = 0; i < n; i++) {
		struct probe *pr = &probes[nprobes];
		if (strcmp(px[i].health, "none") == 0)
			continue;
		memset(pr, 0, sizeof(*pr));
		pr->px = &px[i];
		pr->fd = -1;
		pr->healthy = 1;	/* as the relay has it at first */
		probe_prepare(pr);
		ev_timer_init(&pr->timer, probe_tick, pr);
		ev_timer_arm(&pr->timer, 0);
		nprobes++;
	}
}

void
health_stop(void)
{
	for (size_t i = 0; i < nprobes; i++) {
		probe_close(&probes[i]);
		ev_timer_cancel(&probes[i].timer);
	}
	nprobes = 0;
}

/* Proxy name's health as last checked: 1 when it has no check. */
int
health_of(const char *name)
{
	for (size_t i = 0; i < nprobes; i++)
		if (strcmp(probes[i].px->name, name) == 0)
			return probes[i].healthy;
	return 1;
}
