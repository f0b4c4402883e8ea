/*
 * regmaster.c - the command line and the supervisor's main: start, stop,
 * reload, status, check, config; the admin verbs user and cert live in
 * user.c and cert.c.  Only this process reads regmaster.conf.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libutil.h>

#include "conf.h"
#include "buf.h"
#include "ev.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define EXIT_NOT_RUNNING	3
#define EXIT_CANNOT_TELL	4	/* e.g. status without the right to ask */

extern char **environ;

pid_t master_pid;
uint64_t master_started_ms;
int master_foreground;
int master_log_fd = -1;		/* a daemon's open log_file */

static const char *conf_path = SYSCONFDIR "/regmaster/regmaster.conf";
static int conf_path_given;
static void log_file_reopen(void);
static struct pidfh *pfh;
static char pid_path[1100], control_path[1100];

static void
usage(void)
{
	fprintf(stderr,
	    "usage: regmaster [-d] [-c file] start [-f]\n"
	    "       regmaster [-c file] stop | reload | status | check\n"
	    "       regmaster [-c file] gc [--dry-run]\n"
	    "       regmaster [-c file] config [--defaults]\n"
	    "       regmaster [-c file] user add|passwd [--cost N] NAME\n"
	    "       regmaster [-c file] user del NAME | list [NAME]\n"
	    "       regmaster [-c file] cert --self-signed [--force] HOST...\n");
	exit(2);
}

/* Read the configuration (defaults when the default file is absent). */
static struct conf *
load_conf(int quiet)
{
	struct conf *c = conf_new();
	char err[1024];

	if (!conf_path_given && access(conf_path, F_OK) == -1 &&
	    errno == ENOENT)
		return c;
	if (conf_load_file(c, conf_path, err, sizeof(err)) == -1) {
		if (!quiet)
			fprintf(stderr, "regmaster: %s\n", err);
		conf_free(c);
		return NULL;
	}
	return c;
}

static void
set_paths(void)
{
	if (snprintf(pid_path, sizeof(pid_path), "%s/regmaster.pid",
	    conf_str(P_RUN_DIR)) >= (int)sizeof(pid_path) ||
	    snprintf(control_path, sizeof(control_path), "%s/control.sock",
	    conf_str(P_RUN_DIR)) >= (int)sizeof(control_path))
		fatalx("run_dir too long");
}

/* Read a small text file into buf (NUL-terminated); -1 with errno. */
static int
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENODATA : errno;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The pid in the pidfile if a master still holds its lock, 0 if none does,
 * -1 (errno set) if we cannot tell.  libbsd's pidfile_open keeps an flock on
 * the file for the master's life: a pidfile nobody locks was left by a
 * master that died, and its pid may belong to any process by now.
 */
