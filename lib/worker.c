/* worker.c - the common life of a worker process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "buf.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "privsep.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"
#include "worker.h"

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
/*
 * A chrooted worker cannot read /proc, so LeakSanitizer fails at exit and
 * turns every clean stop into status 1.  Sanitizer builds run the workers
 * without it; the unit tests and fuzz targets check for leaks.
 */
const char *__lsan_default_options(void);
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static const struct worker_ops *ops;
static struct link *master;
static struct conf *pending;		/* being filled by M_CONF_SET */
static int configured_once;
static int sandboxed;			/* sandbox.seccomp at the first conf */
static int stopping;
static int crypto;			/* -c: TLS or users configured */

static const struct link_accept common_accept[] = {
	{ PROC_MASTER, M_PING, 0 },
	{ PROC_MASTER, M_CONF_SET, 0 },
	{ PROC_MASTER, M_CONF_END, 0 },
	{ PROC_MASTER, M_PEER, 0 },
	{ PROC_MASTER, M_STOP, 0 },
	{ PROC_MASTER, M_METRICS_GET, 0 },
	{ PROC_MASTER, M_LOG_FD, 0 },
	{ 0, 0, 0 }
};
static struct link_accept *accept_all;

struct link *
worker_master(void)
{
	return master;
}

void
worker_pong(struct link *l, struct msg *m)
{
	struct msgb mb;

	msgb_init(&mb, M_PONG);
	msgb_u64(&mb, A_PID, (uint64_t)getpid());
	link_reply(l, m->id, &mb);
}

int
worker_stopping(void)
{
	return stopping;
}

int
worker_crypto(void)
{
	return crypto;
}

void
worker_exit(void)
{
	log_debug("exiting");
	exit(0);
}

static void
on_conf_set(struct link *l, struct msg *m)
{
	char err[256];
	int p = conf_lookup(msg_str(m, A_NAME));

	if (pending == NULL)
		pending = conf_new();
	if (p == -1 || conf_set(pending, p, msg_str(m, A_VALUE), err,
	    sizeof(err)) == -1)
		fatalx("bad configuration from master: %s",
		    msg_str(m, A_NAME));
}

static void
on_conf_end(struct link *l, struct msg *m)
{
	struct conf *old = conf_current();

	if (pending == NULL)
		pending = conf_new();
	conf_use(pending);
	conf_free(old);
	pending = NULL;
	log_setlevel((int)conf_int(P_LOG_LEVEL));
	/* the filter goes on once, before the worker does any work */
	if (!configured_once) {
		sandboxed = conf_bool(P_SANDBOX_SECCOMP);
		sandbox_start(ops->id, sandboxed);
	} else if (conf_bool(P_SANDBOX_SECCOMP) != sandboxed)
		log_info("sandbox.seccomp changes when %s restarts",
		    proc_name(ops->id));
	if (ops->configured)
		ops->configured(!configured_once);
	configured_once = 1;
}

static void
on_peer(struct link *l, struct msg *m)
{
	uint64_t peer = msg_u64(m, A_PEER, 0);
	int fd = msg_take_fd(m, A_FD), ca = (msg_u64(m, A_FLAGS, 0) &
	    PEER_F_CA) != 0;
	void (*cb)(int, int) = ca ? ops->peer_ca : ops->peer;

	if (peer >= PROC_MAX || peer == PROC_MASTER || cb == NULL) {
		log_warnx("unexpected peer %llu%s", (unsigned long long)peer,
		    ca ? " (ca channel)" : "");
		close(fd);
		return;
	}
	cb((int)peer, fd);
}

/* The log file was reopened (rotation): write to the new one. */
static void
on_log_fd(struct link *l, struct msg *m)
{
	int fd = msg_take_fd(m, A_FD);

	if (dup2(fd, STDERR_FILENO) == -1)
		log_warn("dup2 log file");
	else
		log_init(proc_name(ops->id), LOG_DEST_FILE);
	close(fd);
}

#ifndef METRICS_PIECE_MAX
#define METRICS_PIECE_MAX	msg_attr_defs[A_BODY].max
#endif

/*
 * A scrape: what the worker counts, rendered at offset 0 and kept, so that
 * a part larger than one message (gcd's per-repository figures) goes in
 * pieces of the same text; master asks for them one after the other and
 * never runs two scrapes at once.  Whole or not at all: no truncation.
 */
