/*
 * test_sandbox.c - unit tests for lib/sandbox.c and lib/sandbox_policy.c:
 * each worker's filter is loaded in a forked child; what the worker needs
 * works, what it must never do (exec, fork, ptrace, sockets, writing files
 * where it may not, executable memory, signalling others) kills the child
 * with SIGSYS after the handler named the call.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "sandbox.h"

#define CHILD_OK	0	/* every call did what the test expected */
#define CHILD_BAD	99	/* a call the filter should allow failed */

static char tmpdir[] = "/tmp/test_sandbox.XXXXXX";

typedef int (*child_fn)(void);

/*
 * Run fn in a child sandboxed as worker proc; return its wait status and
 * what it wrote to stderr (the SIGSYS handler's line) in err.
 */
static int
run_sandboxed(int proc, child_fn fn, char *err, size_t errsz)
{
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		log_init(proc_name(proc), LOG_DEST_STDERR);
		if (sandbox_install(proc) == -1)
			_exit(98);
		_exit(fn());
	}
	close(fds[1]);
	while ((size_t)got < errsz - 1 &&
	    (n = read(fds[0], err + got, errsz - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* fn must survive proc's filter with every check in it passing. */
static void
expect_ok(int proc, child_fn fn)
{
	char err[512];
	int st = run_sandboxed(proc, fn, err, sizeof(err));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == CHILD_OK,
	    "%s: child status %#x, stderr '%s'", proc_name(proc), st, err);
}

/*
 * fn must die of SIGSYS under proc's filter, naming system call nr; nr -1:
 * quietly, as when glibc's pthread_create has every signal blocked around
 * clone, and the kernel then kills without running the handler.
 */
static void
expect_sigsys(int proc, child_fn fn, long nr)
{
	char err[512], want[64];
	int st = run_sandboxed(proc, fn, err, sizeof(err));

	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	    "%s: child status %#x, not SIGSYS (stderr '%s')", proc_name(proc),
	    st, err);
	if (nr == -1)
		return;
	snprintf(want, sizeof(want), "forbidden system call %ld\n", nr);
	ck_assert_msg(strstr(err, want) != NULL, "%s: stderr '%s' lacks '%s'",
	    proc_name(proc), err, want);
	ck_assert_msg(strncmp(err, proc_name(proc), strlen(proc_name(proc)))
	    == 0, "handler line '%s' does not name the worker", err);
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* A qsort big enough for glibc's merge buffer, which first asks sysinfo
 * how much memory the machine has (storaged sorts its index at start; a
 * missing rule killed it on every restart over a large store). */
static int
sort_calls(void)
{
	enum { N = 8192 };
	int *v = malloc(N * sizeof(*v));

	if (v == NULL)
		return CHILD_BAD;
	for (int i = 0; i < N; i++)
		v[i] = (i * 7919) % N;
	qsort(v, N, sizeof(*v), int_cmp);
	for (int i = 0; i < N; i++)
		if (v[i] != i)
			return free(v), CHILD_BAD;
	free(v);
	return CHILD_OK;
}

/* What every worker does: pipes, memory, the event loop, time, logging. */
static int
common_calls(void)
{
	char buf[4] = "abc", *p;
	struct timespec ts;
	int fds[2], ep;

	if (pipe2(fds, O_CLOEXEC) == -1 || write(fds[1], buf, 3) != 3 ||
	    read(fds[0], buf, 3) != 3 || close(fds[0]) || close(fds[1]))
		return CHILD_BAD;
	if ((p = malloc(1 << 20)) == NULL)
		return CHILD_BAD;
	memset(p, 1, 1 << 20);
	free(p);
	p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 65536) == -1)
		return CHILD_BAD;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1 || close(ep) == -1)
		return CHILD_BAD;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 || getpid() <= 0)
		return CHILD_BAD;
	/* syslog(3) reconnecting: refused quietly, the worker lives on */
	if (socket(AF_UNIX, SOCK_DGRAM, 0) != -1 || errno != EACCES)
		return CHILD_BAD;
	/* clone3 says ENOSYS so that glibc falls back to clone */
	if (syscall(__NR_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return CHILD_BAD;
	log_warnx("a log line");
	return sort_calls();
}

static int
do_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return CHILD_BAD;
}

static int
do_fork(void)
{
	pid_t pid = fork();	/* glibc: clone without CLONE_THREAD */

	if (pid == 0)
		_exit(CHILD_BAD);
	return CHILD_BAD;
}

static int
do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return CHILD_BAD;
}

static int
do_socket_inet(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd != -1)
		close(fd);
	return CHILD_BAD;
}

static int
do_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return CHILD_BAD;
}

/* Signal another process (our parent, the test): never allowed. */
static int
do_kill_parent(void)
{
	syscall(__NR_tgkill, getppid(), getppid(), 0);
	return CHILD_BAD;
}

static int
do_open_write(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/w", tmpdir);
	open(path, O_WRONLY | O_CREAT, 0600);
	return CHILD_BAD;
}

static int
do_unlink(void)
{
	unlinkat(AT_FDCWD, tmpdir, AT_REMOVEDIR);
	return CHILD_BAD;
}

static int thread_ran;

static void *
thread_main(void *arg)
{
	thread_ran = 1;
	return arg;
}

static int
do_thread(void)
{
	pthread_t t;
	void *r = NULL;

	if (pthread_create(&t, NULL, thread_main, &thread_ran) != 0 ||
	    pthread_join(t, &r) != 0 || r != &thread_ran || !thread_ran)
		return CHILD_BAD;
	return CHILD_OK;
}