static pid_t
running_pid(void)
{
	char buf[32];
	uint64_t v;
	ssize_t n;
	int fd, held;

	if ((fd = open(pid_path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		held = 0;		/* nobody holds it: stale */
	else if (errno == EWOULDBLOCK)
		held = 1;
	else {
		close(fd);
		return -1;
	}
	n = held ? read(fd, buf, sizeof(buf) - 1) : 0;
	close(fd);			/* drops our shared lock, if taken */
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_u64(buf, 1u << 30, &v) == -1 || v == 0)
		return 0;
	if (kill((pid_t)v, 0) == -1 && errno == ESRCH)
		return 0;
	return (pid_t)v;
}

/* running_pid, or 0 after saying why it is not running or cannot tell. */
static pid_t
running_pid_or_say(int *rc)
{
	pid_t pid = running_pid();

	if (pid > 0)
		return pid;
	if (pid == -1) {
		fprintf(stderr, "regmaster: cannot tell whether it runs: %s: "
		    "%s\n", pid_path, strerror(errno));
		*rc = EXIT_CANNOT_TELL;
	} else {
		fprintf(stderr, "regmaster: not running\n");
		*rc = EXIT_NOT_RUNNING;
	}
	return 0;
}

static void
on_stopped(void)
{
	log_info("all workers stopped");
	unlink(control_path);
	pidfile_remove(pfh);
	exit(0);
}

static void
on_signal(int signo, void *arg)
{
	struct conf *c;

	switch (signo) {
	case SIGTERM:
	case SIGINT:
		log_info("stopping");
		supervise_stop_all(on_stopped);
		break;
	case SIGHUP:
		if ((c = load_conf(1)) == NULL) {
			log_warnx("reload: %s has errors, keeping the running "
			    "configuration", conf_path);
			break;
		}
		conf_free(conf_current());
		conf_use(c);
		log_setlevel((int)conf_int(P_LOG_LEVEL));
		log_file_reopen();
		audit_reopen();
		log_info("configuration reloaded");
		supervise_reconfigure();
		if (workers[PROC_HTTPD].enabled && tls_load() == -1)
			log_warnx("reload: keeping the running TLS "
			    "certificates");
		cache_resolver();
		if (workers[PROC_TUNNELD].enabled && tunnel_reload() == -1)
			log_warnx("reload: keeping the tunnel's running "
			    "certificate and CA");
		break;
	}
}

/* Tell the parent of a daemonizing start that we serve (or not). */
static void
report_ready(int fd, const char *msg)
{
	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0)
		log_warn("report to parent");
	close(fd);
}

static void
daemonize(int *ready_fd)
{
	int p[2], devnull;
	char msg[512];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n > 0 && msg[0] == '+')
			exit(0);
		msg[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "regmaster: start failed%s%s\n",
		    n > 0 ? ": " : "", n > 0 ? msg : "");
		exit(1);
	}
	close(p[0]);
	*ready_fd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	/* stderr stays until we serve, so a failing start can say why */
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		if (devnull > 2)
			close(devnull);
	}
}

static void
detach_stderr(void)
{
	int devnull;

	if ((devnull = open("/dev/null", O_RDWR)) == -1)
		return;
	dup2(devnull, 2);
	if (devnull > 2)
		close(devnull);
}

/* Open log_file for appending; -1 with errno. */
static int
log_file_open(void)
{
	return open(conf_str(P_LOG_FILE), O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640);
}

/* From now on this daemon's standard error is the log file (or nowhere). */
static void
log_to_file_or_syslog(void)
{
	if (master_log_fd == -1) {
		log_init("regmaster", LOG_DEST_SYSLOG);
		detach_stderr();
		return;
	}
	dup2(master_log_fd, 2);
	log_init("regmaster", LOG_DEST_FILE);
}

/* On reload: reopen log_file (rotation) and hand it to every worker. */
static void
log_file_reopen(void)
{
	int fd;

	if (master_foreground || *conf_str(P_LOG_FILE) == '\0') {
		if (master_log_fd != -1)
			log_warnx("going back to syslog takes a restart");
		return;
	}
	if ((fd = log_file_open()) == -1) {
		log_warn("%s", conf_str(P_LOG_FILE));
		return;
	}
	if (master_log_fd != -1)
		close(master_log_fd);
	master_log_fd = fd;
	dup2(fd, 2);
	log_init("regmaster", LOG_DEST_FILE);
	supervise_send_log_fd();
}

/* The listening sockets and the certificates of the workers that run:
 * a relay host runs no httpd; -1 said. */
static int
start_sockets_and_keys(void)
{
	if (workers[PROC_HTTPD].enabled)
		listen_open_all();
	listen_metrics();
	if (workers[PROC_HTTPD].enabled && tls_load() == -1) {
		fprintf(stderr, "regmaster: the TLS files are not usable\n");
		return -1;
	}
	cache_resolver();
	if (workers[PROC_TUNNELD].enabled && tunnel_start() == -1) {
		fprintf(stderr, "regmaster: the tunnel's files are not usable\n");
		return -1;
	}
	return 0;
}

