/* master.h - what the files of regmaster's supervisor share. */
#ifndef RM_MASTER_H
#define RM_MASTER_H

#include <sys/types.h>

#include "conf.h"
#include "ev.h"
#include "link.h"
#include "proc.h"

enum wstate { WS_STOPPED, WS_STARTING, WS_RUNNING, WS_THROTTLED };

struct worker {
	int		 id;
	int		 enabled;
	pid_t		 pid;
	struct link	*link;
	uint64_t	 started_ms;
	unsigned	 restarts;
	unsigned	 streak;	/* quick deaths in a row */
	enum wstate	 state;
	struct ev_timer	 restart_timer;
	struct ev_timer	 ping_timer;
	int		 ping_out;	/* pings unanswered */
	int		 answered;	/* has answered a ping since its start */
};

extern struct worker workers[PROC_MAX];
extern int master_foreground;
extern int master_log_fd;

/* supervise.c */
void	 supervise_init(void);
void	 supervise_start_all(void);
void	 supervise_reconfigure(void);
void	 supervise_stop_all(void (*done)(void));
void	 supervise_send_log_fd(void);
const char *wstate_name(enum wstate);

/* listen.c */
void	 listen_open_all(void);
void	 listen_metrics(void);
void	 listen_open_tunnel(void);
int	 listen_one(const char *spec);	/* a listening socket, or -1 */
int	 listen_owner(int i);		/* the worker it is for */
int	 listen_count(void);
int	 listen_fd(int i);
const char *listen_name(int i);
int	 listen_flags(int i);		/* LISTEN_F_* */

/* control.c */
int	 control_listen(const char *path);
int	 control_query(const char *path, const char *verb, int out_fd);
void	 control_write(int fd, const char *, size_t);
struct buf;
int	 control_ask(const char *path, const char *verb, struct buf *out);

/* gc.c: `regmaster gc` through gcd, and what gcd said of storage use */
int	 gc_control(int fd, int dry_run);	/* -1: gcd is not there */
void	 gc_usage(struct link *, struct msg *);
void	 gc_status_text(struct buf *);

/* setup.c */
int	 setup_check(int fix, int verbose);
const char *worker_user(int id);
const char *worker_chroot(int id);
const char *worker_group_of(int id);
int	 worker_path(int id, char *out, size_t outlen);
int	 worker_user_ensure(int id);

/* files.c */
int	 file_read_all(const char *path, size_t max, char **out, size_t *len);
int	 file_replace(const char *path, const void *data, size_t len,
	    mode_t mode, gid_t gid, int excl, char *err, size_t errlen);

/* user.c, cert.c: admin verbs */
int	 cmd_user(int argc, char **argv);
int	 cmd_cert(int argc, char **argv);

/* check_tls.c, check_auth.c: what `check` adds to setup_check */
int	 check_tls_files(void);
/* A PEM file master hands on: at most one A_BODY. */
#define TLS_PEM_MAX	(112 * 1024)
int	 tls_pair_check(const char *chain, size_t chainlen, const char *key,
	    size_t keylen, int *keyfault, char *why, size_t whylen);

/* tls.c: the certificate generations and their distribution */
int	 tls_load(void);		/* 0, or -1 (old generation kept) */
void	 tls_send(struct worker *);	/* a worker (re)started */
int	 check_auth_files(void);

/* store_owner.c: what of the store storaged's user must own */
#define STORE_REL_MAX	1024	/* a path of storaged's, with its NUL */
int	 store_owner_start(const char *root, const char *user, int verbose);
long	 store_owner_repair(const char *root, const char *user,
	    const char *rel, unsigned long max, unsigned long *seen);
unsigned long store_owner_report(const char *root, const char *user,
	    const char *hint);

/* store_repair.c: storaged's channel for repairs on demand */
void	 repair_channel_open(struct worker *);
void	 repair_channel_close(void);

/* audit.c: the audit file, handed to authd */
int	 audit_open(void);
void	 audit_reopen(void);
void	 audit_send(struct worker *);

/* resolver.c: resolv.conf, hosts & co. copied into worker id's chroot */
void	 resolver_files(int id);

/* tunnel.c: what master does for tunneld */
/* cache.c: the pull-through cache's files for httpd */
int	 cache_enabled(void);
void	 cache_resolver(void);		/* resolv.conf & co into httpd's chroot */
void	 cache_send(struct worker *);	/* the upstreams' CA bundles */
int	 tunnel_start(void);		/* listeners, certificate, CA */
int	 tunnel_reload(void);		/* SIGHUP: the files again */
void	 tunnel_send(struct worker *);	/* tunneld (re)started */
void	 tunnel_request(struct link *, struct msg *);
int	 tunnel_enabled(void);		/* relay or client configured */
/* tunnel_status.c: out (taken), the tunnel's lines added, to done */
struct buf;
void	 tunnel_status(struct buf *out, void (*done)(struct buf *, void *),
	    void *arg);
/* cert.c: a self-signed P-256 certificate for hosts */
int	 cert_make(const char *certpath, const char *keypath, char **hosts,
	    int n, int force);

/* metrics.c: what the metrics listener's server (httpd, or tunneld
 * without httpd: metrics_server) asks master */
void	 metrics_scrape_request(struct link *, struct msg *);
void	 metrics_ready_request(struct link *, struct msg *);
int	 metrics_server(void);

/* orphans.c */
void	 orphans_init(void);
void	 orphans_reap(void);

#endif