/* storaged's store work: create, write, fsync, rename, list, remove. */
static int
store_calls(void)
{
	char buf[64];
	int dfd, fd;

	if ((dfd = open(tmpdir, O_RDONLY | O_DIRECTORY)) == -1 ||
	    mkdirat(dfd, "d", 0700) == -1 ||
	    (fd = openat(dfd, "d/tmp", O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return CHILD_BAD;
	if (write(fd, "x", 1) != 1 || fsync(fd) == -1 || ftruncate(fd, 0) ||
	    close(fd) == -1)
		return CHILD_BAD;
	if (renameat(dfd, "d/tmp", dfd, "d/data") == -1 ||
	    linkat(dfd, "d/data", dfd, "d/link", 0) == -1 ||
	    readlinkat(dfd, "d/data", buf, sizeof(buf)) != -1)
		return CHILD_BAD;
	if (unlinkat(dfd, "d/data", 0) == -1 ||
	    unlinkat(dfd, "d/link", 0) == -1 ||
	    unlinkat(dfd, "d", AT_REMOVEDIR) == -1 || close(dfd) == -1)
		return CHILD_BAD;
	return do_thread();
}

/* A port of its own: only master may open one (bind fails, listen traps);
 * the resolver's names are tunneld's to read (uname). */
static int
tunneld_no_bind(void)
{
	struct sockaddr_in sin;
	struct utsname u;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != -1 ||
	    errno != EACCES || uname(&u) == -1)
		return CHILD_BAD;
	return CHILD_OK;
}

static int
do_listen(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)listen(fd, 1);
	return CHILD_BAD;
}

/* gcd, authd, tunneld may read files. */
static int
read_calls(void)
{
	int fd;

	if ((fd = open(tmpdir, O_RDONLY | O_DIRECTORY)) == -1 || close(fd))
		return CHILD_BAD;
	return CHILD_OK;
}

/* httpd opens nothing: a library trying to read a file gets EACCES. */
static int
httpd_calls(void)
{
	if (open(tmpdir, O_RDONLY | O_DIRECTORY) != -1 || errno != EACCES)
		return CHILD_BAD;
	return CHILD_OK;
}

/* tunneld dials out: it may make IP sockets (and connect them). */
static int
tunneld_calls(void)
{
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 || close(fd) == -1)
		return CHILD_BAD;
	return read_calls();
}

START_TEST(common_allowed)
{
	expect_ok(_i, common_calls);
}
END_TEST

START_TEST(never_exec_fork_ptrace)
{
	expect_sigsys(_i, do_execve, __NR_execve);
	expect_sigsys(_i, do_fork, __NR_clone);
	expect_sigsys(_i, do_ptrace, __NR_ptrace);
	expect_sigsys(_i, do_mmap_exec, __NR_mmap);
	expect_sigsys(_i, do_kill_parent, __NR_tgkill);
}
END_TEST

START_TEST(per_worker)
{
	switch (_i) {
	case PROC_HTTPD:
		expect_ok(_i, httpd_calls);
		expect_sigsys(_i, do_open_write, __NR_openat);
		expect_sigsys(_i, do_socket_inet, __NR_socket);
		expect_sigsys(_i, do_thread, -1);	/* clone, signals blocked */
		break;
	case PROC_STORAGED:
		expect_ok(_i, store_calls);
		expect_sigsys(_i, do_socket_inet, __NR_socket);
		break;
	case PROC_AUTHD:
		expect_ok(_i, do_thread);	/* bcrypt, the audit writer */
		/* FALLTHROUGH */
	case PROC_GCD:
		expect_ok(_i, read_calls);
		expect_sigsys(_i, do_open_write, __NR_openat);
		expect_sigsys(_i, do_unlink, __NR_unlinkat);
		expect_sigsys(_i, do_socket_inet, __NR_socket);
		break;
	case PROC_TUNNELD:
		expect_ok(_i, tunneld_calls);
		expect_sigsys(_i, do_open_write, __NR_openat);
		/* master opens every listening socket, public ports too */
		expect_ok(_i, tunneld_no_bind);
		expect_sigsys(_i, do_listen, __NR_listen);
		break;
	}
}
END_TEST

/* Only workers have a policy: master is never filtered. */
START_TEST(policy_table)
{
	ck_assert_ptr_null(sandbox_policy(PROC_MASTER));
	ck_assert_ptr_null(sandbox_policy(PROC_MAX));
	for (int i = PROC_HTTPD; i < PROC_MAX; i++)
		ck_assert_ptr_nonnull(sandbox_policy(i));
	ck_assert_int_eq(sandbox_install(PROC_MASTER), -1);
}
END_TEST

static Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filters");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, common_allowed, PROC_HTTPD, PROC_MAX);
	tcase_add_loop_test(tc, never_exec_fork_ptrace, PROC_HTTPD, PROC_MAX);
	tcase_add_loop_test(tc, per_worker, PROC_HTTPD, PROC_MAX);
	tcase_add_test(tc, policy_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int nfail;

	if (sandbox_unavailable() != NULL) {
		/* e.g. ASan's own sigaltstack: such builds run unfiltered */
		printf("skipped: %s\n", sandbox_unavailable());
		return 77;
	}
	sr = srunner_create(sandbox_suite());
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(tmpdir);
	return nfail == 0 ? 0 : 1;
}
