/*
 * sandbox.h - seccomp allow-lists for the workers: each worker names the
 * "promises" it needs (groups of system calls by purpose, as OpenBSD's
 * pledge(2) does), and sandbox.c turns them into a classic BPF filter that
 * traps everything else with SIGSYS.
 */
#ifndef RM_SANDBOX_H
#define RM_SANDBOX_H

#include <stdint.h>

/* What the filter does with a call. */
enum sb_action {
	SB_ALLOW = 1,
	SB_TRAP,		/* SIGSYS: logged, then the worker dies of it */
	SB_ERRNO,		/* fails with the rule's errno, quietly */
	SB_NEXT			/* argument did not match: try the next rule */
};

/*
 * One rule: system call nr; if arg >= 0, the call's argument arg (its low
 * 32 bits) masked with mask is compared with val (SB_VAL_PID: the worker's
 * own pid): equal -> match, else -> other.  Without arg: always match.
 */
struct sb_rule {
	int		 nr;
	int		 arg;
	uint32_t	 mask;
	uint32_t	 val;
	int		 match;
	int		 other;
	int		 err;		/* errno for SB_ERRNO */
};
#define SB_VAL_PID	0xffffffffu
#define SB_END		{ -1, -1, 0, 0, 0, 0, 0 }

/* A named group of rules, ended by SB_END. */
struct sb_promise {
	const char		*name;
	const struct sb_rule	*rules;
};

/* The promises of worker proc (enum proc_id), NULL-terminated; NULL if none. */
const struct sb_promise *const *sandbox_policy(int proc);

/* Install proc's filter on every thread: its length in instructions, or -1 (errno). */
int	 sandbox_install(int proc);

/* Why this build runs its workers without a filter, or NULL if it does not. */
const char *sandbox_unavailable(void);

/* A worker's first configuration arrived: sandbox it if enabled (fatal if that fails). */
void	 sandbox_start(int proc, int enabled);

#endif
