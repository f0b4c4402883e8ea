/* log.c - logging that names the process and the function on every line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_name = "regmaster";
static int log_dest = LOG_DEST_STDERR;
static int log_level = LOG_LVL_INFO;

/* Start logging as procname to dest (enum log_dest). */
void
log_init(const char *procname, int dest)
{
	log_name = procname;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG)
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* "2026-11-28T23:20:01Z " for lines that go to a log file. */
static const char *
log_stamp(void)
{
	static char stamp[32];
	struct tm tm;
	time_t now;

	if (log_dest != LOG_DEST_FILE)
		return "";
	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm) == 0)
		return "";
	return stamp;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

const char *
log_procname(void)
{
	return log_name;
}

/* Map "error", "warning", "info", "debug" to a level; -1 if unknown. */
int
log_level_parse(const char *name)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static void
log_vmsg(int level, int with_errno, const char *func, const char *fmt,
    va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	int saved = errno;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* a log line may be cut: fine */
	if (log_dest != LOG_DEST_SYSLOG) {
		if (with_errno)
			fprintf(stderr, "%s%s[%d]: %s: %s: %s: %s\n",
			    log_stamp(), log_name, (int)getpid(), tag[level],
			    func, msg, strerror(saved));
		else
			fprintf(stderr, "%s%s[%d]: %s: %s: %s\n", log_stamp(),
			    log_name, (int)getpid(), tag[level], func, msg);
	} else {
		if (with_errno)
			syslog(prio[level], "%s: %s: %s", func, msg,
			    strerror(saved));
		else
			syslog(prio[level], "%s: %s", func, msg);
	}
	errno = saved;
}

void
log_msg(int level, int with_errno, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, with_errno, func, fmt, ap);
	va_end(ap);
}

void
fatal_msg(int with_errno, const char *func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, with_errno, func, fmt, ap);
	va_end(ap);
	exit(1);
}
