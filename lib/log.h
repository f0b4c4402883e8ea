/* log.h - process-tagged logging to stderr (foreground) or syslog (daemon). */
#ifndef RM_LOG_H
#define RM_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
/* syslog; standard error (-f); standard error that is a file (time-stamped) */
enum log_dest { LOG_DEST_SYSLOG = 0, LOG_DEST_STDERR = 1, LOG_DEST_FILE = 2 };

void	log_init(const char *procname, int dest);
void	log_setlevel(int level);
int	log_getlevel(void);
int	log_level_parse(const char *name);
const char *log_procname(void);
int	log_getdest(void);
int	log_syslog_fd(void);

void	log_msg(int level, int with_errno, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	fatal_msg(int with_errno, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));

#define log_warn(...)	log_msg(LOG_LVL_WARN, 1, __func__, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, 0, __func__, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, 0, __func__, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, 0, __func__, __VA_ARGS__)
#define fatal(...)	fatal_msg(1, __func__, __VA_ARGS__)
#define fatalx(...)	fatal_msg(0, __func__, __VA_ARGS__)

#endif
