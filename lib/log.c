/* log.c - logging that names the process and the function on every line. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <paths.h>
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
static int log_sysfd = -1;	/* our own line to syslogd, for log_syslog_fd */

/*
 * A datagram socket connected to syslogd now, before any chroot: a signal
 * handler can write(2) a line to it where syslog(3) is not safe to call.
 */
static void
log_open_sysfd(void)
{
	struct sockaddr_un sun;

	if (log_sysfd != -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, _PATH_LOG, sizeof(sun.sun_path));
	if ((log_sysfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(log_sysfd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(log_sysfd);
		log_sysfd = -1;
	}
}

/* Start logging as procname to dest (enum log_dest). */
void
log_init(const char *procname, int dest)
{
	log_name = procname;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG) {
		openlog(procname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_open_sysfd();
	} else if (log_sysfd != -1) {
		close(log_sysfd);
		log_sysfd = -1;
	}
}

/* Where lines go (enum log_dest): the SIGSYS handler writes there too. */
int
log_getdest(void)
{
	return log_dest;
}

/* Descriptor connected to syslogd (LOG_DEST_SYSLOG only), or -1. */
int
log_syslog_fd(void)
{
	return log_sysfd;
}

/* "2026-11-28T23:20:01Z " for lines that go to a log file; one buffer per
 * thread, since storaged's task threads log too. */
static const char *
log_stamp(void)
{
	static _Thread_local char stamp[32];
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
