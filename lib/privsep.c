/* privsep.c - chroot, setgroups, setresgid, setresuid, no_new_privs, verified. */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

int
priv_is_root(void)
{
	return geteuid() == 0;
}

/* After dropping, going back to root must fail: prove it. */
static void
priv_verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		fatal("getresuid");
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid)
		fatalx("ids not dropped");
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1)
		fatalx("could regain root after dropping privileges");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		fatalx("no_new_privs not set");
}

static void
priv_nonroot(const char *dir)
{
	if (dir && chdir(dir) == -1)
		fatal("chdir %s", dir);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	log_info("not started as root: running as uid %d without chroot",
	    (int)getuid());
}

void
priv_drop(const char *user, const char *dir, const char *group_of)
{
	struct passwd *pw, *gpw;
	gid_t groups[2];
	uid_t uid;
	gid_t gid;
	int ngroups = 1;

	if (!priv_is_root()) {
		priv_nonroot(dir);
		return;
	}
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	/* getpwnam's answer is overwritten by the next call: copy it */
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	groups[0] = gid;
	if (group_of) {
		if ((gpw = getpwnam(group_of)) == NULL)
			fatalx("unknown user %s", group_of);
		groups[ngroups++] = gpw->pw_gid;
	}
	if (dir) {
		if (chroot(dir) == -1)
			fatal("chroot %s", dir);
		if (chdir("/") == -1)
			fatal("chdir /");
	}
	if (setgroups((size_t)ngroups, groups) == -1)
		fatal("setgroups");
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid");
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	priv_verify(uid, gid);
	log_debug("running as %s in %s", user, dir ? dir : "/");
}
