/*
 * sandbox.c - builds a worker's seccomp filter from its promises
 * (sandbox_policy.c) and installs it after the privilege drop.  Classic BPF
 * by hand, as OpenSSH's sandbox-seccomp-filter.c does (libseccomp is not a
 * dependency we take): check the architecture, refuse x32 calls, then one
 * short block per rule; whatever no rule allows traps.  The SIGSYS handler
 * says which call it was, then lets the signal kill the worker, so master
 * logs "killed by signal 31" and restarts it, and a missing entry is one log
 * line away from being found.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

#if defined(__x86_64__)
#define SB_ARCH		AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_ARCH		AUDIT_ARCH_AARCH64
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS SECCOMP_RET_KILL
#endif

#define SB_MAXINSN	1024	/* far above any policy; BPF allows 4096 */
#define SB_ARG_LO(i)	(offsetof(struct seccomp_data, args) + \
			    (i) * sizeof(uint64_t))	/* little endian */

struct sb_prog {
	struct sock_filter	insn[SB_MAXINSN];
	size_t			n;
	int			overflow;
};

/* Append one instruction; too many marks the program unusable. */
static void
emit(struct sb_prog *p, struct sock_filter f)
{
	if (p->n == SB_MAXINSN) {
		p->overflow = 1;
		return;
	}
	p->insn[p->n++] = f;
}

/* The seccomp return value of an action; SB_NEXT never reaches here. */
static uint32_t
ret_of(int action, int err)
{
	switch (action) {
	case SB_ALLOW:
		return SECCOMP_RET_ALLOW;
	case SB_ERRNO:
		return SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA);
	default:
		return SECCOMP_RET_TRAP;
	}
}

/*
 * One rule, with the system call number in the accumulator on entry and on
 * every fall-through exit:
 *	jeq nr ? next : skip the block
 *	[ld arg; and mask; jeq val ? next : +1]  ret match
 *	ret other | ld nr (SB_NEXT)
 */
static void
emit_rule(struct sb_prog *p, const struct sb_rule *r, uint32_t pid)
{
	uint32_t val = r->val == SB_VAL_PID ? pid : r->val;
	int masked = r->mask != 0xffffffffu;
	uint8_t len;

	if (r->arg < 0) {
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)r->nr, 0, 1));
		emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    ret_of(r->match, r->err)));
		return;
	}
	len = (uint8_t)(masked ? 5 : 4);
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)r->nr, 0, len));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    (uint32_t)SB_ARG_LO(r->arg)));
	if (masked)
		emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K,
		    r->mask));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val,
	    0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    ret_of(r->match, r->err)));
	if (r->other == SB_NEXT)
		emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)));
	else
		emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    ret_of(r->other, r->err)));
}

#ifdef SB_ARCH
/* Architecture check, x32 refusal, the promises' rules, then trap. */
static int
build(struct sb_prog *p, const struct sb_promise *const *pr, uint32_t pid)
{
	const struct sb_rule *r;

	p->n = 0;
	p->overflow = 0;
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch)));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SB_ARCH, 1, 0));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr)));
#ifdef __X32_SYSCALL_BIT
	/* x32 calls share the arch value: their numbers carry this bit */
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    __X32_SYSCALL_BIT, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS));
#endif
	for (; *pr; pr++)
		for (r = (*pr)->rules; r->nr != -1; r++)
			emit_rule(p, r, pid);
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_TRAP));
	return p->overflow ? -1 : 0;
}
#endif

/* Append s to buf (of size sz) at *n; a line may be cut, never overrun. */
static void
put_str(char *buf, size_t sz, size_t *n, const char *s)
{
	while (*s && *n < sz - 1)
		buf[(*n)++] = *s++;
}

/* Append v in decimal, zero-padded to width digits. */
static void
put_num(char *buf, size_t sz, size_t *n, long long v, int width)
{
	char d[24];
	int i = 0;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		d[i++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && i < (int)sizeof(d));
	while (i < width && i < (int)sizeof(d))
		d[i++] = '0';
	if (v < 0 && *n < sz - 1)
		buf[(*n)++] = '-';
	while (i > 0 && *n < sz - 1)
		buf[(*n)++] = d[--i];
}

