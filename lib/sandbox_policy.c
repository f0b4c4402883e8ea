/*
 * sandbox_policy.c - what each worker may ask of the kernel once it has
 * dropped its privileges, as lists of "promises" in the manner of OpenBSD's
 * pledge(2).  A promise groups the system calls one purpose needs; a worker
 * names the promises it keeps.  Anything no promise allows traps (SIGSYS):
 * the worker logs "forbidden system call N" and dies, master restarts it.
 *
 * Never allowed to any worker: execve/execveat, fork (clone without
 * CLONE_THREAD, vfork), ptrace, process_vm_*, mount, chroot, setuid and
 * friends, bpf, perf_event_open, keyctl, kexec, module loading, and mapping
 * new executable memory (mmap/mprotect with PROT_EXEC).
 *
 * The order of rules matters only where one call has several rules: the
 * first that decides wins, so a promise that merely refines a call (syslog's
 * socket) passes on (SB_NEXT) what it does not decide.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <termios.h>

#include "proc.h"
#include "conf.h"
#include "sandbox.h"

#define A(nr)		{ (nr), -1, 0, 0, SB_ALLOW, 0, 0 }
#define E(nr, e)	{ (nr), -1, 0, 0, SB_ERRNO, 0, (e) }
/* argument i masked with m equals v: then, else (SB_NEXT: later rules) */
#define IF(nr, i, m, v, then, other, e) \
			{ (nr), (i), (m), (v), (then), (other), (e) }
#define ALL		0xffffffffu

/* Opened to read only: no write access, no creation, no truncation. */
#define O_WRITING	(O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)

/*
 * "stdio": work on descriptors already held, and the calls libc makes on
 * its own (exit, time, random numbers, uncontended and contended locks).
 */
static const struct sb_rule stdio[] = {
	A(__NR_read), A(__NR_write), A(__NR_readv), A(__NR_writev),
	A(__NR_pread64), A(__NR_pwrite64), A(__NR_lseek), A(__NR_close),
	A(__NR_fstat), A(__NR_newfstatat), A(__NR_fcntl), A(__NR_dup),
	A(__NR_dup3), A(__NR_pipe2), A(__NR_ftruncate),
	A(__NR_exit), A(__NR_exit_group), A(__NR_restart_syscall),
	A(__NR_getpid), A(__NR_gettid), A(__NR_getppid), A(__NR_getuid),
	A(__NR_geteuid), A(__NR_getgid), A(__NR_getegid),
	A(__NR_getresuid), A(__NR_getresgid),
	A(__NR_clock_gettime), A(__NR_clock_getres), A(__NR_gettimeofday),
	A(__NR_clock_nanosleep), A(__NR_nanosleep), A(__NR_getrandom),
	A(__NR_futex), A(__NR_sched_yield),
	/* FIONREAD: how much a pipe holds; isatty() may be asked, say no */
	IF(__NR_ioctl, 1, ALL, FIONREAD, SB_ALLOW, SB_NEXT, 0),
	IF(__NR_ioctl, 1, ALL, TCGETS, SB_ERRNO, SB_TRAP, ENOTTY),
#ifdef __NR_dup2
	A(__NR_dup2),
#endif
#ifdef __NR_time
	A(__NR_time),
#endif
	SB_END
};

/*
 * "memory": malloc and friends; never new executable mappings.  sysinfo:
 * glibc's qsort asks for the physical memory size before it allocates a
 * large merge buffer (storaged sorts its index at start).
 */
static const struct sb_rule memory[] = {
	A(__NR_brk), A(__NR_munmap), A(__NR_mremap), A(__NR_madvise),
	A(__NR_sysinfo),
	IF(__NR_mmap, 2, PROT_EXEC, 0, SB_ALLOW, SB_TRAP, 0),
	IF(__NR_mprotect, 2, PROT_EXEC, 0, SB_ALLOW, SB_TRAP, 0),
	SB_END
};

/*
 * "signals": the event loop's signalfd and masks; raise() and abort() on
 * this process only (tgkill with our own pid), so a worker cannot signal
 * master or another worker running as the same user.
 */
static const struct sb_rule signals[] = {
	A(__NR_rt_sigaction), A(__NR_rt_sigprocmask), A(__NR_rt_sigreturn),
	A(__NR_signalfd4),
	IF(__NR_tgkill, 0, ALL, SB_VAL_PID, SB_ALLOW, SB_TRAP, 0),
	SB_END
};

