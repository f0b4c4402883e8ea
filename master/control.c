/*
 * control.c - the control socket in run_dir: `regmaster status` connects,
 * sends one verb line and reads a text answer (`regmaster gc` waits for
 * its run: gc.c answers it later).  Only master's own user may
 * connect (mode 0600).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define CONTROL_LINE_MAX	64
#define CONTROL_TIMEOUT_MS	2000

extern pid_t master_pid;
extern uint64_t master_started_ms;

static int
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	return str_copy(sun->sun_path, path, sizeof(sun->sun_path));
}

static void
status_text(struct buf *out)
{
	uint64_t now = now_ms();

	buf_printf(out, "regmaster: running (pid %d)\n", (int)master_pid);
	for (int i = 1; i < PROC_MAX; i++) {
		struct worker *w = &workers[i];
		if (!w->enabled)
			continue;
		buf_printf(out, "%s pid=%d uptime=%llus restarts=%u state=%s\n",
		    proc_name(i), (int)w->pid,
		    w->pid > 0 ? (unsigned long long)(now - w->started_ms) /
		    1000 : 0ULL, w->restarts,
		    w->pid > 0 ? wstate_name(w->state) :
		    (w->state == WS_THROTTLED ? "throttled" : "stopped"));
	}
	gc_status_text(out);
}

/* Read one verb line, bounded in size and time. */
static int
read_line(int fd, char *line, size_t len)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n;

	while (got < len - 1) {
		if (poll(&pfd, 1, CONTROL_TIMEOUT_MS) != 1)
			return -1;
		if ((n = read(fd, line + got, len - 1 - got)) <= 0)
			return -1;
		got += (size_t)n;
		line[got] = '\0';
		if (strchr(line, '\n')) {
			*strchr(line, '\n') = '\0';
			return 0;
		}
	}
	return -1;
}

void
control_write(int fd, const char *p, size_t len)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t n;

	while (len > 0) {
		if (poll(&pfd, 1, CONTROL_TIMEOUT_MS) != 1)
			return;
		if ((n = write(fd, p, len)) <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* The answer is complete: to the client, and the connection ends. */
static void
answer(struct buf *out, void *arg)
{
	int fd = (int)(intptr_t)arg;

	control_write(fd, buf_head(out), buf_avail(out));
	close(fd);
}

static void
control_accept(int lfd, int events, void *arg)
{
	char line[CONTROL_LINE_MAX];
	struct buf out;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	buf_init(&out);
	if (read_line(fd, line, sizeof(line)) == -1)
		buf_puts(&out, "error: no verb\n");
	else if (strcmp(line, "status") == 0) {
		status_text(&out);
		/* tunneld's figures come later: the answer waits for them */
		tunnel_status(&out, answer, (void *)(intptr_t)fd);
		return;
	} else if ((strcmp(line, "gc") == 0 || strcmp(line, "gc --dry-run") ==
	    0) && gc_control(fd, line[2] != '\0') == 0) {
		buf_free(&out);		/* answered when the run is over */
		return;
	} else if (strncmp(line, "gc", 2) == 0)
		buf_puts(&out, "error: gcd is not running\n");
	else
		buf_puts(&out, "error: unknown verb\n");
	answer(&out, (void *)(intptr_t)fd);
	buf_free(&out);
}

/* Listen on path for control clients. */
int
control_listen(const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	if (sun_fill(&sun, path) == -1)
		fatalx("control socket path too long: %s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	unlink(path);
	old = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (listen(fd, 16) == -1)
		fatal("listen %s", path);
	ev_add(fd, EV_READ, control_accept, NULL);
	return fd;
}

/* Client side: send verb, append the answer to out; -1 with errno if the
 * socket cannot be reached. */
int
control_ask(const char *path, const char *verb, struct buf *out)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	if (sun_fill(&sun, path) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;	/* status tells EACCES apart */
		close(fd);
		errno = saved;
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s\n", verb);
	control_write(fd, buf, strlen(buf));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		buf_append(out, buf, (size_t)n);
	close(fd);
	return 0;
}

/* control_ask, the answer copied to out_fd. */
int
control_query(const char *path, const char *verb, int out_fd)
{
	struct buf out;
	int r;

	buf_init(&out);
	if ((r = control_ask(path, verb, &out)) == 0)
		control_write(out_fd, buf_head(&out), buf_avail(&out));
	buf_free(&out);
	return r;
}
