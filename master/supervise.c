/*
 * supervise.c - spawning the workers, wiring their peer sockets, watching
 * their health and restarting them with backoff, postfix-master style.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_held.h"
#include "conf.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define PING_INTERVAL_MS	5000
#define PING_MISSES		3	/* then the worker is hung: kill it */
/* Before its first answer a worker may be busy starting (storaged reads
 * the whole index of a large store): allow it five minutes. */
#define PING_MISSES_START	60
#define QUICK_DEATH_MS		10000	/* a shorter life counts as a crash loop */
#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		60000
#define THROTTLE_STREAK		3

struct worker workers[PROC_MAX];
static int stopping;
static void (*stop_done)(void);
static struct ev_timer kill_timer;

/* Which processes talk to each other directly, over master-made pairs;
 * the third column is M_PEER's A_FLAGS (PEER_F_CA: httpd's synchronous
 * channel to authd's key holder, beside their ordinary link). */
static const int peer_pairs[][3] = {
	{ PROC_HTTPD, PROC_STORAGED, 0 },
	{ PROC_HTTPD, PROC_AUTHD, 0 },
	{ PROC_HTTPD, PROC_AUTHD, PEER_F_CA },
	{ PROC_GCD, PROC_STORAGED, 0 },
};

/* Workers mostly only reply to master; tunneld claims public ports,
 * httpd asks for the metrics page and readiness (tunneld does where it
 * serves the metrics listener: worker_request checks it is the one). */
static const struct link_accept master_accept[] = {
	{ PROC_TUNNELD, M_TUNNEL_BIND, 0 },
	{ PROC_HTTPD, M_SCRAPE, 0 },
	{ PROC_HTTPD, M_READY_GET, 0 },
	{ PROC_TUNNELD, M_SCRAPE, 0 },
	{ PROC_TUNNELD, M_READY_GET, 0 },
	{ PROC_GCD, M_GC_USAGE, 0 },
	{ 0, 0, 0 }
};

static void worker_spawn(struct worker *);

/* Signal the worker's whole process group (its own, made at spawn). */
static void
worker_signal(struct worker *w, int signo)
{
	if (kill(-w->pid, signo) == -1)
		kill(w->pid, signo);	/* not a group leader (yet) */
}

const char *
wstate_name(enum wstate s)
{
	static const char *n[] = { "stopped", "starting", "running",
	    "throttled" };
	return n[s];
}

static void
send_conf(struct worker *w)
{
	unsigned bit = 1u << w->id;
	struct conf *c = conf_current();
	struct msgb mb;
	char *red;

	for (int p = 0; p < P_MAX; p++) {
		if (!(conf_params[p].workers & bit))
			continue;
		/* upstream credentials go to httpd alone, which dials */
		red = p == P_CACHE_UPSTREAMS && w->id != PROC_HTTPD ?
		    cache_upstreams_redact(c->v[p].s) : NULL;
		msgb_init(&mb, M_CONF_SET);
		msgb_str(&mb, A_NAME, conf_params[p].name);
		msgb_str(&mb, A_VALUE, red ? red : c->v[p].s);
		link_notify(w->link, &mb);
		free(red);
	}
	msgb_init(&mb, M_CONF_END);
	link_notify(w->link, &mb);
}

static void
send_listeners(struct worker *w)
{
	struct msgb mb;
	int fd;

	for (int i = 0; i < listen_count(); i++) {
		if (listen_owner(i) != w->id)
			continue;
		if ((fd = dup(listen_fd(i))) == -1)
			fatal("dup");
		msgb_init(&mb, M_LISTEN);
		msgb_fd(&mb, A_FD, fd);
		msgb_str(&mb, A_NAME, listen_name(i));
		if (listen_flags(i))
			msgb_u64(&mb, A_FLAGS, (uint64_t)listen_flags(i));
		link_notify(w->link, &mb);
	}
}

