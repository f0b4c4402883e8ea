/*
 * orphans.c - no process a worker started outlives it.
 *
 * master is the child subreaper of everything below it: a process that a
 * (compromised) worker forked is re-parented to master when its parent
 * dies, whatever session or process group it moved to.  setsid and setpgid
 * escape a process group, not the subreaper, and unlike a kill by uid this
 * never touches processes of another regmaster sharing the worker users.
 * So every child of master that is not a worker is an orphan of one: master
 * kills it, waits for it (its own children then come to master) and looks
 * again, a bounded number of rounds.  Between the look and the kill the pid
 * cannot be reused: a child's pid stays taken until its parent, master,
 * which is busy here, waits for it.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util.h"

#define ORPHAN_ROUNDS	50	/* passes over /proc before giving up */
#define ORPHAN_BATCH	256	/* orphans killed and awaited per pass */
#define ORPHAN_WAIT_MS	20	/* per pass, for the killed to exit */

/* Make master the reaper of every process below it. */
void
orphans_init(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
}

static int
is_worker(pid_t pid)
{
	for (int i = 1; i < PROC_MAX; i++)
		if (workers[i].pid == pid)
			return 1;
	return 0;
}

/* Parent and state of pid from /proc/PID/stat; -1 if it is gone. */
static int
proc_parent(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, v;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything, so after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %c %d", state,
	    &v) != 2)
		return -1;
	*ppid = (pid_t)v;
	return 0;
}

/* One pass over /proc: SIGKILL each child of master that is no worker. */
static size_t
kill_pass(pid_t self, pid_t *killed, size_t max)
{
	struct dirent *de;
	size_t n = 0;
	pid_t pid, ppid;
	char state;
	DIR *d;

	if ((d = opendir("/proc")) == NULL) {
		log_warn("/proc");
		return 0;
	}
	while (n < max && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (proc_parent(pid, &ppid, &state) == -1 || ppid != self ||
		    is_worker(pid))
			continue;
		if (state != 'Z') {
			log_warnx("killing pid %d, left behind by a worker",
			    (int)pid);
			kill(pid, SIGKILL);
		}
		killed[n++] = pid;
	}
	closedir(d);
	return n;
}

/* Wait (bounded) for the killed orphans; only those pids, so no worker's
 * exit status is taken from the SIGCHLD handler. */
static void
reap_killed(pid_t *killed, size_t n)
{
	size_t left = n;
	int status;

	for (int t = 0; t < ORPHAN_WAIT_MS && left > 0; t++) {
		for (size_t i = 0; i < n; i++)
			if (killed[i] > 0 &&
			    waitpid(killed[i], &status, WNOHANG) != 0) {
				killed[i] = 0;	/* reaped, or not ours */
				left--;
			}
		if (left > 0)
			usleep(1000);
	}
}

/* Kill whatever workers left behind; returns when none is left (bounded). */
void
orphans_reap(void)
{
	pid_t killed[ORPHAN_BATCH], self = getpid();
	size_t n;

	for (int round = 0; round < ORPHAN_ROUNDS; round++) {
		if ((n = kill_pass(self, killed, nitems(killed))) == 0)
			return;
		reap_killed(killed, n);
	}
	log_warnx("processes left by workers still there after %d rounds",
	    ORPHAN_ROUNDS);
}
