/*
 * mpage.c - the metrics listener's pages (mpage.h): routes, the question
 * to master, and how its answer becomes a response.
 */
#include <stdio.h>
#include <string.h>

#include "mpage.h"
#include "msg.h"
#include "worker.h"

enum mpage
mpage_route(const char *path)
{
	if (strcmp(path, "/metrics") == 0)
		return MPAGE_METRICS;
	if (strcmp(path, "/healthz") == 0)
		return MPAGE_HEALTHZ;
	if (strcmp(path, "/readyz") == 0)
		return MPAGE_READYZ;
	return MPAGE_NONE;
}

uint32_t
mpage_ask(enum mpage page, link_reply_cb cb, void *arg)
{
	struct msgb mb;

	msgb_init(&mb, page == MPAGE_METRICS ? M_SCRAPE : M_READY_GET);
	return link_request(worker_master(), &mb, cb, arg);
}

static void
answer_text(struct mpage_answer *a, int status, const char *what,
    const char *why)
{
	a->status = status;
	a->ctype = MPAGE_TEXT_CTYPE;
	a->fd = -1;
	if (why != NULL)
		snprintf(a->text, sizeof(a->text), "%s: %s\n", what, why);
	else
		snprintf(a->text, sizeof(a->text), "%s\n", what);
	a->size = strlen(a->text);
}

/* Why master's answer m is not the page. */
static const char *
failure(struct msg *m)
{
	if (m == NULL)
		return "master did not answer";
	return msg_str(m, A_TEXT) ? msg_str(m, A_TEXT) : "no reason given";
}

void
mpage_answer(enum mpage page, struct msg *m, struct mpage_answer *a)
{
	switch (page) {
	case MPAGE_HEALTHZ:
		answer_text(a, 200, "ok", NULL);
		return;
	case MPAGE_NONE:
		answer_text(a, 404, "not found (this listener serves /metrics, "
		    "/healthz and /readyz)", NULL);
		return;
	case MPAGE_READYZ:
		if (m != NULL && m->type == M_DONE)
			answer_text(a, 200, "ready", NULL);
		else
			answer_text(a, 503, "not ready", failure(m));
		return;
	case MPAGE_METRICS:
		if (m == NULL || m->type != M_SCRAPE_PAGE ||
		    (a->fd = msg_take_fd(m, A_FD)) == -1) {
			answer_text(a, 503, "metrics unavailable", failure(m));
			return;
		}
		a->status = 200;
		a->ctype = MPAGE_METRICS_CTYPE;
		a->size = msg_u64(m, A_SIZE, 0);
		return;
	}
}