static void
send_peer(struct worker *w, int peer, int fd, int flags)
{
	struct msgb mb;

	msgb_init(&mb, M_PEER);
	msgb_u64(&mb, A_PEER, (uint64_t)peer);
	msgb_fd(&mb, A_FD, fd);
	if (flags)
		msgb_u64(&mb, A_FLAGS, (uint64_t)flags);
	link_notify(w->link, &mb);
}

/* Give w and every live partner of w a fresh socketpair. */
static void
wire_peers(struct worker *w)
{
	int sv[2];

	for (size_t i = 0; i < nitems(peer_pairs); i++) {
		int a = peer_pairs[i][0], b = peer_pairs[i][1], other;
		if (w->id != a && w->id != b)
			continue;
		other = w->id == a ? b : a;
		if (workers[other].link == NULL)
			continue;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    sv) == -1)
			fatal("socketpair");
		send_peer(w, other, sv[0], peer_pairs[i][2]);
		send_peer(&workers[other], w->id, sv[1], peer_pairs[i][2]);
	}
}

static void
on_pong(struct link *l, struct msg *m, void *arg)
{
	struct worker *w = arg;

	if (m == NULL || m->type != M_PONG)
		return;
	w->ping_out = 0;
	w->answered = 1;
	if (w->state == WS_STARTING || w->state == WS_THROTTLED)
		w->state = WS_RUNNING;
}

static void
ping_worker(void *arg)
{
	struct worker *w = arg;
	struct msgb mb;

	if (w->link == NULL)
		return;
	if (w->ping_out >= (w->answered ? PING_MISSES : PING_MISSES_START)) {
		log_warnx("%s (pid %d) does not answer: killing it",
		    proc_name(w->id), (int)w->pid);
		worker_signal(w, SIGKILL);
		return;
	}
	w->ping_out++;
	msgb_init(&mb, M_PING);
	link_request(w->link, &mb, on_pong, w);
	ev_timer_arm(&w->ping_timer, PING_INTERVAL_MS);
}

static void
on_worker_close(struct link *l, void *arg)
{
	struct worker *w = arg;

	/* The process is gone or broke protocol; SIGCHLD does the rest. */
	if (w->link == l) {
		w->link = NULL;
		if (w->pid > 0)
			worker_signal(w, SIGKILL);
	}
	link_free(l);
}

static void
worker_request(struct link *l, struct msg *m, void *arg)
{
	switch (m->type) {
	case M_TUNNEL_BIND:
		tunnel_request(l, m);
		break;
	case M_SCRAPE:
	case M_READY_GET:
		if (link_peer(l) != metrics_server())
			link_reply_err(l, m->id, 403, "not the metrics server");
		else if (m->type == M_SCRAPE)
			metrics_scrape_request(l, m);
		else
			metrics_ready_request(l, m);
		break;
	case M_GC_USAGE:
		gc_usage(l, m);
		break;
	}
}

/* httpd and authd start OpenSSL before their sandbox only for TLS or
 * users (lib/ossl.h): in a plain open registry its pages stay out. */
static int
wants_crypto(int id)
{
	size_t n;

	if (id == PROC_TUNNELD)
		return tunnel_enabled();
	if (id != PROC_HTTPD && id != PROC_AUTHD)
		return 0;
	(void)conf_list(P_HTTP_TLS_LISTEN, &n);
	return n > 0 || conf_str(P_AUTH_HTPASSWD)[0] != '\0' ||
	    (id == PROC_HTTPD && cache_enabled());
}

