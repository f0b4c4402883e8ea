/*
 * racer.c - test helper of test_hardening_master.sh: plays a compromised
 * storaged.  As storaged's user it swaps a directory of the store with a
 * symlink pointing outside the store (renameat2 RENAME_EXCHANGE), over and
 * over, while root's regmaster start walks the store to give it to storaged.
 *
 * usage: racer USER DIR NAME1 NAME2 SECONDS STOPFILE
 * USER "-" keeps the current ids.  Ends when STOPFILE exists or after
 * SECONDS; prints the number of swaps made.
 */
#include <sys/syscall.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE	(1 << 1)
#endif

/* Become user for good, as a worker does. */
static void
drop_to(const char *user)
{
	struct passwd *pw;
	gid_t gid;

	if (strcmp(user, "-") == 0)
		return;
	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "racer: no user %s\n", user);
		exit(2);
	}
	gid = pw->pw_gid;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		perror("racer: drop privileges");
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	unsigned long swaps = 0, i;
	time_t end;
	int dfd;

	if (argc != 7) {
		fprintf(stderr, "usage: racer USER DIR NAME1 NAME2 SECONDS "
		    "STOPFILE\n");
		return 2;
	}
	end = time(NULL) + atoi(argv[5]);
	if ((dfd = open(argv[2], O_RDONLY | O_DIRECTORY)) == -1) {
		perror(argv[2]);
		return 2;
	}
	drop_to(argv[1]);
	for (i = 0;; i++) {
		/* look at the clock and the stop file only now and then */
		if (i % 4096 == 0 && (time(NULL) >= end ||
		    access(argv[6], F_OK) == 0))
			break;
		if (syscall(SYS_renameat2, dfd, argv[3], dfd, argv[4],
		    RENAME_EXCHANGE) == 0)
			swaps++;
		else if (errno == EACCES || errno == EPERM)
			usleep(1000);	/* the store is not storaged's yet */
	}
	printf("%lu\n", swaps);
	return 0;
}