/* "events": lib/ev.c's epoll loop, timers, wake-ups between threads. */
static const struct sb_rule events[] = {
	A(__NR_epoll_create1), A(__NR_epoll_ctl), A(__NR_epoll_pwait),
	A(__NR_ppoll), A(__NR_timerfd_create), A(__NR_timerfd_settime),
	A(__NR_timerfd_gettime), A(__NR_eventfd2),
#ifdef __NR_epoll_pwait2
	A(__NR_epoll_pwait2),
#endif
#ifdef __NR_epoll_wait
	A(__NR_epoll_wait),
#endif
#ifdef __NR_poll
	A(__NR_poll),
#endif
	SB_END
};

/*
 * "sendfd recvfd": the message protocol on the socketpairs master handed
 * out (descriptors ride in SCM_RIGHTS), and syslog(3)'s send() on the
 * socket it connected before the chroot.
 */
static const struct sb_rule ipc[] = {
	A(__NR_sendmsg), A(__NR_recvmsg), A(__NR_sendto), A(__NR_recvfrom),
	A(__NR_shutdown),
	SB_END
};

/*
 * "syslog": when syslogd is gone, syslog(3) tries a new AF_UNIX socket on
 * every line; it gets EACCES (in a chroot /dev/log is not there anyway).
 * Every other socket() is decided by a later promise, or traps.
 */
static const struct sb_rule syslog_[] = {
	IF(__NR_socket, 0, ALL, AF_UNIX, SB_ERRNO, SB_NEXT, EACCES),
	SB_END
};

/*
 * "proc": no fork, no exec.  clone3 says ENOSYS so that glibc falls back
 * to clone, whose flags a filter can read ("thread" allows CLONE_THREAD).
 */
static const struct sb_rule proc[] = {
#ifdef __NR_clone3
	E(__NR_clone3, ENOSYS),
#endif
	SB_END
};

/* "thread": pthread_create and what a thread does for itself. */
static const struct sb_rule thread[] = {
	IF(__NR_clone, 0, CLONE_THREAD, CLONE_THREAD, SB_ALLOW, SB_TRAP, 0),
	A(__NR_set_robust_list), A(__NR_rseq), A(__NR_sched_getaffinity),
	IF(__NR_prctl, 0, ALL, PR_SET_NAME, SB_ALLOW, SB_TRAP, 0),
	SB_END
};

/* "inet accept": serve client sockets master's listeners produce. */
static const struct sb_rule inet_accept[] = {
	A(__NR_accept4), A(__NR_accept), A(__NR_setsockopt),
	A(__NR_getsockopt), A(__NR_getsockname), A(__NR_getpeername),
	SB_END
};

/*
 * "sendfile splice": blobs leave by sendfile from storaged's descriptor,
 * upload bodies go through a pipe to storaged, manifests in a sealed memfd.
 */
static const struct sb_rule zerocopy[] = {
	A(__NR_sendfile), A(__NR_splice), A(__NR_tee), A(__NR_memfd_create),
	SB_END
};

/*
 * "noopen": httpd never opens a file; a library that tries to read one
 * (it would not find it in the empty chroot) gets EACCES, opening for
 * writing traps.
 */
static const struct sb_rule noopen[] = {
	IF(__NR_openat, 2, O_WRITING, 0, SB_ERRNO, SB_TRAP, EACCES),
	SB_END
};

/* "rpath": read files and directories (resolv.conf, keys, the store). */
static const struct sb_rule rpath[] = {
	IF(__NR_openat, 2, O_WRITING, 0, SB_ALLOW, SB_TRAP, 0),
	A(__NR_getdents64), A(__NR_statx), A(__NR_readlinkat),
	A(__NR_faccessat), A(__NR_fstatfs), A(__NR_statfs),
#ifdef __NR_faccessat2
	A(__NR_faccessat2),
#endif
	SB_END
};

/*
 * "fs write in the store": storaged is the store's only writer: create,
 * write to temp, fsync, rename into place, link, remove (expiry of upload
 * directories: unlinkat AT_REMOVEDIR after getdents64).  Its root is the
 * chroot (root mode), so paths cannot leave it.
 */
static const struct sb_rule store_write[] = {
	A(__NR_openat), A(__NR_mkdirat), A(__NR_unlinkat), A(__NR_renameat2),
	A(__NR_linkat), A(__NR_fsync), A(__NR_fdatasync),
	A(__NR_sync_file_range), A(__NR_fallocate), A(__NR_utimensat),
	A(__NR_copy_file_range), A(__NR_flock),
	/* x86_64's path calls, for code that uses rename(), unlink() & co. */
#ifdef __NR_renameat
	A(__NR_renameat),
#endif
#ifdef __NR_rename
	A(__NR_rename), A(__NR_unlink), A(__NR_rmdir), A(__NR_mkdir),
	A(__NR_stat), A(__NR_lstat), A(__NR_access), A(__NR_link),
#endif
	SB_END
};

