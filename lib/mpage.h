/*
 * mpage.h - the metrics listener's three pages (metrics.listen), for the
 * worker that serves it: httpd on a registry host, tunneld on a host that
 * runs no httpd (a relay).  /metrics and /readyz are master's to say (it
 * knows the workers and gathers their parts); /healthz is the serving
 * process itself, up.  What the pages are and how master's answer reads
 * is here once; the HTTP is the serving worker's.
 */
#ifndef RM_MPAGE_H
#define RM_MPAGE_H

#include <stddef.h>

#include "link.h"

#define MPAGE_METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"
#define MPAGE_TEXT_CTYPE	"text/plain; charset=utf-8"
#define MPAGE_TEXT_MAX		1100

enum mpage { MPAGE_METRICS, MPAGE_HEALTHZ, MPAGE_READYZ, MPAGE_NONE };

/* The page of a path. */
enum mpage mpage_route(const char *path);
/* Ask master for the page (MPAGE_METRICS, MPAGE_READYZ) over
 * worker_master(): cb gets its answer; the request's id (link_forget it
 * if the client leaves first). */
uint32_t mpage_ask(enum mpage, link_reply_cb cb, void *arg);

/* What to answer: a status with either a descriptor of size bytes (the
 * metrics page, the caller's to close) or a text. */
struct mpage_answer {
	int		 status;
	const char	*ctype;
	int		 fd;			/* -1: text */
	size_t		 size;
	char		 text[MPAGE_TEXT_MAX];
};

/* The answer to page: a fixed one (MPAGE_HEALTHZ, MPAGE_NONE; m unused),
 * or from master's reply m (NULL: master did not answer). */
void	 mpage_answer(enum mpage, struct msg *m, struct mpage_answer *);

#endif