static void
on_metrics_get(struct link *l, struct msg *m)
{
	static struct buf rendered;
	uint64_t off = msg_u64(m, A_OFFSET, 0);
	struct msgb mb;
	size_t n;

	if (off == 0) {
		buf_reset(&rendered);
		if (ops->metrics)
			ops->metrics(&rendered);
	}
	if (off > rendered.len) {
		link_reply_err(l, m->id, 400, "offset past the figures");
		return;
	}
	n = rendered.len - (size_t)off;
	if (n > METRICS_PIECE_MAX)
		n = METRICS_PIECE_MAX;
	msgb_init(&mb, M_METRICS);
	msgb_bytes(&mb, A_BODY, rendered.data ? rendered.data + off : "", n);
	msgb_u64(&mb, A_SIZE, rendered.len);
	link_reply(l, m->id, &mb);
}

static void
on_master_request(struct link *l, struct msg *m, void *arg)
{
	switch (m->type) {
	case M_PING:
		worker_pong(l, m);
		break;
	case M_CONF_SET:
		on_conf_set(l, m);
		break;
	case M_CONF_END:
		on_conf_end(l, m);
		break;
	case M_PEER:
		on_peer(l, m);
		break;
	case M_LOG_FD:
		on_log_fd(l, m);
		break;
	case M_METRICS_GET:
		on_metrics_get(l, m);
		break;
	case M_STOP:
		stopping = 1;
		if (ops->stop)
			ops->stop();
		else
			worker_exit();
		break;
	default:
		if (ops->request)
			ops->request(l, m);
		break;
	}
}

static void
on_master_close(struct link *l, void *arg)
{
	log_info("master went away");
	exit(0);
}

static void
on_signal(int signo, void *arg)
{
	if (signo == SIGTERM || signo == SIGINT) {
		stopping = 1;
		if (ops->stop)
			ops->stop();
		else
			worker_exit();
	}
}

/* Build one accept table: the common master requests plus the worker's. */
static const struct link_accept *
merged_accept(const struct link_accept *extra)
{
	size_t n = 0, m = 0;

	while (common_accept[n].type)
		n++;
	while (extra && extra[m].type)
		m++;
	accept_all = xcalloc(n + m + 1, sizeof(*accept_all));
	memcpy(accept_all, common_accept, n * sizeof(*accept_all));
	if (m)
		memcpy(accept_all + n, extra, m * sizeof(*accept_all));
	return accept_all;
}

/*
 * Libraries read some files on first use; in the chroot they are missing
 * and under the seccomp filter httpd may not open them: read them now.
 * syslog(3) reads the time zone; the worker's own hook preloads the
 * libraries it links (oci_preload, hash_preload; ossl_preload if master
 * passed -c), so that a worker that does not use libcrypto does not map it
 * just for this.
 */
static void
preload_files(void)
{
	tzset();
	if (ops->preload)
		ops->preload();
}

static void
usage(const char *name)
{
	log_init(name, 1);
	fatalx("usage: %s [-cd] [-f | -l] [-u user] [-r chroot] [-g group-of-user]\n"
	    "workers are started by regmaster(8), not by hand", name);
}

void
worker_main(int argc, char **argv, const struct worker_ops *o)
{
	const char *user = NULL, *dir = NULL, *group_of = NULL;
	int ch, dest = LOG_DEST_SYSLOG, debug = 0;

	ops = o;
	setproctitle_init(argc, argv, environ);
	while ((ch = getopt(argc, argv, "cdfg:lr:u:")) != -1) {
		switch (ch) {
		case 'c': crypto = 1; break;
		case 'd': debug = 1; break;
		case 'f': dest = LOG_DEST_STDERR; break;
		case 'l': dest = LOG_DEST_FILE; break;
		case 'g': group_of = optarg; break;
		case 'r': dir = optarg; break;
		case 'u': user = optarg; break;
		default: usage(proc_name(o->id));
		}
	}
	log_init(proc_name(o->id), dest);
	if (debug)
		log_setlevel(LOG_LVL_DEBUG);
	if (fcntl(PROC_CONTROL_FD, F_GETFD) == -1)
		usage(proc_name(o->id));
	setproctitle("-regmaster: %s", proc_name(o->id));
	signal(SIGPIPE, SIG_IGN);
	if (priv_is_root() && user == NULL)
		fatalx("started as root without a user to drop to");
	preload_files();
	priv_drop(user, dir, group_of);
	conf_use(conf_new());
	ev_init();
	ev_signal(SIGTERM, on_signal, NULL);
	ev_signal(SIGINT, on_signal, NULL);
	master = link_new(PROC_CONTROL_FD, PROC_MASTER, merged_accept(o->accept),
	    on_master_request, on_master_close, NULL);
	ev_loop();
	exit(0);
}
