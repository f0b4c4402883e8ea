/*
 * audit.c - the audit file: master opens it (append-only, never following
 * a symbolic link) and hands it to authd, which writes it; httpd never
 * sees it.  Reopened on every reload, so that logrotate's rename then
 * `regmaster reload` moves the writing to a fresh file; audit.file emptied
 * on reload stops the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static int audit_fd = -1;

/* Open audit.file (none: -1 and errno 0); -1 with errno on failure. */
static int
audit_open_file(void)
{
	const char *path = conf_str(P_AUDIT_FILE);

	if (*path == '\0')
		return errno = 0, -1;
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
}

/* At start: a file that cannot be opened stops the start. */
int
audit_open(void)
{
	if ((audit_fd = audit_open_file()) == -1 && errno != 0) {
		fprintf(stderr, "regmaster: audit.file %s: %s\n",
		    conf_str(P_AUDIT_FILE), strerror(errno));
		return -1;
	}
	return 0;
}

/* On reload: the new file, or none; one that fails to open keeps the old. */
void
audit_reopen(void)
{
	int fd = audit_open_file();

	if (fd == -1 && errno != 0) {
		log_warn("reload: audit.file %s: keeping the one open",
		    conf_str(P_AUDIT_FILE));
		return;
	}
	if (audit_fd != -1)
		close(audit_fd);
	audit_fd = fd;
}

/* authd gets the file (or word that there is none) at its start and after
 * every reload. */
void
audit_send(struct worker *w)
{
	struct msgb mb;
	int fd;

	if (w->id != PROC_AUTHD || w->link == NULL)
		return;
	msgb_init(&mb, M_AUDIT_FD);
	if (audit_fd != -1) {
		if ((fd = dup(audit_fd)) == -1) {
			log_warn("dup");
			msgb_free(&mb);
			return;
		}
		msgb_fd(&mb, A_FD, fd);
	}
	link_notify(w->link, &mb);
}