static int
cmd_start(int argc, char **argv)
{
	pid_t other;
	int ready_fd = -1;

	if (argc > 1 && strcmp(argv[1], "-f") == 0)
		master_foreground = 1;
	else if (argc > 1)
		usage();
	supervise_init();
	if (setup_check(1, 1) != 0)
		return 1;
	if (geteuid() != 0)
		fprintf(stderr, "regmaster: not started as root: workers run "
		    "as uid %d without privilege separation\n", (int)getuid());
	pfh = pidfile_open(pid_path, 0644, &other);
	if (pfh == NULL) {
		if (errno == EEXIST)
			fprintf(stderr, "regmaster: already running (pid %d)\n",
			    (int)other);
		else
			fprintf(stderr, "regmaster: %s: %s\n", pid_path,
			    strerror(errno));
		return 1;
	}
	if (start_sockets_and_keys() == -1)
		return 1;
	if (!master_foreground && *conf_str(P_LOG_FILE) &&
	    (master_log_fd = log_file_open()) == -1) {
		fprintf(stderr, "regmaster: %s: %s\n", conf_str(P_LOG_FILE),
		    strerror(errno));
		return 1;
	}
	if (audit_open() == -1)
		return 1;
	if (!master_foreground)
		daemonize(&ready_fd);
	/* after the fork: epoll does not see a signalfd across fork */
	ev_init();
	master_pid = getpid();
	master_started_ms = now_ms();
	pidfile_write(pfh);
	setproctitle("-regmaster: master");
	control_listen(control_path);
	ev_signal(SIGTERM, on_signal, NULL);
	ev_signal(SIGINT, on_signal, NULL);
	ev_signal(SIGHUP, on_signal, NULL);
	signal(SIGPIPE, SIG_IGN);
	supervise_start_all();
	report_ready(ready_fd, "+");
	if (!master_foreground)
		log_to_file_or_syslog();
	log_info("started, pid %d", (int)master_pid);
	ev_loop();
	return 0;
}

/* A process that exited but was not reaped yet has stopped too. */
static int
pid_is_zombie(pid_t pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)) == -1)
		return 0;
	/* "pid (comm) S ...": comm may hold spaces, so look after the ')' */
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

static int
cmd_stop(void)
{
	uint64_t deadline;
	int rc = 0;
	pid_t pid = running_pid_or_say(&rc);

	if (pid == 0)
		return rc;
	if (kill(pid, SIGTERM) == -1) {
		fprintf(stderr, "regmaster: kill %d: %s\n", (int)pid,
		    strerror(errno));
		return 1;
	}
	deadline = now_ms() + (uint64_t)conf_int(P_STOP_TIMEOUT) * 1000 + 5000;
	while (now_ms() < deadline) {
		/* master removes its pidfile last; a zombie not yet reaped
		 * by its parent has stopped too */
		if ((kill(pid, 0) == -1 && errno == ESRCH) ||
		    access(pid_path, F_OK) == -1 || pid_is_zombie(pid))
			return 0;
		usleep(20000);
	}
	fprintf(stderr, "regmaster: pid %d did not stop\n", (int)pid);
	return 1;
}

static int
cmd_signal(int signo)
{
	int rc = 0;
	pid_t pid = running_pid_or_say(&rc);

	if (pid == 0)
		return rc;
	if (kill(pid, signo) == -1) {
		fprintf(stderr, "regmaster: kill %d: %s\n", (int)pid,
		    strerror(errno));
		return 1;
	}
	return 0;
}

