/*
 * gc.c - `regmaster gc [--dry-run]`: the command sends its verb over the
 * control socket, master asks gcd (M_GC_RUN) and answers the connection
 * with gcd's summary when the run is over; and the storage usage gcd
 * reports after each run, shown by `regmaster status`.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "master.h"
#include "msgtypes.h"
#include "util.h"

static char *usage;			/* gcd's last report, printable */

/* Text from gcd for a terminal: printable ASCII, tabs and newlines. */
static char *
printable(const struct msg *m)
{
	size_t len = m->v[A_BODY].len;
	const char *p = m->v[A_BODY].p;
	char *s = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++)
		s[i] = (p[i] == '\n' || p[i] == '\t' || (p[i] >= 0x20 &&
		    p[i] < 0x7f)) ? p[i] : '?';
	s[len] = '\0';
	return s;
}

void
gc_usage(struct link *l, struct msg *m)
{
	free(usage);
	usage = printable(m);
}

void
gc_status_text(struct buf *out)
{
	if (usage != NULL && workers[PROC_GCD].enabled)
		buf_puts(out, usage);
}

/* gcd answered (or went away): pass it to the waiting command. */
static void
on_gc_answer(struct link *l, struct msg *m, void *arg)
{
	int fd = (int)(intptr_t)arg;
	char line[1200], *s = NULL;

	if (m == NULL)
		(void)snprintf(line, sizeof(line), "error: gcd went away\n");
	else if (m->type == M_ERR)
		(void)snprintf(line, sizeof(line), "error: %s\n",
		    msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "gcd refused");
	else
		s = printable(m);
	control_write(fd, s ? s : line, strlen(s ? s : line));
	free(s);
	close(fd);
}

int
gc_control(int fd, int dry_run)
{
	struct link *l = workers[PROC_GCD].link;
	struct msgb mb;

	if (l == NULL || workers[PROC_GCD].state != WS_RUNNING)
		return -1;
	msgb_init(&mb, M_GC_RUN);
	msgb_u64(&mb, A_FLAGS, dry_run ? GC_F_DRY_RUN : 0);
	(void)link_request(l, &mb, on_gc_answer, (void *)(intptr_t)fd);
	return 0;
}