static void
child_exec(struct worker *w, int ctl)
{
	char path[1024], *argv[14];
	int argc = 0;

	/* its own process group, so master can signal all it starts; in the
	 * foreground that is a background group of the terminal, which must
	 * not stop it for writing its log there (stty tostop) */
	setpgid(0, 0);
	if (master_foreground)
		signal(SIGTTOU, SIG_IGN);
	/* the log file first: it may sit on the control descriptor's number */
	if (!master_foreground && master_log_fd != -1)
		dup2(master_log_fd, 2);		/* workers log into the file */
	if (dup2(ctl, PROC_CONTROL_FD) == -1)
		_exit(127);
	closefrom(PROC_CONTROL_FD + 1);
	if (!master_foreground && master_log_fd == -1) {
		/* a daemon's workers log to syslog; stderr goes nowhere */
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull != -1 && devnull != 2) {
			dup2(devnull, 2);
			close(devnull);
		}
	}
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (worker_path(w->id, path, sizeof(path)) == -1)
		_exit(127);
	argv[argc++] = (char *)proc_name(w->id);
	if (master_foreground)
		argv[argc++] = "-f";
	else if (master_log_fd != -1)
		argv[argc++] = "-l";	/* stderr is the log file */
	if (log_getlevel() >= LOG_LVL_DEBUG)
		argv[argc++] = "-d";
	if (wants_crypto(w->id))
		argv[argc++] = "-c";
	if (geteuid() == 0) {
		argv[argc++] = "-u";
		argv[argc++] = (char *)worker_user(w->id);
		argv[argc++] = "-r";
		argv[argc++] = (char *)worker_chroot(w->id);
		if (worker_group_of(w->id)) {
			argv[argc++] = "-g";
			argv[argc++] = (char *)worker_group_of(w->id);
		}
	} else if (worker_chroot(w->id)) {
		argv[argc++] = "-r";
		argv[argc++] = (char *)worker_chroot(w->id);
	}
	argv[argc] = NULL;
	execv(path, argv);
	log_warn("exec %s", path);
	_exit(127);
}

static void
worker_spawn(struct worker *w)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	if ((pid = fork()) == -1) {
		log_warn("fork %s", proc_name(w->id));
		close(sv[0]);
		close(sv[1]);
		ev_timer_arm(&w->restart_timer, BACKOFF_MAX_MS);
		return;
	}
	if (pid == 0)
		child_exec(w, sv[1]);
	close(sv[1]);
	setpgid(pid, pid);	/* also here: no signal may beat the child's */
	w->pid = pid;
	w->started_ms = now_ms();
	w->ping_out = 0;
	w->answered = 0;
	if (w->state != WS_THROTTLED)
		w->state = WS_STARTING;
	w->link = link_new(sv[0], w->id, master_accept, worker_request,
	    on_worker_close, w);
	if (w->id == PROC_STORAGED)
		repair_channel_open(w);
	send_conf(w);
	cache_send(w);
	audit_send(w);
	send_listeners(w);
	wire_peers(w);
	tls_send(w);
	if (w->id == PROC_TUNNELD)
		tunnel_send(w);
	ping_worker(w);
	log_debug("started %s, pid %d", proc_name(w->id), (int)pid);
}

static void
restart_worker(void *arg)
{
	struct worker *w = arg;

	if (!stopping && w->pid == 0)
		worker_spawn(w);
}

/* Quick deaths in a row double the wait before the next start. */
static uint64_t
backoff_ms(struct worker *w)
{
	uint64_t lived = now_ms() - w->started_ms, d;

	if (lived >= QUICK_DEATH_MS) {
		w->streak = 0;
		return 0;
	}
	d = BACKOFF_MIN_MS << (w->streak < 10 ? w->streak : 10);
	w->streak++;
	if (w->streak >= THROTTLE_STREAK)
		w->state = WS_THROTTLED;
	return d > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : d;
}

static void
all_gone_check(void)
{
	for (int i = 1; i < PROC_MAX; i++)
		if (workers[i].pid > 0)
			return;
	ev_timer_cancel(&kill_timer);
	if (stop_done)
		stop_done();
}