/* Ask the master over its control socket; say why when it cannot be asked. */
static int
cmd_status(void)
{
	pid_t pid = running_pid();

	if (pid == -1) {
		printf("regmaster: cannot tell whether it runs: %s: %s\n",
		    pid_path, strerror(errno));
		return EXIT_CANNOT_TELL;
	}
	if (pid == 0) {
		printf("regmaster: not running\n");
		return EXIT_NOT_RUNNING;
	}
	if (control_query(control_path, "status", STDOUT_FILENO) == 0)
		return 0;
	if (errno == EACCES || errno == EPERM) {
		/* the socket is the master user's alone (mode 0600) */
		printf("regmaster: running (pid %d) but status needs root: "
		    "%s\n", (int)pid, strerror(errno));
		return EXIT_CANNOT_TELL;
	}
	printf("regmaster: running (pid %d) but does not answer: %s\n",
	    (int)pid, strerror(errno));
	return EXIT_CANNOT_TELL;
}

/* `regmaster gc [--dry-run]`: wait for the run, print its summary; 1 if
 * it failed or could not run. */
static int
cmd_gc(int argc, char **argv)
{
	int dry = argc == 2 && strcmp(argv[1], "--dry-run") == 0;
	pid_t pid = running_pid();
	struct buf out;
	int rc;

	if (argc > 2 || (argc == 2 && !dry))
		usage();
	if (pid <= 0) {
		printf("regmaster: %s\n", pid == 0 ? "not running" :
		    "cannot tell whether it runs");
		return pid == 0 ? EXIT_NOT_RUNNING : EXIT_CANNOT_TELL;
	}
	buf_init(&out);
	if (control_ask(control_path, dry ? "gc --dry-run" : "gc", &out) ==
	    -1) {
		printf("regmaster: running (pid %d) but does not answer: %s\n",
		    (int)pid, strerror(errno));
		buf_free(&out);
		return EXIT_CANNOT_TELL;
	}
	buf_append(&out, "", 1);
	rc = buf_avail(&out) <= 1 || strncmp(buf_head(&out), "error:", 6) == 0;
	printf("%s", buf_head(&out));
	if (buf_avail(&out) <= 1)
		printf("error: no answer\n");
	buf_free(&out);
	return rc;
}

static int
cmd_check(void)
{
	supervise_init();
	/* every part says all it finds, so one run lists every problem */
	if (setup_check(0, 1) + check_tls_files() + check_auth_files() != 0)
		return 1;
	printf("regmaster: %s: configuration ok\n",
	    conf_current()->path ? conf_current()->path : "(defaults)");
	return 0;
}

int
main(int argc, char **argv)
{
	struct conf *c;
	int ch, debug = 0;

	setproctitle_init(argc, argv, environ);
	log_init("regmaster", 1);
	while ((ch = getopt(argc, argv, "+c:d")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			conf_path_given = 1;
			break;
		case 'd':
			debug = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "config") == 0 && argc > 1 &&
	    strcmp(argv[1], "--defaults") == 0) {
		conf_print(conf_new(), stdout, 1);
		return 0;
	}
	if ((c = load_conf(0)) == NULL)
		return 1;
	conf_use(c);
	log_setlevel(debug ? LOG_LVL_DEBUG : (int)conf_int(P_LOG_LEVEL));
	set_paths();
	if (strcmp(argv[0], "start") == 0)
		return cmd_start(argc, argv);
	if (strcmp(argv[0], "stop") == 0)
		return cmd_stop();
	if (strcmp(argv[0], "reload") == 0)
		return cmd_signal(SIGHUP);
	if (strcmp(argv[0], "status") == 0)
		return cmd_status();
	if (strcmp(argv[0], "check") == 0)
		return cmd_check();
	if (strcmp(argv[0], "gc") == 0)
		return cmd_gc(argc, argv);
	if (strcmp(argv[0], "user") == 0)
		return cmd_user(argc, argv);
	if (strcmp(argv[0], "cert") == 0)
		return cmd_cert(argc, argv);
	if (strcmp(argv[0], "config") == 0) {
		conf_print(c, stdout, 0);
		return 0;
	}
	usage();
}