/* "2026-11-28T23:20:01Z " as lib/log.c stamps file lines, without gmtime_r. */
static void
put_stamp(char *buf, size_t sz, size_t *n)
{
	struct timespec ts;
	long long days, secs, z, era, doe, yoe, doy, mp, y, m, d;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || ts.tv_sec < 0)
		return;
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	/* days to civil date: Howard Hinnant's algorithm */
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	put_num(buf, sz, n, y, 4);
	put_str(buf, sz, n, "-");
	put_num(buf, sz, n, m, 2);
	put_str(buf, sz, n, "-");
	put_num(buf, sz, n, d, 2);
	put_str(buf, sz, n, "T");
	put_num(buf, sz, n, secs / 3600, 2);
	put_str(buf, sz, n, ":");
	put_num(buf, sz, n, secs / 60 % 60, 2);
	put_str(buf, sz, n, ":");
	put_num(buf, sz, n, secs % 60, 2);
	put_str(buf, sz, n, "Z ");
}

/* "[stamp]name[pid]: error: sigsys: forbidden system call N\n" */
static size_t
sigsys_line(char *buf, size_t sz, const char *head, int stamp, int nr)
{
	size_t n = 0;

	put_str(buf, sz, &n, head);
	if (stamp)
		put_stamp(buf, sz, &n);
	put_str(buf, sz, &n, log_procname());
	put_str(buf, sz, &n, "[");
	put_num(buf, sz, &n, (long long)getpid(), 0);
	put_str(buf, sz, &n, "]: error: sigsys: forbidden system call ");
	put_num(buf, sz, &n, nr, 0);
	put_str(buf, sz, &n, "\n");
	return n;
}

/*
 * SIGSYS from the filter: say which call (async-signal-safe: only write(2)
 * on descriptors opened beforehand), then die of the signal so that master
 * sees it.
 */
static void
on_sigsys(int signo, siginfo_t *si, void *ctx)
{
	char line[256];
	size_t n;
	int fd;

	n = sigsys_line(line, sizeof(line), "", log_getdest() == LOG_DEST_FILE,
	    si->si_syscall);
	(void)!write(STDERR_FILENO, line, n);
	if (log_getdest() == LOG_DEST_SYSLOG && (fd = log_syslog_fd()) != -1) {
		/* <27>: LOG_DAEMON | LOG_ERR; one datagram, as syslog(3) sends */
		n = sigsys_line(line, sizeof(line), "<27>", 0, si->si_syscall);
		(void)!write(fd, line, n);
	}
	signal(SIGSYS, SIG_DFL);
	raise(SIGSYS);	/* delivered as the handler returns: SIGSYS is blocked */
}

#ifdef SB_ARCH
/* Install proc's filter on every thread, SIGSYS handler first. */
int
sandbox_install(int proc)
{
	static struct sb_prog p;	/* 8 KiB: off the stack */
	const struct sb_promise *const *pr = sandbox_policy(proc);
	struct sock_fprog fp;
	struct sigaction sa;
	long rc;

	if (pr == NULL || build(&p, pr, (uint32_t)getpid()) == -1) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		return -1;
	/* the filter needs no_new_privs; priv_drop set it already */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	fp.len = (unsigned short)p.n;
	fp.filter = p.insn;
	/* TSYNC: threads started before this point get the filter too */
	if ((rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &fp)) != 0) {
		if (rc > 0)		/* the id of a thread that could not sync */
			errno = EBUSY;
		return -1;
	}
	return (int)p.n;
}
#else
/* No filter for this architecture. */
int
sandbox_install(int proc)
{
	errno = ENOSYS;
	return -1;
}
#endif

/* Why this build cannot filter its workers, or NULL. */
const char *
sandbox_unavailable(void)
{
#if !defined(SB_ARCH)
	return "no seccomp filter for this architecture";
#elif defined(__SANITIZE_ADDRESS__)
	/*
	 * ASan and UBSan make calls of their own (sigaltstack, reading
	 * /proc/self/maps, running the symbolizer) on exactly the paths where
	 * a report matters: allowing them would widen every list, refusing
	 * them would kill the report.  Sanitizer builds run unfiltered.
	 */
	return "sanitizer build";
#else
	return NULL;
#endif
}

/* Filter this worker as configured, saying so when it does not. */
void
sandbox_start(int proc, int enabled)
{
	const char *why;
	int n;

	if (!enabled) {
		log_info("seccomp filter off (sandbox.seccomp = false)");
		return;
	}
	if ((why = sandbox_unavailable()) != NULL) {
		log_info("seccomp filter off: %s", why);
		return;
	}
	if ((n = sandbox_install(proc)) == -1)
		fatal("seccomp filter (sandbox.seccomp = false runs without)");
	log_debug("seccomp filter installed: %d instructions", n);
}