static void
worker_exited(struct worker *w, int status)
{
	uint64_t delay;
	pid_t pgid = w->pid;

	if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d", proc_name(w->id),
		    (int)w->pid, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0 || !stopping)
		log_warnx("%s (pid %d) exited with status %d",
		    proc_name(w->id), (int)w->pid, WEXITSTATUS(status));
	w->pid = 0;
	if (w->id == PROC_STORAGED)
		repair_channel_close();
	/* nothing it started may outlive it: its group, then any orphan */
	kill(-pgid, SIGKILL);
	orphans_reap();
	ev_timer_cancel(&w->ping_timer);
	if (w->link) {
		struct link *l = w->link;
		w->link = NULL;
		link_free(l);
	}
	if (stopping) {
		w->state = WS_STOPPED;
		all_gone_check();
		return;
	}
	w->restarts++;
	delay = backoff_ms(w);
	log_info("restarting %s in %llu ms", proc_name(w->id),
	    (unsigned long long)delay);
	ev_timer_arm(&w->restart_timer, delay);
}

static void
on_sigchld(int signo, void *arg)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 1; i < PROC_MAX; i++)
			if (workers[i].pid == pid)
				worker_exited(&workers[i], status);
	}
}

void
supervise_init(void)
{
	static const int enable_param[PROC_MAX] = {
		0, P_W_HTTPD, P_W_STORAGED, P_W_AUTHD, P_W_TUNNELD, P_W_GCD
	};

	for (int i = 1; i < PROC_MAX; i++) {
		struct worker *w = &workers[i];
		w->id = i;
		w->enabled = conf_bool(enable_param[i]);
		ev_timer_init(&w->restart_timer, restart_worker, w);
		ev_timer_init(&w->ping_timer, ping_worker, w);
	}
}

void
supervise_start_all(void)
{
	/* storaged and authd first, so httpd finds its peers at once */
	static const int order[] = { PROC_STORAGED, PROC_AUTHD, PROC_HTTPD,
	    PROC_TUNNELD, PROC_GCD };

	orphans_init();
	ev_signal(SIGCHLD, on_sigchld, NULL);
	for (size_t i = 0; i < nitems(order); i++)
		if (workers[order[i]].enabled)
			worker_spawn(&workers[order[i]]);
}

/* After a reload: every running worker gets its part of the new config. */
void
supervise_reconfigure(void)
{
	for (int i = 1; i < PROC_MAX; i++)
		if (workers[i].link) {
			send_conf(&workers[i]);
			cache_send(&workers[i]);
			audit_send(&workers[i]);
		}
}

static void
kill_stragglers(void *arg)
{
	for (int i = 1; i < PROC_MAX; i++)
		if (workers[i].pid > 0) {
			log_warnx("%s did not stop in time: killing it",
			    proc_name(i));
			worker_signal(&workers[i], SIGKILL);
		}
}

/* Every running worker gets master's (reopened) log file as stderr. */
void
supervise_send_log_fd(void)
{
	struct msgb mb;
	int fd;

	for (int i = 1; i < PROC_MAX; i++) {
		if (workers[i].link == NULL)
			continue;
		if ((fd = dup(STDERR_FILENO)) == -1) {
			log_warn("dup");
			return;
		}
		msgb_init(&mb, M_LOG_FD);
		msgb_fd(&mb, A_FD, fd);
		link_notify(workers[i].link, &mb);
	}
}

/* Ask every worker to finish; done() runs once all have exited. */
void
supervise_stop_all(void (*done)(void))
{
	struct msgb mb;

	stopping = 1;
	stop_done = done;
	ev_timer_init(&kill_timer, kill_stragglers, NULL);
	for (int i = 1; i < PROC_MAX; i++) {
		struct worker *w = &workers[i];
		ev_timer_cancel(&w->restart_timer);
		ev_timer_cancel(&w->ping_timer);
		if (w->pid <= 0)
			continue;
		if (w->link) {
			msgb_init(&mb, M_STOP);
			link_notify(w->link, &mb);
		} else
			worker_signal(w, SIGTERM);
	}
	ev_timer_arm(&kill_timer, (uint64_t)conf_int(P_STOP_TIMEOUT) * 1000 +
	    2000);
	all_gone_check();
}