/*
 * "nice self": a thread lowers its own priority (storaged's gc removal
 * thread, setpriority(PRIO_PROCESS, 0, ...)); never another process's,
 * a group's or a user's.  Raising it needs a privilege no worker keeps.
 */
static const struct sb_rule nice_self[] = {
	IF(__NR_setpriority, 0, ALL, PRIO_PGRP, SB_ERRNO, SB_NEXT, EPERM),
	IF(__NR_setpriority, 0, ALL, PRIO_USER, SB_ERRNO, SB_NEXT, EPERM),
	IF(__NR_setpriority, 1, ALL, 0, SB_ALLOW, SB_ERRNO, EPERM),
	SB_END
};

/*
 * "inet dial": tunneld dials the relay and the local services, and
 * resolves their names: glibc reads the host name (uname) and, to sort
 * the addresses of a name, asks the kernel over AF_NETLINK which ones
 * are configured.  IP and netlink sockets only; no port of its own:
 * master opens every listening socket, the relay's public ports too, so
 * listen traps and bind fails (EACCES, which glibc's netlink query takes
 * in its stride: it sorts without that knowledge).
 */
static const struct sb_rule inet_dial[] = {
	IF(__NR_socket, 0, ALL, AF_INET, SB_ALLOW, SB_NEXT, 0),
	IF(__NR_socket, 0, ALL, AF_INET6, SB_ALLOW, SB_NEXT, 0),
	IF(__NR_socket, 0, ALL, AF_NETLINK, SB_ALLOW, SB_TRAP, 0),
	A(__NR_connect), A(__NR_uname),
	E(__NR_bind, EACCES),
	SB_END
};

#define P(n, r)	static const struct sb_promise p_##r = { n, r }
P("stdio", stdio);
P("memory", memory);
P("signals", signals);
P("events", events);
P("sendfd recvfd", ipc);
P("syslog", syslog_);
P("proc", proc);
P("thread", thread);
P("inet accept", inet_accept);
P("sendfile splice", zerocopy);
P("noopen", noopen);
P("rpath", rpath);
P("fs write in the store", store_write);
P("inet dial", inet_dial);
P("nice self", nice_self);
#undef P

#define COMMON	&p_stdio, &p_memory, &p_signals, &p_events, &p_ipc, \
		&p_syslog_, &p_proc

static const struct sb_promise *const httpd_promises[] = {
	COMMON, &p_inet_accept, &p_zerocopy, &p_noopen, NULL
};
/* a cache's httpd (cache.upstreams) also dials the upstreams, resolves
 * their names on lib/resolve's threads and reads resolv.conf & co */
static const struct sb_promise *const httpd_cache_promises[] = {
	COMMON, &p_thread, &p_inet_dial, &p_inet_accept, &p_zerocopy,
	&p_rpath, NULL
};
/* store_write before rpath: its openat allows writing, rpath's traps it */
static const struct sb_promise *const storaged_promises[] = {
	COMMON, &p_thread, &p_store_write, &p_rpath, &p_zerocopy, &p_nice_self,
	NULL
};
/* authd: bcrypt and the audit writer on threads; reads auth.htpasswd */
static const struct sb_promise *const authd_promises[] = {
	COMMON, &p_thread, &p_rpath, NULL
};
/* tunneld: reads resolv.conf and hosts to resolve names (on lookup
 * threads), nothing else */
static const struct sb_promise *const tunneld_promises[] = {
	COMMON, &p_thread, &p_inet_dial, &p_inet_accept, &p_rpath, NULL
};
/* gcd: reads the store on a thread */
static const struct sb_promise *const gcd_promises[] = {
	COMMON, &p_thread, &p_rpath, NULL
};

/* The promises worker id keeps; master and unknown ids have none. */
const struct sb_promise *const *
sandbox_policy(int id)
{
	switch (id) {
	case PROC_HTTPD:	return conf_current() != NULL &&
	    conf_str(P_CACHE_UPSTREAMS)[0] != '\0' ? httpd_cache_promises :
	    httpd_promises;
	case PROC_STORAGED:	return storaged_promises;
	case PROC_AUTHD:	return authd_promises;
	case PROC_TUNNELD:	return tunneld_promises;
	case PROC_GCD:		return gcd_promises;
	default:		return NULL;
	}
}
