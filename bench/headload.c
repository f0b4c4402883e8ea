/* headload: tiny keep-alive HEAD load generator for bench/bench.sh.
 * wrk 4.1 cannot drive HEAD (it waits for a Content-Length body that never
 * comes), so blob HEAD is measured with this instead.  Output mimics wrk's
 * summary lines so bench.sh parses both the same way.
 *
 * usage: headload HOST PORT PATH CONNS SECONDS THREADS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn { int fd; size_t len; char buf[8192]; };
struct thr { int nconn; long ok, bad, err, proto; pthread_t t; };

static struct sockaddr_in addr;
static char req[2048];
static size_t reqlen;
static double deadline;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(int ep, struct conn *c)
{
	int one = 1;
	c->len = 0;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -1;
	return write(c->fd, req, reqlen) == (ssize_t)reqlen ? 0 : -1;
}

static void *run(void *arg)
{
	struct thr *t = arg;
	int ep = epoll_create1(0);
	struct conn *cs = calloc(t->nconn, sizeof *cs);
	struct epoll_event evs[256];

	for (int i = 0; i < t->nconn; i++)
		if (dial(ep, &cs[i]) < 0)
			t->err++;
	while (now() < deadline) {
		int n = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				t->err++;
				close(c->fd);
				if (dial(ep, c) < 0)
					t->err++;
				continue;
			}
			c->len += r;
			c->buf[c->len] = 0;
			char *end = strstr(c->buf, "\r\n\r\n");
			if (!end)
				continue;
			int code = 0;
			sscanf(c->buf, "HTTP/1.%*d %d", &code);
			if (code >= 200 && code < 400)
				t->ok++;
			else
				t->bad++;
			size_t used = end + 4 - c->buf;
			if (used != c->len) { /* body after a HEAD response */
				t->proto++;
				close(c->fd);
				if (dial(ep, c) < 0)
					t->err++;
				continue;
			}
			c->len = 0;
			if (write(c->fd, req, reqlen) != (ssize_t)reqlen) {
				t->err++;
				close(c->fd);
				if (dial(ep, c) < 0)
					t->err++;
			}
		}
	}
	for (int i = 0; i < t->nconn; i++)
		close(cs[i].fd);
	close(ep);
	free(cs);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: headload HOST PORT PATH CONNS SECONDS THREADS\n");
		return 2;
	}
	int conns = atoi(argv[4]), secs = atoi(argv[5]), nt = atoi(argv[6]);
	if (conns < 1 || secs < 1 || nt < 1 || nt > conns)
		return 2;
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1)
		return 2;
	reqlen = snprintf(req, sizeof req, "HEAD %s HTTP/1.1\r\nHost: %s:%s\r\n"
	                  "Accept: */*\r\n\r\n", argv[3], argv[1], argv[2]);
	struct thr *ts = calloc(nt, sizeof *ts);
	double t0 = now();
	deadline = t0 + secs;
	for (int i = 0; i < nt; i++) {
		ts[i].nconn = conns / nt + (i < conns % nt);
		pthread_create(&ts[i].t, NULL, run, &ts[i]);
	}
	long ok = 0, bad = 0, err = 0, proto = 0;
	for (int i = 0; i < nt; i++) {
		pthread_join(ts[i].t, NULL);
		ok += ts[i].ok; bad += ts[i].bad; err += ts[i].err; proto += ts[i].proto;
	}
	double el = now() - t0;
	printf("headload HEAD http://%s:%s%s, %d threads, %d connections, %.2fs\n",
	       argv[1], argv[2], argv[3], nt, conns, el);
	printf("  %ld requests in %.2fs\n", ok + bad, el);
	if (err || proto)
		printf("  Socket errors: connect/read/write %ld, body after HEAD %ld\n", err, proto);
	if (bad)
		printf("  Non-2xx or 3xx responses: %ld\n", bad);
	printf("Requests/sec: %10.2f\n", (ok + bad) / el);
	return 0;
}
